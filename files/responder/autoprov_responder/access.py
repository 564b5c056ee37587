# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What HTTP and TFTP share: the files, the manifest, who may fetch, the lockouts, the
provisioning window and device bindings, and recording fetches (docs/responder.md,
"Security model").
"""

from __future__ import annotations

import os

from .auth import FAILED, MISSING, OK, REFUSED, STALE, Authenticator
from .bindings import Bindings
from .files import FileStore, Refused, named_file
from .guard import MISS, DeviceLock, Lockout, Networks
from .manifest import NO_UA, normalise_mac

_SUSPICIOUS = (
    "bad_path",
    "not_listed",
    "ua_mismatch",
    "auth_failed",
    "basic_refused",
    "tftp_secret",
    "locked_out",
    "bound_elsewhere",
    "device_locked",
)  # logged as warnings
_VERDICT_REASONS = {MISSING: "auth_required", STALE: "auth_required", REFUSED: "basic_refused", FAILED: "auth_failed"}
_LIFT_MARGIN = 5.0  # seconds: misses counted just before the root was seen gone are forgiven too


class Fetch:
    """One request's facts, filled in as it is handled, then recorded and logged."""

    __slots__ = (
        "time",
        "proto",
        "method",
        "source",
        "path",
        "file",
        "mac",
        "ua_mac",
        "vendor",
        "model",
        "firmware",
        "user_agent",
        "credential",
    )

    def __init__(self, now, proto, method, source, path, user_agent=None):
        self.time, self.proto, self.method, self.source, self.path = now, proto, method, source, path[:512]
        self.user_agent = user_agent[:256] if user_agent else None
        self.file = self.mac = self.ua_mac = self.vendor = self.model = self.firmware = None
        self.credential = None  # the kind of pair it proved (AuthConfig: shared, device, previous)


def _lockout(settings):
    return Lockout(settings["misses"], settings["window"], settings["duration"], settings["auth_failures"], settings["max_duration"])


class FileAccess:
    def __init__(self, config, manifests, store, log, bindings=None):
        self.config = config
        self.manifests = manifests
        self.files = FileStore(config.root)
        self.allow = Networks(config.allow, empty_means_all=True)
        self.lockout = _lockout(config.lockout)
        self.tftp_lockout = _lockout(config.lockout)  # TFTP is UDP: its misses may be spoofed, they lock TFTP only
        limits = config.lockout
        self.device_lock = DeviceLock(limits["device_failures"], limits["window"], limits["duration"], limits["max_duration"])
        self.bindings = bindings if bindings is not None else Bindings(config.bindings, log)
        self.auth = config.auth
        self.authenticator = Authenticator(config.auth.realm, basic_over_http=config.auth.basic_over_http) if config.auth else None
        self.store = store
        self.log = log
        self._down_since = None  # when the root (or a valid manifest) was first seen missing
        self._manifest_version = None

    # --- sources -----------------------------------------------------------------------------
    def source_refusal(self, source, now, proto="http"):
        """'not_allowed' / 'locked_out' when this source may not fetch anything now, else None.

        An HTTP lockout holds for TFTP too (TCP sources are real); a TFTP lockout only for TFTP.
        """
        if source not in self.allow:
            return "not_allowed"
        locks = (self.lockout, self.tftp_lockout) if proto == "tftp" else (self.lockout,)
        if any(lock.is_locked(source, now) for lock in locks):
            self._serving(now)  # the root may be back: that lifts lockouts its absence caused
            if any(lock.is_locked(source, now) for lock in locks):
                return "locked_out"
        return None

    def miss(self, source, what, now, proto="http"):
        """A request for something the manifest does not list. It does not count while nothing can be
        served (root missing or unreadable, no valid manifest), nor for a file the manifest lists."""
        if not self._serving(now) or what in self.manifests.get().files:
            return
        lock = self.tftp_lockout if proto == "tftp" else self.lockout
        if lock.miss(source, what, now):
            self.log.event("warning", "lockout", src=source, proto=proto, cause="misses", seconds=lock.seconds_left(source, now))

    def auth_failure(self, source, mac, now):
        """Wrong credentials: counted per source, and per device across sources."""
        if self.lockout.failure(source, now):
            self.log.event("warning", "lockout", src=source, cause="auth_failures", seconds=self.lockout.seconds_left(source, now))
        if mac is not None and mac in self.manifests.get().devices and self.device_lock.failure(mac, now):
            self.log.event("warning", "device_locked", mac=mac, seconds=self.device_lock.seconds_left(mac, now))

    def _serving(self, now):
        """True while the root is readable and holds a valid manifest; notes outages and what they caused."""
        root = self.config.root
        up = os.path.isdir(root) and os.access(root, os.R_OK | os.X_OK) and self.manifests.get().valid
        if not up:
            if self._down_since is None:
                self._down_since = now
                self.log.event("warning", "root_unavailable", root=root, detail="misses do not count until it is back")
            return False
        if self._down_since is not None:
            since, self._down_since = self._down_since - _LIFT_MARGIN, None
            self.lockout.lift(MISS, since)
            self.tftp_lockout.lift(MISS, since)
            self.log.event("info", "root_available", root=root, detail="lockouts for misses since it was gone are lifted")
        return True

    # --- files -------------------------------------------------------------------------------
    def resolve(self, rel, manifest):
        """(manifest entry or None for a public-dir file, verified file) for a relative path.

        Refused: no_manifest (nothing is served without a valid one), not_listed (neither in
        `files` nor under `public_dirs`), not_found, bad_path (files.FileStore), updating (the
        content on disk is not the one the manifest vouches for: a run of device_configs is
        between writing the file and writing the manifest).
        """
        if not manifest.valid:
            raise Refused("no_manifest")
        rel = named_file(rel)
        entry = manifest.files.get(rel)
        if entry is None:
            if not manifest.is_public(rel):
                raise Refused("not_listed")
            return None, self.files.lookup(rel)
        found = self.files.lookup(rel)
        if found.sha256 != entry.sha256:
            raise Refused("updating")
        return entry, found

    def lookup(self, rel):
        """The verified file, under the same rules as resolve() (TFTP uses this); Refused when not served."""
        return self.resolve(rel, self.manifests.get())[1]

    # --- devices -----------------------------------------------------------------------------
    def window_open(self, device, now):
        """A device's provisioning window: from its manifest `window` stamp, provisioning_window seconds long."""
        if device is None or device.window is None:
            return False
        seconds = self.config.provisioning_window
        return not seconds or now < device.window + seconds

    def device_refusal(self, entry, source, now):
        """For a secret file of a device: None when `source` may have it now, else why not.

        Bound (fetched once in this window): only from that address. Not bound: only while the
        window is open. Locked (guessing its password from many sources): only its bound address.
        """
        if entry is None or entry.mac is None or not entry.secret:
            return None
        self._sync_devices()
        device = self.manifests.get().devices.get(entry.mac)
        bound = self.bindings.source(entry.mac, device.window if device is not None else None)
        if bound is not None:
            return None if bound == source else "bound_elsewhere"
        if self.device_lock.is_locked(entry.mac, now):
            return "device_locked"
        return None if self.window_open(device, now) else "window_closed"

    def pnp_refusal(self, device, source, now):
        """For a PnP SUBSCRIBE of a known device: the same gate as its secret files (the NOTIFY carries
        the device's credentials): its bound address only, or anyone while its window is open."""
        self._sync_devices()
        bound = self.bindings.source(device.mac, device.window)
        if bound is not None:
            return None if bound == source else "bound_elsewhere"
        return None if self.window_open(device, now) else "window_closed"

    def bound_to(self, device, source):
        """Whether a known device is bound to this address (its first secret fetch in its window came from there)."""
        self._sync_devices()
        return self.bindings.source(device.mac, device.window) == source

    def admit(self, entry, source, now):
        """The secret file goes out: the first fetch in a window binds the device to this address."""
        if entry is None or entry.mac is None or not entry.secret:
            return
        device = self.manifests.get().devices.get(entry.mac)
        if device is not None and self.bindings.source(entry.mac, device.window) is None:
            self.bindings.bind(entry.mac, device.window, source, now)

    def _sync_devices(self):
        if self._manifest_version != self.manifests.version and self.manifests.get().valid:
            self._manifest_version = self.manifests.version
            known = self.manifests.get().devices
            self.bindings.forget(known)
            self.device_lock.forget(known)

    # --- HTTP credentials --------------------------------------------------------------------
    def http_gate(self, headers, method, target, entry, fetch, now, tls):
        """None when the request may have the file as far as credentials go, else (status, reason, headers).

        A secret file needs auth configured, the device gate (device_refusal) and valid
        credentials: the device's own pair, or the PBX-wide one (AuthConfig.identify); the kind
        of pair proven goes into fetch.credential.
        """
        source = fetch.source
        secret = entry is not None and entry.secret
        if self.auth is None:
            return (403, "no_credentials", ()) if secret else None
        if not (secret or self.auth.scope == "all"):
            return None
        refusal = self.device_refusal(entry, source, now)
        if refusal is not None:
            return 403, refusal, ()
        mac = entry.mac if entry is not None else None
        verdict, identity = self.authenticator.check(
            headers.get("authorization"), method, target, lambda user: self.auth.identify(user, mac, now), source, tls
        )
        if verdict == OK:
            fetch.credential = identity[0]
            return None
        if verdict == FAILED:
            self.auth_failure(source, mac, now)
            if self.lockout.is_locked(source, now):
                return 403, "locked_out", ()
        challenges = self.authenticator.challenges(stale=verdict == STALE, source=source, tls=tls)
        return 401, _VERDICT_REASONS[verdict], [("WWW-Authenticate", c) for c in challenges]

    def describe(self, fetch, rel, manifest, ua_info=NO_UA):
        """Fill in file, device and vendor facts of a fetch from the manifest (path: as asked, under the root)."""
        name = named_file(rel)
        entry = manifest.files.get(name)
        fetch.path = rel
        fetch.ua_mac = ua_info.mac
        fetch.model, fetch.firmware = ua_info.model, ua_info.firmware
        if entry is not None:
            fetch.file = name
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
                "credential": fetch.credential,
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
            credential=fetch.credential,
        )


__all__ = ["FileAccess", "Fetch", "Refused"]
