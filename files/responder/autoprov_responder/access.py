# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What HTTP and TFTP share: the files, the manifest, who may fetch, the miss lockout, and recording fetches."""

from __future__ import annotations

from .files import FileStore, Refused
from .guard import Lockout, Networks
from .manifest import NO_UA, normalise_mac

_SUSPICIOUS = ("bad_path", "ua_mismatch", "auth_failed", "tftp_secret", "locked_out")  # logged as warnings


class Fetch:
    """One request's facts, filled in as it is handled, then recorded and logged."""

    __slots__ = ("time", "proto", "method", "source", "path", "file", "mac", "ua_mac", "vendor", "model", "firmware", "user_agent")

    def __init__(self, now, proto, method, source, path, user_agent=None):
        self.time, self.proto, self.method, self.source, self.path = now, proto, method, source, path[:512]
        self.user_agent = user_agent[:256] if user_agent else None
        self.file = self.mac = self.ua_mac = self.vendor = self.model = self.firmware = None


class FileAccess:
    def __init__(self, config, manifests, store, log):
        self.config = config
        self.manifests = manifests
        self.files = FileStore(config.root)
        self.allow = Networks(config.allow, empty_means_all=True)
        self.lockout = Lockout(config.lockout["misses"], config.lockout["window"], config.lockout["duration"])
        self.store = store
        self.log = log

    def source_refusal(self, source, now):
        """'not_allowed' / 'locked_out' when this source may not fetch anything now, else None."""
        if source not in self.allow:
            return "not_allowed"
        if self.lockout.is_locked(source, now):
            return "locked_out"
        return None

    def miss(self, source, what, now):
        if self.lockout.miss(source, what, now):
            self.log.event("warning", "lockout", src=source, seconds=self.config.lockout["duration"], misses=self.config.lockout["misses"])

    def describe(self, fetch, rel, manifest, ua_info=NO_UA):
        """Fill in file, device and vendor facts of a fetch from the manifest."""
        entry = manifest.files.get(rel)
        fetch.path = rel
        fetch.ua_mac = ua_info.mac
        fetch.model, fetch.firmware = ua_info.model, ua_info.firmware
        if entry is not None:
            fetch.file = rel
            fetch.mac = entry.mac or ua_info.mac
            fetch.vendor = entry.vendor or ua_info.vendor
        else:
            fetch.mac = ua_info.mac
            fetch.vendor = ua_info.vendor
        return entry

    @staticmethod
    def ua_matches_file(manifest, entry, user_agent):
        """The User-Agent gate for a device's secret file (docs/responder.md, "Security model").

        Only for vendors whose pattern has a `mac` group: the User-Agent must match the
        pattern, and when the pattern captured a MAC it must be the file's. A pattern whose
        MAC is optional (firmware that sends none) lets such a User-Agent through.
        """
        vendor = manifest.vendors.get(entry.vendor)
        if entry.mac is None or vendor is None or not vendor.ua_has_mac:
            return True
        match = vendor.user_agent.search(user_agent or "")
        if not match:
            return False
        mac = match.group("mac")
        return mac is None or normalise_mac(mac) == entry.mac

    def lookup(self, rel):
        """The verified file (files.FileStore.lookup); Refused when it is not served."""
        return self.files.lookup(rel)

    def record(self, fetch, status, reason=None, sent=0, sha256=None):
        self.store.fetch(
            {
                "time": fetch.time,
                "proto": fetch.proto,
                "method": fetch.method[:16],
                "source": fetch.source,
                "path": fetch.path,
                "file": fetch.file,
                "mac": fetch.mac,
                "ua_mac": fetch.ua_mac,
                "vendor": fetch.vendor,
                "model": fetch.model,
                "firmware": fetch.firmware,
                "user_agent": fetch.user_agent,
                "status": status,
                "reason": reason,
                "bytes": sent,
                "sha256": sha256,
            },
            known=fetch.mac is not None and fetch.mac in self.manifests.get().devices,
        )
        self.log.event(
            "warning" if reason in _SUSPICIOUS else "info",
            "fetch",
            proto=fetch.proto,
            src=fetch.source,
            method=fetch.method[:16],
            path=fetch.path,
            status=status,
            reason=reason,
            bytes=sent,
            mac=fetch.mac,
            ua=fetch.user_agent,
        )


__all__ = ["FileAccess", "Fetch", "Refused"]
