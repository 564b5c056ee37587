# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Who may ask: CIDR allow-lists, the miss lockout, and the per-source PnP reply limit.

All state is in memory and bounded, so a flood of sources cannot grow it without limit.
"""

from __future__ import annotations

import ipaddress

_MAX_SOURCES = 65536


def plain_ip(address):
    """'::ffff:10.0.0.1' -> '10.0.0.1' (IPv4 clients of a dual-stack socket), other addresses unchanged."""
    if address.startswith("::ffff:") and "." in address:
        return address[7:]
    return address


class Networks:
    """A CIDR list; `empty_means_all` decides what an empty list allows."""

    def __init__(self, networks, empty_means_all):
        self.networks = list(networks)
        self.empty_means_all = empty_means_all
        self._cache = {}

    def __contains__(self, address):
        if not self.networks:
            return self.empty_means_all
        found = self._cache.get(address)
        if found is None:
            try:
                ip = ipaddress.ip_address(address)
                found = any(ip.version == net.version and ip in net for net in self.networks)
            except ValueError:
                found = False
            if len(self._cache) >= _MAX_SOURCES:
                self._cache.clear()
            self._cache[address] = found
        return found


class Lockout:
    """A source that misses `misses` different paths within `window` s is refused for `duration` s."""

    def __init__(self, misses, window, duration):
        self.misses, self.window, self.duration = misses, window, duration
        self._missed = {}  # source -> {path: time}
        self._locked = {}  # source -> until

    def is_locked(self, source, now):
        until = self._locked.get(source)
        if until is None:
            return False
        if now < until:
            return True
        del self._locked[source]
        return False

    def miss(self, source, path, now):
        """Count a miss; True when this miss locks the source out."""
        missed = self._missed.get(source)
        if missed is None:
            if len(self._missed) >= _MAX_SOURCES:
                self._forget_oldest()
            missed = self._missed[source] = {}
        horizon = now - self.window
        for old in [p for p, t in missed.items() if t < horizon]:
            del missed[old]
        missed[path] = now
        if len(missed) >= self.misses:
            self._locked[source] = now + self.duration
            del self._missed[source]
            if len(self._locked) > _MAX_SOURCES:
                self._locked.pop(next(iter(self._locked)))
            return True
        return False

    def _forget_oldest(self):
        # dicts keep insertion order: drop the first quarter, the sources tracked longest
        for source in list(self._missed)[: _MAX_SOURCES // 4]:
            del self._missed[source]


class RateLimit:
    """At most `per_source` events per source in each fixed window of `window` seconds."""

    def __init__(self, per_source, window):
        self.per_source, self.window = per_source, window
        self._counts = {}  # source -> [window start, count, dropped]

    def allow(self, source, now):
        """(allowed, first_refusal_in_this_window)."""
        entry = self._counts.get(source)
        if entry is None or now - entry[0] >= self.window:
            if entry is None and len(self._counts) >= _MAX_SOURCES:
                horizon = now - self.window
                self._counts = {s: e for s, e in self._counts.items() if e[0] >= horizon}
            entry = self._counts[source] = [now, 0, 0]
        if entry[1] < self.per_source:
            entry[1] += 1
            return True, False
        entry[2] += 1
        return False, entry[2] == 1
