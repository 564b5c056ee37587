# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""HTTP Basic (RFC 7617) and Digest (RFC 7616: SHA-256 and MD5, qop=auth) for the config host.

Nonces are stateless (time + random + an HMAC over both and the client's address, with
a per-process key) and expire after `nonce_ttl` seconds; a nonce sent back from another
address is not ours. Once a nonce is used, its highest nonce-count is kept until the
nonce expires, whatever the rate of challenges or logins, so a captured Authorization
header can never be replayed: when too many nonces are in use at once, new ones are
answered stale (the client asks again) rather than forgetting a valid one.
"""

from __future__ import annotations

import base64
import binascii
import collections
import hashlib
import hmac
import os
import re
import time

OK, MISSING, FAILED, STALE, REFUSED = "ok", "missing", "failed", "stale", "basic_refused"
_ALGORITHMS = {"SHA-256": hashlib.sha256, "MD5": hashlib.md5}
_PARAM = re.compile(r'\s*([A-Za-z0-9_\-*]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^,\s"]*)\s*(?:,|$)')
MAX_TRACKED_NONCES = 100000
_DEVICE_PASSWORD_LABEL = b"pbxops.autoprov device password\0"
_DEVICE_KEY_LABEL = b"pbxops.autoprov device key\0"


def device_key_from_password(password):
    """The device key of auth.derive_device_key: HMAC-SHA256(PBX-wide password, label), 64 hex digits.

    Whoever can compute it holds the PBX-wide password, which opens every file anyway; a
    device's pair does not give the password back (HMAC is one-way).
    """
    return hmac.new(password.encode("utf-8"), _DEVICE_KEY_LABEL, hashlib.sha256).hexdigest()


def device_password(key, mac):
    """A device's own HTTP password: HMAC-SHA256(device_key, label + MAC), 24 hex digits (96 bits).

    Handed out in that device's PnP NOTIFY URL (pnp.PnpService.device_url); the controller
    derives the same pair into the device's own files (plugins/module_utils/_device_pairs.py,
    held to these answers by its unit test). RPS records and DHCP option 66 carry the PBX-wide pair.
    """
    digest = hmac.new(key.encode("utf-8"), _DEVICE_PASSWORD_LABEL + mac.encode("ascii"), hashlib.sha256).hexdigest()
    return digest[:24]


def _issued(nonce, default):
    """When a nonce of ours was issued (its first field); default for one that is not ours."""
    try:
        return int(nonce.split(".", 1)[0], 16)
    except ValueError:
        return default


def parse_params(text):
    """'a="x", b=y' -> {'a': 'x', 'b': 'y'} (names lowercase); None when it does not parse."""
    params, pos = {}, 0
    text = text.strip()
    while pos < len(text):
        match = _PARAM.match(text, pos)
        if not match or match.end() == pos:
            return None
        value = match.group(2)
        if value.startswith('"'):
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        params[match.group(1).lower()] = value
        pos = match.end()
    return params


class Authenticator:
    def __init__(self, realm, nonce_ttl=300, clock=time.time, basic_over_http=True, max_tracked=MAX_TRACKED_NONCES):
        self.realm = realm
        self.nonce_ttl = nonce_ttl
        self.clock = clock
        self.basic_over_http = basic_over_http
        self.max_tracked = max_tracked
        self._key = os.urandom(32)
        self._opaque = binascii.hexlify(os.urandom(8)).decode()
        self._seen_nc = {}  # nonce -> highest nc seen, while the nonce is valid
        self._expiry = collections.deque()  # (time the nonce expires, nonce), in order of first use

    # --- challenges --------------------------------------------------------------------------
    def _sign(self, stamp, source):
        return hmac.new(self._key, ("%s|%s" % (stamp, source)).encode(), hashlib.sha256).hexdigest()[:32]

    def _nonce(self, source):
        """time.random.mac: unique per challenge (two phones must never share a nonce-count space)."""
        stamp = "%x.%s" % (int(self.clock()), binascii.hexlify(os.urandom(8)).decode())
        return "%s.%s" % (stamp, self._sign(stamp, source))

    def challenges(self, stale=False, source="", tls=True):
        """WWW-Authenticate values, strongest first (RFC 7616 3.7); Basic only where it is allowed."""
        nonce = self._nonce(source)
        out = []
        for algorithm in ("SHA-256", "MD5"):
            out.append(
                'Digest realm="%s", qop="auth", algorithm=%s, nonce="%s", opaque="%s"%s'
                % (self.realm, algorithm, nonce, self._opaque, ", stale=true" if stale else "")
            )
        if tls or self.basic_over_http:
            out.append('Basic realm="%s", charset="UTF-8"' % self.realm)
        return out

    # --- checking ----------------------------------------------------------------------------
    def check(self, header, method, target, identify, source="", tls=True):
        """(verdict, identity) for an Authorization header value.

        identify(username) returns the identities that user name may prove, in the order to try
        them (each a tuple whose last item is its Credentials); the one proven is returned.
        verdict: OK, MISSING, FAILED, STALE, or REFUSED (Basic over plain HTTP when that is not
        allowed; the password is not even looked at).
        """
        if not header:
            return MISSING, None
        scheme, _unused, rest = header.strip().partition(" ")
        scheme = scheme.lower()
        if scheme == "basic":
            if not (tls or self.basic_over_http):
                return REFUSED, None
            return self._check_basic(rest.strip(), identify)
        if scheme == "digest":
            return self._check_digest(rest, method, target, identify, source)
        return FAILED, None

    @staticmethod
    def _check_basic(token, identify):
        try:
            decoded = base64.b64decode(token.encode("ascii"), validate=True).decode("utf-8")
        except (ValueError, UnicodeError):
            return FAILED, None
        user, colon, password = decoded.partition(":")
        for identity in identify(user) if colon else ():
            if hmac.compare_digest(password.encode(), identity[-1].password.encode()):
                return OK, identity
        return FAILED, None

    def _nonce_fresh(self, nonce, source=""):
        """True (fresh), False (ours but expired) or None (not a nonce we issued to this address)."""
        stamp, dot, mac = nonce.rpartition(".")
        if not dot or not hmac.compare_digest(mac.encode(), self._sign(stamp, source).encode()):
            return None
        try:
            age = self.clock() - int(stamp.split(".")[0], 16)
        except ValueError:
            return None
        return -5 <= age <= self.nonce_ttl

    def _check_digest(self, rest, method, target, identify, source):
        params = parse_params(rest)
        if not params:
            return FAILED, None
        algorithm = params.get("algorithm", "MD5").upper()
        digest = _ALGORITHMS.get(algorithm)
        needed = ("username", "realm", "nonce", "uri", "response", "qop", "nc", "cnonce")
        if digest is None or any(not params.get(n) for n in needed) or params["qop"] != "auth":
            return FAILED, None
        if params["realm"] != self.realm or params["uri"] != target:
            return FAILED, None
        fresh = self._nonce_fresh(params["nonce"], source)
        if fresh is None:
            return FAILED, None

        def h(text):
            return digest(text.encode("utf-8")).hexdigest()

        def answers(credentials):
            ha1 = h("%s:%s:%s" % (credentials.username, self.realm, credentials.password))
            ha2 = h("%s:%s" % (method, params["uri"]))
            expected = h(":".join((ha1, params["nonce"], params["nc"], params["cnonce"], "auth", ha2)))
            return hmac.compare_digest(params["response"].lower().encode(), expected.encode())

        identity = next((i for i in identify(params["username"]) if answers(i[-1])), None)
        if identity is None:
            return FAILED, None
        if not fresh:
            return STALE, None  # right password, old nonce: the client retries with a new one (RFC 7616 3.3)
        try:
            nc = int(params["nc"], 16)
        except ValueError:
            return FAILED, None
        return self._count(params["nonce"], nc), identity

    def _count(self, nonce, nc):
        """OK when nc is higher than any seen with this nonce; FAILED for a replay."""
        now = self.clock()
        expiry = self._expiry
        while expiry and expiry[0][0] < now:
            self._seen_nc.pop(expiry.popleft()[1], None)
        last = self._seen_nc.get(nonce)
        if last is None:
            if len(self._seen_nc) >= self.max_tracked:
                return STALE  # never forget a valid nonce to make room: this client gets a new one later
            expiry.append((_issued(nonce, now) + self.nonce_ttl, nonce))
            last = 0
        if nc <= last:
            return FAILED  # a replayed request
        self._seen_nc[nonce] = nc
        return OK
