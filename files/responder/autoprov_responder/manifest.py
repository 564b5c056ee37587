# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The config root's manifest (docs/manifest.md): which devices and files are ours, and vendor facts.

The responder knows nothing about vendors by itself: User-Agent patterns, PnP
vendor names and the NOTIFY body form all come from here.
"""

from __future__ import annotations

import json
import os
import re
import time

MANIFEST = ".autoprov-manifest.json"
FORMAT = 1
_MAC = re.compile(r"^[0-9a-f]{12}$")
_UA_CACHE_SIZE = 4096


class ManifestError(Exception):
    pass


class FileEntry:
    __slots__ = ("name", "sha256", "mac", "vendor", "secret")

    def __init__(self, name, sha256, mac, vendor, secret):
        self.name, self.sha256, self.mac, self.vendor, self.secret = name, sha256, mac, vendor, secret


class Device:
    __slots__ = ("mac", "vendor", "model", "files")

    def __init__(self, mac, vendor, model, files):
        self.mac, self.vendor, self.model, self.files = mac, vendor, model, files


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
    def __init__(self, files=None, devices=None, vendors=None, provisioning_url=None):
        self.files = files or {}
        self.devices = devices or {}
        self.vendors = vendors or {}
        self.provisioning_url = provisioning_url
        self._by_pnp_name = {}
        for vendor in self.vendors.values():
            for name in vendor.pnp_names:
                self._by_pnp_name.setdefault(name, vendor.key)
        self._ua_cache = {}

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


def _fail(path, what):
    raise ManifestError("%s: %s" % (path, what))


def parse(data, path="manifest"):
    """A Manifest from the decoded JSON; raises ManifestError naming the entry at fault."""
    if not isinstance(data, dict):
        _fail(path, "not a JSON object")
    if data.get("format") != FORMAT:
        _fail(path, "format %r; this responder reads format %d" % (data.get("format"), FORMAT))
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
    files = {}
    for name, raw in (data.get("files") or {}).items():
        if not isinstance(raw, dict):
            _fail(path, "files.%s: not an object" % name)
        mac = raw.get("mac")
        if mac is not None and not (isinstance(mac, str) and _MAC.match(mac)):
            _fail(path, "files.%s.mac: %r is not 12 lowercase hex digits or null" % (name, mac))
        files[name] = FileEntry(name, raw.get("sha256"), mac, raw.get("vendor"), bool(raw.get("secret")))
    devices = {}
    for mac, raw in (data.get("devices") or {}).items():
        if not _MAC.match(mac):
            _fail(path, "devices: %r is not 12 lowercase hex digits" % mac)
        if not isinstance(raw, dict):
            _fail(path, "devices.%s: not an object" % mac)
        devices[mac] = Device(mac, raw.get("vendor"), raw.get("model"), list(raw.get("files") or []))
    return Manifest(files, devices, vendors, data.get("provisioning_url"))


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
        self.current = Manifest()
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
        except FileNotFoundError:
            stamp = None
        if stamp == self._stamp and not force:
            return
        self._stamp = stamp
        if stamp is None:
            self.current = Manifest()
            self.log.event("warning", "manifest_missing", path=self.path)
            return
        try:
            self.current = load(self.path)
        except (OSError, ManifestError) as exc:  # keep serving with the last good one
            self.log.event("error", "manifest_invalid", path=self.path, error=str(exc))
            return
        self.log.event("info", "manifest_loaded", path=self.path, devices=len(self.current.devices), files=len(self.current.files))
