"""Lockout, per-source limits and allow-lists."""

from __future__ import annotations

import ipaddress

from autoprov_responder.guard import Lockout, Networks, RateLimit, plain_ip


def test_lockout_counts_different_paths_in_a_window():
    lock = Lockout(misses=3, window=10, duration=60)
    assert not lock.miss("a", "/x", 0) and not lock.miss("a", "/x", 1)  # the same path twice: one miss
    assert not lock.miss("a", "/y", 2)
    assert not lock.is_locked("a", 2)
    assert not lock.miss("a", "/z", 20)  # /x and /y fell out of the window
    assert not lock.miss("a", "/w", 21)
    assert lock.miss("a", "/v", 22)
    assert lock.is_locked("a", 50) and not lock.is_locked("b", 50)
    assert not lock.is_locked("a", 83)


def test_rate_limit_per_source_and_window():
    rate = RateLimit(per_source=2, window=10)
    assert rate.allow("a", 0) == (True, False) and rate.allow("a", 1) == (True, False)
    assert rate.allow("a", 2) == (False, True)  # the first refusal of the window is flagged
    assert rate.allow("a", 3) == (False, False)
    assert rate.allow("b", 3) == (True, False)
    assert rate.allow("a", 10) == (True, False)


def test_networks():
    nets = Networks([ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("2001:db8::/32")], empty_means_all=False)
    assert "10.1.2.3" in nets and "2001:db8::1" in nets and "192.0.2.1" not in nets and "garbage" not in nets
    assert "192.0.2.1" in Networks([], empty_means_all=True) and "192.0.2.1" not in Networks([], empty_means_all=False)
    assert plain_ip("::ffff:10.0.0.1") == "10.0.0.1" and plain_ip("2001:db8::1") == "2001:db8::1"
