# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The configuration: JSON file + command-line overrides, checked as a whole.

Every problem is reported (not only the first), naming the key and what would
be valid; docs/responder.md is the contract.
"""

from __future__ import annotations

import calendar
import ipaddress
import json
import os
import re
import socket
import ssl
import time
from urllib.parse import unquote, urlsplit

from . import manifest
from .auth import device_key_from_password, device_password

MAC_RE = re.compile(r"^[0-9a-f]{12}$")
LOG_LEVELS = ("debug", "info", "warning", "error")
_HTTP_LIMITS = {
    "request_line": 4096,
    "header_bytes": 8192,
    "headers": 64,
    "header_timeout": 10,
    "idle_timeout": 15,
    "max_connections": 1024,
    "per_source": 32,
    "reserve": 64,
    "stall_timeout": 20,
}
_LOCKOUT = {"misses": 10, "auth_failures": 5, "device_failures": 20, "window": 300, "duration": 900, "max_duration": 86400}
_PNP_RATE = {"per_source": 20, "window": 10, "unknown": 10, "block": 300, "notify": 5, "amplification": 3}
_PROVISIONING_WINDOW = 86400
_DEVICE_KEY_MIN = 16
KNOWN_KEYS = {
    "root",
    "url",
    "sip_listen",
    "interfaces",
    "http_listen",
    "https_listen",
    "tls_cert",
    "tls_key",
    "tftp_listen",
    "db",
    "answer_unknown",
    "auth",
    "allow",
    "ua_check",
    "lockout",
    "pnp_rate",
    "tftp_secret_allow",
    "provisioning_window",
    "retention_days",
    "http_limits",
    "log_level",
}


class ConfigError(Exception):
    def __init__(self, problems):
        super().__init__("\n".join(problems))
        self.problems = problems


class Credentials:
    __slots__ = ("username", "password")

    def __init__(self, username, password):
        self.username = username
        self.password = password

    def __repr__(self):  # never the password
        return "Credentials(%r, ***)" % self.username


class AuthConfig:
    """Who may authenticate: the PBX-wide pair, per-device pairs (listed, or derived from device_key),
    and while a rotation's grace window lasts the PBX-wide pair it replaced (`previous`)."""

    SHARED, DEVICE, PREVIOUS = "shared", "device", "previous"

    def __init__(
        self,
        realm,
        scope,
        default,
        per_device,
        device_key=None,
        basic_over_http=True,
        previous=None,
        previous_until=None,
        previous_device_key=None,
    ):
        self.realm = realm
        self.scope = scope  # "secret" or "all"
        self.default = default  # Credentials or None
        self.per_device = per_device  # mac -> Credentials
        self.device_key = device_key
        self.basic_over_http = basic_over_http
        self.previous = previous  # Credentials or None: accepted until previous_until (epoch seconds)
        self.previous_until = previous_until
        # The device key derived from the previous pair (derive_device_key): the devices' pairs of
        # before the rotation, accepted in the same window.
        self.previous_device_key = previous_device_key
        self._per_device_users = {c.username: mac for mac, c in per_device.items()}

    def device_credentials(self, mac):
        """The device's own pair (listed in per_device, else derived from device_key), or None."""
        listed = self.per_device.get(mac)
        if listed is not None:
            return listed
        if self.device_key and mac:
            return Credentials(mac, device_password(self.device_key, mac))
        return None

    def identify(self, username, file_mac, now=None):
        """The identities [(kind, mac, Credentials)] `username` may prove for a file of `file_mac`
        (None: no device's), in the order to try them; [] when none.

        A device's pair is good for its own files and for files of no device; the PBX-wide
        pair for every file except those of devices with a listed per_device pair, and so is
        the previous PBX-wide pair until its grace window ends.
        """
        mac = self._per_device_users.get(username)
        if mac is None and self.device_key and MAC_RE.match(username or ""):
            mac = username
        if mac is not None:
            if file_mac not in (None, mac):
                return []
            found = [(self.DEVICE, mac, self.device_credentials(mac))]
            if self.previous_device_key and mac not in self.per_device and self.previous_open(now):
                found.append((self.PREVIOUS, mac, Credentials(mac, device_password(self.previous_device_key, mac))))
            return found
        if file_mac in self.per_device:
            return []
        found = []
        if self.default is not None and username == self.default.username:
            found.append((self.SHARED, None, self.default))
        if self.previous is not None and username == self.previous.username and self.previous_open(now):
            found.append((self.PREVIOUS, None, self.previous))
        return found

    def previous_open(self, now=None):
        """True while the previous pair is still accepted."""
        return self.previous is not None and (time.time() if now is None else now) < self.previous_until


class Config:
    """The checked configuration; attributes mirror the JSON keys."""

    def __init__(self, **values):
        self.__dict__.update(values)

    @property
    def url_for_logs(self):
        return mask_url(self.url)


def mask_url(url):
    """The URL without a password (URLs may carry the phones' credentials)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = "%s:***@%s" % (parts.username or "", parts.netloc.rsplit("@", 1)[1])
    return parts._replace(netloc=netloc).geturl()


def parse_hostport(text, default_port=None):
    """'0.0.0.0:5060', '[::]:8080', '10.0.0.1' (with default_port) -> (host, port); ValueError otherwise."""
    if not isinstance(text, str):
        raise ValueError("not a string")
    match = re.match(r"^\[([0-9a-fA-F:.]+)\](?::(\d+))?$", text) or re.match(r"^([0-9.]+|\*)(?::(\d+))?$", text)
    if not match:
        raise ValueError("not ADDR:PORT")
    host, port = match.group(1), match.group(2)
    host = "0.0.0.0" if host == "*" else host
    ipaddress.ip_address(host)
    if port is None:
        if default_port is None:
            raise ValueError("no port")
        port = default_port
    port = int(port)
    if not 1 <= port <= 65535:
        raise ValueError("port out of range 1-65535")
    return host, port


def _networks(value, key, problems):
    if not isinstance(value, list):
        problems.append('%s: must be a list of CIDRs such as "10.0.0.0/8", got %r' % (key, value))
        return []
    nets = []
    for item in value:
        try:
            nets.append(ipaddress.ip_network(str(item), strict=False))
        except ValueError:
            problems.append('%s: %r is not a CIDR; valid: "192.0.2.0/24", "10.0.0.5/32", "2001:db8::/32"' % (key, item))
    return nets


def _listen_list(value, key, default_port, problems):
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        problems.append('%s: must be a list of "ADDR:PORT", got %r' % (key, value))
        return []
    out = []
    for item in value:
        try:
            out.append(parse_hostport(item, default_port))
        except ValueError as exc:
            problems.append(
                '%s: %r is not a listen address (%s); valid: "0.0.0.0:%d", "[::]:%d"' % (key, item, exc, default_port, default_port)
            )
    return out


def _ipv4_only(addresses, key, problems):
    for host, port in addresses:
        if ":" in host:
            problems.append('%s: [%s]:%d: PnP is IPv4 (224.0.1.75); use an IPv4 address such as "0.0.0.0:%d"' % (key, host, port, port))
    return [a for a in addresses if ":" not in a[0]]


def _limits(value, defaults, key, problems, minimum=0):
    if value is None:
        return dict(defaults)
    if not isinstance(value, dict):
        problems.append("%s: must be an object with %s, got %r" % (key, ", ".join(sorted(defaults)), value))
        return dict(defaults)
    out = dict(defaults)
    for name, item in value.items():
        if name not in defaults:
            problems.append("%s.%s: unknown key; valid keys: %s" % (key, name, ", ".join(sorted(defaults))))
        elif isinstance(item, bool) or not isinstance(item, (int, float)) or item <= minimum:
            problems.append("%s.%s: must be a number > %s, got %r" % (key, name, minimum, item))
        else:
            out[name] = item
    return out


def _bool(value, key, problems):
    if not isinstance(value, bool):
        problems.append("%s: must be true or false, got %r" % (key, value))
        return False
    return value


def _auth(value, problems):
    if value is None:
        return None
    if not isinstance(value, dict):
        problems.append("auth: must be an object {%s} or null" % ", ".join('"%s"' % k for k in _AUTH_KEYS))
        return None
    for name in value:
        if name not in _AUTH_KEYS:
            problems.append("auth.%s: unknown key; valid keys: %s" % (name, ", ".join(_AUTH_KEYS)))
    realm = value.get("realm", "autoprov")
    if not isinstance(realm, str) or not realm or '"' in realm or "\\" in realm:
        problems.append("auth.realm: must be a non-empty string without quotes or backslashes")
    scope = value.get("scope", "secret")
    if scope not in ("secret", "all"):
        problems.append('auth.scope: %r; valid: "secret" (files marked secret) or "all"' % (scope,))
    default = None
    if "username" in value or "password" in value:
        default = _credentials(value, "auth", problems)
    per_device = {}
    raw = value.get("per_device", {})
    if not isinstance(raw, dict):
        problems.append('auth.per_device: must map a MAC (12 hex digits) to {"username", "password"}')
        raw = {}
    for mac, pair in raw.items():
        norm = re.sub(r"[:.\-]", "", str(mac)).lower()
        if not MAC_RE.match(norm):
            problems.append('auth.per_device: %r is not a MAC; valid: 12 hex digits, e.g. "001565aabb01"' % (mac,))
            continue
        creds = _credentials(pair if isinstance(pair, dict) else {}, "auth.per_device.%s" % norm, problems)
        if creds:
            per_device[norm] = creds
    device_key = _device_key(value.get("device_key"), default, problems)
    derive = _bool(value.get("derive_device_key", False), "auth.derive_device_key", problems)
    if derive and default is None:
        problems.append("auth.derive_device_key: needs the PBX-wide pair (auth.username and auth.password) to derive from")
    if default is None and not per_device and not device_key:
        problems.append("auth: needs username and password (or per_device credentials, or device_key)")
    basic = _bool(value.get("basic_over_http", True), "auth.basic_over_http", problems)
    previous, until = _previous(value.get("previous"), default, problems)
    previous_key = None
    if derive and default is not None and device_key is None:
        # Each device's pair follows the PBX-wide password, so a rotation's grace window covers both.
        device_key = _device_key(device_key_from_password(default.password), default, problems)
        previous_key = device_key_from_password(previous.password) if previous is not None else None
    return AuthConfig(realm, scope, default, per_device, device_key, basic, previous, until, previous_key)


def _previous(value, default, problems):
    """(Credentials, until epoch) of a rotation's previous PBX-wide pair, or (None, None)."""
    if value is None:
        return None, None
    if not isinstance(value, dict) or set(value) - {"username", "password", "until"}:
        problems.append('auth.previous: must be an object {"username", "password", "until"} or null')
        return None, None
    if default is None:
        problems.append("auth.previous: needs the current pair (auth.username and auth.password) it was replaced by")
    pair = dict(value)
    pair.setdefault("username", default.username if default is not None else None)
    creds = _credentials(pair, "auth.previous", problems)
    until = _utc_time(value.get("until"))
    if until is None:
        problems.append(
            'auth.previous.until: %r; give the end of the grace window in UTC, e.g. "2026-12-18T00:00:00Z"' % (value.get("until"),)
        )
    return (creds, until) if creds is not None and until is not None else (None, None)


def _utc_time(text):
    """Epoch seconds of an ISO 8601 UTC time 'YYYY-MM-DDTHH:MM:SSZ', or None."""
    try:
        return float(calendar.timegm(time.strptime(text, "%Y-%m-%dT%H:%M:%SZ")))
    except (TypeError, ValueError):
        return None


def _device_key(key, default, problems):
    if key is None:
        return None
    if not isinstance(key, str) or len(key) < _DEVICE_KEY_MIN:
        problems.append("auth.device_key: must be a string of at least %d characters (from Vault)" % _DEVICE_KEY_MIN)  # never echoed
        return None
    if default is not None and MAC_RE.match(default.username):
        problems.append("auth.username: %r looks like a MAC; with device_key, MACs are the devices' user names" % default.username)
    return key


_AUTH_KEYS = ("username", "password", "realm", "scope", "per_device", "device_key", "derive_device_key", "basic_over_http", "previous")


def _credentials(value, key, problems):
    user, password = value.get("username"), value.get("password")
    ok = True
    if not isinstance(user, str) or not user or ":" in user or '"' in user:
        problems.append("%s.username: must be a non-empty string without ':' or '\"'" % key)
        ok = False
    if not isinstance(password, str) or not password:
        problems.append("%s.password: must be a non-empty string" % key)  # never echo the value
        ok = False
    return Credentials(user, password) if ok else None


def _url(value, problems):
    if not isinstance(value, str) or not value:
        problems.append('url: missing; the provisioning URL, e.g. "http://192.0.2.10:8080/p/TOKEN/"')
        return None, "/"
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        parts = None
    if not parts or parts.scheme not in ("http", "https", "tftp") or not parts.hostname:
        problems.append("url: %r is not an http://, https:// or tftp:// URL with a host" % mask_url(value))
        return None, "/"
    path = unquote(parts.path or "/")
    if not path.endswith("/"):
        problems.append("url: the path %r must end in '/' (it is the directory the config root is served at)" % path)
    if parts.query or parts.fragment:
        problems.append("url: no query or fragment allowed, got %r" % mask_url(value))
    if any(seg in (".", "..") or seg.startswith(".") for seg in path.split("/")):
        problems.append("url: the path %r has a segment starting with '.'" % path)
    return value, path


def _read(path):
    """The configuration file's JSON object ({} without a file); raises ConfigError."""
    if not path:
        return {}
    try:
        with open(path, encoding="utf-8") as handle:
            raw = json.load(handle)
    except OSError as exc:
        raise ConfigError(["%s: cannot read the configuration: %s" % (path, exc.strerror)])
    except ValueError as exc:
        raise ConfigError(["%s: not valid JSON: %s" % (path, exc)])
    if not isinstance(raw, dict):
        raise ConfigError(["%s: must hold a JSON object" % path])
    return dict(raw)


def _root(value, problems):
    if not isinstance(value, str) or not value:
        problems.append("root: missing; the config root directory (autoprov_config_root)")
        return None
    return os.path.realpath(value)


def _interfaces(value, problems):
    interfaces = [value] if isinstance(value, str) else value
    if not isinstance(interfaces, list) or not all(isinstance(i, str) and i for i in interfaces):
        problems.append("interfaces: must be a list of interface names, got %r" % (interfaces,))
        return []
    return interfaces


def _db(value, base, problems):
    if not isinstance(value, str) or not value:
        problems.append("db: must be a file name, got %r" % (value,))
        value = "status.sqlite"
    return os.path.join(base, value)


def _tls(raw, base, problems):
    """(https_listen, tls_cert, tls_key): HTTPS needs both PEM files; the names are relative to the config file."""
    tls_cert, tls_key = raw.get("tls_cert"), raw.get("tls_key")
    https_listen = _listen_list(raw.get("https_listen", []), "https_listen", 8443, problems)
    if https_listen and not (tls_cert and tls_key):
        problems.append("https_listen: needs tls_cert and tls_key (PEM files)")
    paths = []
    for key, value in (("tls_cert", tls_cert), ("tls_key", tls_key)):
        if value is not None and (not isinstance(value, str) or not value):
            problems.append("%s: must be a file name or null" % key)
        paths.append(os.path.join(base, value) if isinstance(value, str) and value else None)
    return https_listen, paths[0], paths[1]


def _log_level(value, problems):
    if value not in LOG_LEVELS:
        problems.append("log_level: %r; valid: %s" % (value, ", ".join(LOG_LEVELS)))
        return "info"
    return value


def _number(raw, key, default, minimum, strict, what, problems):
    """A number >= minimum (> minimum when strict), else the default and a problem saying what is valid."""
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < minimum or (strict and value == minimum):
        problems.append("%s: must be %s, got %r" % (key, what, value))
        return default
    return value


def load(path=None, overrides=None):
    """Read the file (if any), apply command-line overrides, check everything; raises ConfigError."""
    problems = []
    raw = _read(path)
    raw.update({k: v for k, v in (overrides or {}).items() if v is not None})
    for key in sorted(set(raw) - KNOWN_KEYS):
        problems.append("%s: unknown key; valid keys: %s" % (key, ", ".join(sorted(KNOWN_KEYS))))
    base = os.path.dirname(os.path.abspath(path)) if path else os.getcwd()
    url, url_path = _url(raw.get("url"), problems)
    db = _db(raw.get("db", "status.sqlite"), base, problems)
    https_listen, tls_cert, tls_key = _tls(raw, base, problems)
    config = Config(
        root=_root(raw.get("root"), problems),
        url=url,
        url_path=url_path,
        sip_listen=_ipv4_only(_listen_list(raw.get("sip_listen", ["0.0.0.0:5060"]), "sip_listen", 5060, problems), "sip_listen", problems),
        interfaces=_interfaces(raw.get("interfaces", []), problems),
        http_listen=_listen_list(raw.get("http_listen", ["0.0.0.0:8080"]), "http_listen", 8080, problems),
        https_listen=https_listen,
        tls_cert=tls_cert,
        tls_key=tls_key,
        tftp_listen=_listen_list(raw.get("tftp_listen", []), "tftp_listen", 69, problems),
        db=db,
        bindings=os.path.splitext(db)[0] + ".bindings.json",
        answer_unknown=_bool(raw.get("answer_unknown", False), "answer_unknown", problems),
        auth=_auth(raw.get("auth"), problems),
        allow=_networks(raw.get("allow", []), "allow", problems),
        ua_check=_bool(raw.get("ua_check", True), "ua_check", problems),
        lockout=_limits(raw.get("lockout"), _LOCKOUT, "lockout", problems),
        pnp_rate=_limits(raw.get("pnp_rate"), _PNP_RATE, "pnp_rate", problems),
        tftp_secret_allow=_networks(raw.get("tftp_secret_allow", []), "tftp_secret_allow", problems),
        provisioning_window=_number(
            raw, "provisioning_window", _PROVISIONING_WINDOW, 0, False, "a number of seconds >= 0 (0: the window never closes)", problems
        ),
        retention_days=_number(raw, "retention_days", 90, 0, True, "a number of days > 0", problems),
        http_limits=_limits(raw.get("http_limits"), _HTTP_LIMITS, "http_limits", problems),
        log_level=_log_level(raw.get("log_level", "info"), problems),
    )
    if problems:
        raise ConfigError(problems)
    return config


def check_environment(config):
    """What --check adds to the syntax check: the files and interfaces named exist and are usable."""
    problems, notes = [], []
    if not os.path.isdir(config.root):
        problems.append("root: %s is not a directory" % config.root)
    elif not os.access(config.root, os.R_OK | os.X_OK):
        problems.append("root: %s is not readable by this user" % config.root)
    else:
        try:
            loaded = manifest.load(os.path.join(config.root, manifest.MANIFEST))
            notes.append("manifest: %d devices, %d files" % (len(loaded.devices), len(loaded.files)))
        except FileNotFoundError:
            notes.append("manifest: %s not there yet; PnP answers no device until device_configs writes it" % manifest.MANIFEST)
        except manifest.ManifestError as exc:
            problems.append("manifest: %s" % exc)
    if config.https_listen:
        try:
            ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(config.tls_cert, config.tls_key)
        except (OSError, ssl.SSLError) as exc:
            problems.append("tls_cert/tls_key: cannot load %s with %s: %s" % (config.tls_cert, config.tls_key, exc))
    db_dir = os.path.dirname(config.db) or "."
    if os.path.exists(config.db):
        if not os.access(config.db, os.R_OK | os.W_OK):
            problems.append("db: %s is not writable by this user" % config.db)
    elif not os.access(db_dir, os.W_OK | os.X_OK):
        problems.append("db: cannot create %s (directory not writable)" % config.db)
    for name in config.interfaces:
        try:
            socket.if_nametoindex(name)
        except OSError:
            problems.append("interfaces: no interface named %r on this host" % name)
    return problems, notes
