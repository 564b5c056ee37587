# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""HTTP Basic (RFC 7617) and Digest (RFC 7616: SHA-256 and MD5, qop=auth) for the config host.

Nonces are stateless (time + HMAC with a per-process key) and expire after
`nonce_ttl` seconds; the nonce-count of each nonce must grow, so a captured
Authorization header cannot be replayed.
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

OK, MISSING, FAILED, STALE = "ok", "missing", "failed", "stale"
_ALGORITHMS = {"SHA-256": hashlib.sha256, "MD5": hashlib.md5}
_PARAM = re.compile(r'\s*([A-Za-z0-9_\-*]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^,\s"]*)\s*(?:,|$)')
_MAX_TRACKED_NONCES = 10000


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
    def __init__(self, realm, nonce_ttl=300, clock=time.time):
        self.realm = realm
        self.nonce_ttl = nonce_ttl
        self.clock = clock
        self._key = os.urandom(32)
        self._opaque = binascii.hexlify(os.urandom(8)).decode()
        self._seen_nc = collections.OrderedDict()  # nonce -> highest nc seen

    # --- challenges --------------------------------------------------------------------------
    def _nonce(self):
        """time.random.mac: unique per challenge (two phones must never share a nonce-count space)."""
        stamp = "%x.%s" % (int(self.clock()), binascii.hexlify(os.urandom(8)).decode())
        mac = hmac.new(self._key, stamp.encode(), hashlib.sha256).hexdigest()[:32]
        return "%s.%s" % (stamp, mac)

    def challenges(self, stale=False):
        """WWW-Authenticate values, strongest first (RFC 7616 3.7)."""
        nonce = self._nonce()
        out = []
        for algorithm in ("SHA-256", "MD5"):
            out.append(
                'Digest realm="%s", qop="auth", algorithm=%s, nonce="%s", opaque="%s"%s'
                % (self.realm, algorithm, nonce, self._opaque, ", stale=true" if stale else "")
            )
        out.append('Basic realm="%s", charset="UTF-8"' % self.realm)
        return out

    # --- checking ----------------------------------------------------------------------------
    def check(self, header, method, target, credentials):
        """OK / MISSING / FAILED / STALE for an Authorization header value against Credentials."""
        if not header:
            return MISSING
        scheme, _unused, rest = header.strip().partition(" ")
        scheme = scheme.lower()
        if scheme == "basic":
            return self._check_basic(rest.strip(), credentials)
        if scheme == "digest":
            return self._check_digest(rest, method, target, credentials)
        return FAILED

    @staticmethod
    def _check_basic(token, credentials):
        try:
            decoded = base64.b64decode(token.encode("ascii"), validate=True).decode("utf-8")
        except (ValueError, UnicodeError):
            return FAILED
        user, colon, password = decoded.partition(":")
        if not colon:
            return FAILED
        user_ok = hmac.compare_digest(user.encode(), credentials.username.encode())
        password_ok = hmac.compare_digest(password.encode(), credentials.password.encode())
        return OK if user_ok and password_ok else FAILED

    def _nonce_fresh(self, nonce):
        """True (fresh), False (ours but expired) or None (not a nonce we issued)."""
        stamp, dot, mac = nonce.rpartition(".")
        if not dot:
            return None
        expected = hmac.new(self._key, stamp.encode(), hashlib.sha256).hexdigest()[:32]
        if not hmac.compare_digest(mac.encode(), expected.encode()):
            return None
        try:
            age = self.clock() - int(stamp.split(".")[0], 16)
        except ValueError:
            return None
        return -5 <= age <= self.nonce_ttl

    def _check_digest(self, rest, method, target, credentials):
        params = parse_params(rest)
        if not params:
            return FAILED
        algorithm = params.get("algorithm", "MD5").upper()
        digest = _ALGORITHMS.get(algorithm)
        needed = ("username", "realm", "nonce", "uri", "response", "qop", "nc", "cnonce")
        if digest is None or any(not params.get(n) for n in needed) or params["qop"] != "auth":
            return FAILED
        if params["realm"] != self.realm or params["uri"] != target:
            return FAILED
        fresh = self._nonce_fresh(params["nonce"])
        if fresh is None:
            return FAILED

        def h(text):
            return digest(text.encode("utf-8")).hexdigest()

        ha1 = h("%s:%s:%s" % (credentials.username, self.realm, credentials.password))
        ha2 = h("%s:%s" % (method, params["uri"]))
        expected = h(":".join((ha1, params["nonce"], params["nc"], params["cnonce"], "auth", ha2)))
        user_ok = hmac.compare_digest(params["username"].encode(), credentials.username.encode())
        if not (user_ok and hmac.compare_digest(params["response"].lower().encode(), expected.encode())):
            return FAILED
        if not fresh:
            return STALE  # right password, old nonce: the client retries with a new one (RFC 7616 3.3)
        try:
            nc = int(params["nc"], 16)
        except ValueError:
            return FAILED
        last = self._seen_nc.get(params["nonce"], 0)
        if nc <= last:
            return FAILED  # a replayed request
        self._seen_nc[params["nonce"]] = nc
        self._seen_nc.move_to_end(params["nonce"])
        if len(self._seen_nc) > _MAX_TRACKED_NONCES:
            self._seen_nc.popitem(last=False)
        return OK
