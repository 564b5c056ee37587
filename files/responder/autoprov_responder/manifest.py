# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The config root's manifest (docs/manifest.md): which devices and files are ours, and vendor facts.

The responder knows nothing about vendors by itself: User-Agent patterns, PnP
vendor names and the NOTIFY body form all come from here. Nor does it serve
anything the manifest does not list: without a valid manifest nothing is served.
"""

from __future__ import annotations

import json
import os
import re
import time

MANIFEST = ".autoprov-manifest.json"
FORMAT = 2  # 2: files not listed are refused, devices carry their provisioning window
_MAC = re.compile(r"^[0-9a-f]{12}$")
_UA_CACHE_SIZE = 4096


class ManifestError(Exception):
    pass


class FileEntry:
    __slots__ = ("name", "sha256", "mac", "vendor", "secret")

    def __init__(self, name, sha256, mac, vendor, secret):
        self.name, self.sha256, self.mac, self.vendor, self.secret = name, sha256, mac, vendor, secret


class Device:
    __slots__ = ("mac", "vendor", "model", "files", "window")

    def __init__(self, mac, vendor, model, files, window=None):
        self.mac, self.vendor, self.model, self.files = mac, vendor, model, files
        self.window = window  # when its provisioning window opened (epoch seconds), None: never


class Vendor:
    __slots__ = ("key", "name", "user_agent", "ua_has_mac", "pnp_names", "pnp_url")

    def __init__(self, key, name, user_agent, pnp_names, pnp_url):
        self.key, self.name, self.user_agent, self.pnp_names, self.pnp_url = key, name, user_agent, pnp_names, pnp_url
        self.ua_has_mac = bool(user_agent is not None and "mac" in user_agent.groupindex)


class UserAgentInfo:
    __slots__ = ("vendor", "mac", "model", "firmware")

    def __init__(self, vendor, mac, model, firmware):
        self.vendor, self.mac, self.model, self.firmware = vendor, mac, model, firmware


NO_UA = UserAgentInfo(None, None, None, None)


def normalise_mac(text):
    """'00:15:65:AA:BB:01', '001565-aabb01' ... -> '001565aabb01', or None."""
    if not text:
        return None
    mac = re.sub(r"[:.\-\s]", "", text).lower()
    return mac if _MAC.match(mac) else None


class Manifest:
    """valid is False for the stand-in used while there is no usable manifest: then nothing is served."""

    def __init__(self, files=None, devices=None, vendors=None, provisioning_url=None, public_dirs=(), valid=True):
        self.files = files or {}
        self.devices = devices or {}
        self.vendors = vendors or {}
        self.provisioning_url = provisioning_url
        self.public_dirs = tuple(d.rstrip("/") + "/" for d in public_dirs)
        self.valid = valid
        self._by_pnp_name = {}
        for vendor in self.vendors.values():
            for name in vendor.pnp_names:
                self._by_pnp_name.setdefault(name, vendor.key)
        self._ua_cache = {}

    def is_public(self, rel):
        """A file under one of the manifest's public_dirs (firmware), served to anyone without credentials."""
        return any(rel.startswith(prefix) for prefix in self.public_dirs)

    def vendor_for_pnp_name(self, name):
        """The vendor key whose pnp_names holds this Event vendor= value (case-insensitive)."""
        return self._by_pnp_name.get((name or "").strip().lower())

    def user_agent(self, text):
        """Vendor, MAC, model, firmware read from an HTTP User-Agent with the manifest's patterns."""
        if not text:
            return NO_UA
        info = self._ua_cache.get(text)
        if info is None:
            info = NO_UA
            for vendor in self.vendors.values():
                match = vendor.user_agent.search(text) if vendor.user_agent is not None else None
                if match:
                    groups = match.groupdict()
                    info = UserAgentInfo(vendor.key, normalise_mac(groups.get("mac")), groups.get("model"), groups.get("firmware"))
                    break
            if len(self._ua_cache) >= _UA_CACHE_SIZE:
                self._ua_cache.clear()
            self._ua_cache[text] = info
        return info


NO_MANIFEST = Manifest(valid=False)


def _fail(path, what):
    raise ManifestError("%s: %s" % (path, what))


def parse(data, path="manifest"):
    """A Manifest from the decoded JSON; raises ManifestError naming the entry at fault."""
    if not isinstance(data, dict):
        _fail(path, "not a JSON object")
    if data.get("format") != FORMAT:
        _fail(
            path,
            "format %r; this responder reads format %d only (device_configs of the same collection version writes it)"
            % (data.get("format"), FORMAT),
        )
    vendors = _vendors(data, path)
    files = _files(data, path)
    devices = _devices(data, path)
    return Manifest(files, devices, vendors, data.get("provisioning_url"), _public_dirs(data, path))


def _vendors(data, path):
    vendors = {}
    for key, raw in (data.get("vendors") or {}).items():
        if not isinstance(raw, dict):
            _fail(path, "vendors.%s: not an object" % key)
        pattern = raw.get("user_agent")
        try:
            regex = re.compile(pattern, re.I) if pattern else None
        except (re.error, TypeError) as exc:
            _fail(path, "vendors.%s.user_agent: not a regular expression: %s" % (key, exc))
        names = raw.get("pnp_names") or []
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            _fail(path, "vendors.%s.pnp_names: must be a list of strings" % key)
        pnp_url = raw.get("pnp_url", "{url}")
        if not isinstance(pnp_url, str) or not pnp_url:
            _fail(path, 'vendors.%s.pnp_url: must be a string such as "{url}"' % key)
        try:
            pnp_url.format(url="", mac="", MAC="")
        except (KeyError, IndexError, ValueError) as exc:
            _fail(path, "vendors.%s.pnp_url: %r uses an unknown placeholder (%s); valid: {url}, {mac}, {MAC}" % (key, pnp_url, exc))
        vendors[key] = Vendor(key, raw.get("name") or key, regex, tuple(n.lower() for n in names), pnp_url)
    return vendors


def _files(data, path):
    files = {}
    for name, raw in (data.get("files") or {}).items():
        if not isinstance(raw, dict):
            _fail(path, "files.%s: not an object" % name)
        mac = raw.get("mac")
        if mac is not None and not (isinstance(mac, str) and _MAC.match(mac)):
            _fail(path, "files.%s.mac: %r is not 12 lowercase hex digits or null" % (name, mac))
        sha256 = raw.get("sha256")
        if not (isinstance(sha256, str) and re.match(r"^[0-9a-f]{64}$", sha256)):
            _fail(path, "files.%s.sha256: %r is not a SHA-256 (64 lowercase hex digits)" % (name, sha256))
        files[name] = FileEntry(name, sha256, mac, raw.get("vendor"), raw.get("secret") is not False)
    return files


def _devices(data, path):
    devices = {}
    for mac, raw in (data.get("devices") or {}).items():
        if not _MAC.match(mac):
            _fail(path, "devices: %r is not 12 lowercase hex digits" % mac)
        if not isinstance(raw, dict):
            _fail(path, "devices.%s: not an object" % mac)
        window = raw.get("window")
        if window is not None and (isinstance(window, bool) or not isinstance(window, (int, float))):
            _fail(path, "devices.%s.window: %r is not a time (seconds since the epoch) or null" % (mac, window))
        devices[mac] = Device(mac, raw.get("vendor"), raw.get("model"), list(raw.get("files") or []), window)
    return devices


def _public_dirs(data, path):
    dirs = data.get("public_dirs") or []
    if not isinstance(dirs, list):
        _fail(path, 'public_dirs: must be a list of directories such as "firmware"')
    for item in dirs:
        parts = item.strip("/").split("/") if isinstance(item, str) else [""]
        if not isinstance(item, str) or item.startswith("/") or any(not p or p.startswith(".") for p in parts):
            _fail(path, "public_dirs: %r is not a relative directory without '.' segments, e.g. \"firmware\"" % (item,))
    return dirs


def load(path):
    """Read and parse; FileNotFoundError when absent, ManifestError when unusable."""
    with open(path, "rb") as handle:
        raw = handle.read()
    try:
        data = json.loads(raw.decode("utf-8"))
    except ValueError as exc:
        _fail(path, "not valid JSON: %s" % exc)
    return parse(data, path)


class ManifestWatcher:
    """The current manifest; re-read when its file changes (checked at most once a second)."""

    def __init__(self, root, log, check_interval=1.0):
        self.path = os.path.join(root, MANIFEST)
        self.log = log
        self.check_interval = check_interval
        self.current = NO_MANIFEST
        self.version = 0  # counts the manifests loaded (readers that keep per-device state compare it)
        self._stamp = None
        self._next_check = 0.0
        self.reload(force=True)

    def get(self):
        now = time.monotonic()
        if now >= self._next_check:
            self._next_check = now + self.check_interval
            self.reload()
        return self.current

    def reload(self, force=False):
        try:
            st = os.stat(self.path)
            stamp = (st.st_ino, st.st_mtime_ns, st.st_size)
        except OSError:  # absent, or the root unreadable: no manifest
            stamp = None
        if stamp == self._stamp and not force:
            return
        self._stamp = stamp
        self.version += 1
        if stamp is None:
            self.current = NO_MANIFEST
            self.log.event("warning", "manifest_missing", path=self.path, detail="no file is served until device_configs writes it")
            return
        try:
            self.current = load(self.path)
        except (OSError, ManifestError) as exc:  # fail closed: no valid manifest, nothing served
            self.current = NO_MANIFEST
            self.log.event("error", "manifest_invalid", path=self.path, error=str(exc), detail="no file is served until it is valid")
            return
        self.log.event("info", "manifest_loaded", path=self.path, devices=len(self.current.devices), files=len(self.current.files))
