"""Lockout, per-source limits and allow-lists."""

from __future__ import annotations

import ipaddress

from autoprov_responder.guard import DeviceLock, Lockout, Networks, RateLimit, plain_ip


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


def test_wrong_credentials_lock_out_with_doubling_backoff():
    """5 wrong answers in 300 s lock for 900 s; each lockout in a row lasts twice as long, up to a day,
    and stays a day until the source has been quiet for a day: 5 guesses a day per source in the long run."""
    lock = Lockout(misses=10, window=300, duration=900, auth_failures=5, max_duration=86400)
    now, lengths = 0.0, []
    for _unused in range(9):
        assert [lock.failure("192.0.2.9", now + i) for i in range(5)] == [False] * 4 + [True]
        now += 4
        lengths.append(lock.seconds_left("192.0.2.9", now))
        assert lock.is_locked("192.0.2.9", now) and not lock.is_locked("192.0.2.10", now)
        now += lengths[-1]
        assert not lock.is_locked("192.0.2.9", now)
    assert lengths == [900, 1800, 3600, 7200, 14400, 28800, 57600, 86400, 86400]
    # wrong credentials count every time, the same file or not: repeating one guess is no way around it
    other = Lockout(misses=10, window=300, duration=900, auth_failures=5)
    assert [other.failure("192.0.2.11", 1.0) for _unused in range(5)][-1] is True


def test_a_device_locks_against_guessing_from_many_sources():
    lock = DeviceLock(failures=20, window=300, duration=900, max_duration=86400)
    assert not any(lock.failure("001565aabb01", float(i)) for i in range(19))
    assert lock.failure("001565aabb01", 19.0) and lock.is_locked("001565aabb01", 100.0)
    assert not lock.is_locked("001565aabb01", 19.0 + 900) and not lock.is_locked("001565aabb02", 100.0)
    lock.failure("001565aabb03", 1.0)
    lock.forget({"001565aabb01"})
    assert not lock.failure("001565aabb03", 2.0)  # forgotten: counting starts again
    assert [lock.failure("001565aabb01", 1000.0 + i) for i in range(20)][-1] and lock.is_locked("001565aabb01", 1019.0 + 1799)


def test_probing_blocks_the_source():
    rate = RateLimit(per_source=10, window=10, block=300)
    assert all(rate.allow("192.0.2.9", 0.0)[0] for _unused in range(10))
    assert rate.allow("192.0.2.9", 1.0) == (False, True)
    assert rate.blocked("192.0.2.9", 200.0) and not rate.blocked("192.0.2.9", 302.0)
    assert rate.allow("192.0.2.10", 1.0)[0]
