# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Who may ask: CIDR allow-lists, the miss and wrong-credential lockouts, and the per-source PnP limits.

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


MISS, AUTH = "miss", "auth"  # what caused a lockout


class Lockout:
    """Locks a source out after `misses` different missing paths, or `auth_failures` wrong
    credentials, within `window` seconds.

    The first lockout lasts `duration` seconds, each further one (while the source keeps
    getting locked) twice as long, up to `max_duration`: a guesser's rate falls off
    geometrically, a phone that misconfigured itself once is back after `duration`.
    """

    def __init__(self, misses, window, duration, auth_failures=5, max_duration=86400):
        self.misses, self.window, self.duration = misses, window, duration
        self.auth_failures, self.max_duration = auth_failures, max(max_duration, duration)
        self._missed = {}  # source -> {path: time}
        self._failed = {}  # source -> [times]
        self._locked = {}  # source -> (until, cause, since)
        self._strikes = {}  # source -> (lockouts in a row, when the last one ends)

    def is_locked(self, source, now):
        lock = self._locked.get(source)
        if lock is None:
            return False
        if now < lock[0]:
            return True
        del self._locked[source]
        return False

    def miss(self, source, path, now):
        """Count a miss (a path asked again is no new miss); True when this miss locks the source out."""
        missed = self._entry(self._missed, source, dict)
        horizon = now - self.window
        for old in [p for p, t in missed.items() if t < horizon]:
            del missed[old]
        missed[path] = now
        if len(missed) < self.misses:
            return False
        self._lock(source, now, MISS)
        return True

    def failure(self, source, now):
        """Count wrong credentials (every one: guessing one file's password is guessing); True when it locks."""
        failed = self._entry(self._failed, source, list)
        horizon = now - self.window
        failed[:] = [t for t in failed if t >= horizon]
        failed.append(now)
        if len(failed) < self.auth_failures:
            return False
        self._lock(source, now, AUTH)
        return True

    def seconds_left(self, source, now):
        lock = self._locked.get(source)
        return max(0, int(lock[0] - now)) if lock else 0

    def lift(self, cause, since):
        """End the lockouts of this cause that began at or after `since` (misses while the root was gone)."""
        for source in [s for s, lock in self._locked.items() if lock[1] == cause and lock[2] >= since]:
            del self._locked[source]
        if cause == MISS:
            self._missed.clear()

    def _lock(self, source, now, cause):
        count, last_end = self._strikes.get(source, (0, now))
        count = count + 1 if now - last_end < self.max_duration else 1  # a day's quiet after a lockout forgives
        seconds = min(self.duration * 2 ** min(count - 1, 32), self.max_duration)
        self._strikes[source] = (count, now + seconds)
        self._locked[source] = (now + seconds, cause, now)
        self._missed.pop(source, None)
        self._failed.pop(source, None)
        for table in (self._locked, self._strikes):
            if len(table) > _MAX_SOURCES:
                table.pop(next(iter(table)))

    @staticmethod
    def _entry(table, source, kind):
        entry = table.get(source)
        if entry is None:
            if len(table) >= _MAX_SOURCES:
                # dicts keep insertion order: drop the first quarter, the sources tracked longest
                for old in list(table)[: _MAX_SOURCES // 4]:
                    del table[old]
            entry = table[source] = kind()
        return entry


class DeviceLock:
    """Wrong credentials for one device's files, from any source: `failures` within `window`
    seconds lock that device's files against every source but the one it is bound to (guessing
    spread over many addresses; the phone itself keeps its files), with the same doubling as
    Lockout. Only MACs of the manifest are tracked, so the table is as large as the fleet at most."""

    def __init__(self, failures, window, duration, max_duration=86400):
        self._lock = Lockout(1 << 30, window, duration, auth_failures=failures, max_duration=max_duration)

    def is_locked(self, mac, now):
        return self._lock.is_locked(mac, now)

    def failure(self, mac, now):
        """Count one; True when this failure locks the device."""
        return self._lock.failure(mac, now)

    def seconds_left(self, mac, now):
        return self._lock.seconds_left(mac, now)

    def forget(self, known):
        """Drop MACs no longer in the manifest."""
        for table in (self._lock._failed, self._lock._locked, self._lock._strikes):
            for mac in [m for m in table if m not in known]:
                del table[mac]


class RateLimit:
    """At most `per_source` events per source in each fixed window of `window` seconds.

    With `block`, a source that goes over the limit is refused everything for `block` seconds
    (PnP probes for unknown MACs: enumerating which MACs a PBX knows becomes slow).
    """

    def __init__(self, per_source, window, block=0):
        self.per_source, self.window, self.block = per_source, window, block
        self._counts = {}  # source -> [window start, count, dropped, blocked until]

    def allow(self, source, now):
        """(allowed, first_refusal_in_this_window)."""
        entry = self._counts.get(source)
        if entry is not None and now < entry[3]:
            entry[2] += 1
            return False, False
        if entry is None or now - entry[0] >= self.window:
            if entry is None and len(self._counts) >= _MAX_SOURCES:
                horizon = now - max(self.window, self.block)
                self._counts = {s: e for s, e in self._counts.items() if e[0] >= horizon or e[3] > now}
            entry = self._counts[source] = [now, 0, 0, 0.0]
        if entry[1] < self.per_source:
            entry[1] += 1
            return True, False
        entry[2] += 1
        if self.block:
            entry[3] = now + self.block
        return False, entry[2] == 1

    def blocked(self, source, now):
        entry = self._counts.get(source)
        return entry is not None and now < entry[3]
