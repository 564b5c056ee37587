# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every RPS client shares: the small client interface, HTTP with retries, TLS and error accounting.

A vendor client (one `_rps/<vendor>.py` file) subclasses Client and implements
lookup / register / unregister over Http. The engine (engine.py) decides what to
change; clients only speak their vendor's protocol and report per MAC in the
vendor's own words.
"""

from __future__ import annotations

import email.utils
import hashlib
import random
import time
from collections import namedtuple
from urllib.parse import urlsplit

try:
    import requests

    HAS_REQUESTS = True
except ImportError:  # pragma: no cover - reported by the module
    HAS_REQUESTS = False

# What a vendor says about one MAC before we write.
#   state     absent (nowhere in our account), ours, foreign (another account has it),
#             invalid (the vendor refuses this MAC)
#   url       the provisioning URL it redirects to, when ours (credentials stripped);
#             None when ours but the vendor does not show the URL (the engine then points it again)
#   username  the HTTP user the vendor holds for that URL, if any
#   password  the HTTP password the vendor shows back; None when it never shows it
#   message   the vendor's words (for foreign / invalid)
Found = namedtuple("Found", "state url username password message")
Found.__new__.__defaults__ = (None, None, None, None)

# Where the MACs should point. url has no credentials in it; username/password
# go where the vendor keeps them (a server record, or the URL).
Target = namedtuple("Target", "url username password server_name")

RETRY_STATUS = frozenset((429, 500, 502, 503, 504))


class RpsError(Exception):
    """The account or the service failed as a whole (auth, TLS, unreachable, protocol): nothing per MAC."""


def absent():
    return Found("absent")


def server_prefix(server_name):
    """The user's prefix (option server_name) of a name made by server_name_for."""
    return server_name.rsplit("-", 1)[0]


def server_name_for(url, username=None, prefix="autoprov", max_length=None):
    """A stable server-object name for a URL and HTTP user: prefix, "-", then hex of their hash.

    The name changes with the URL, so a server object never silently redirects
    MACs that other tasks pointed at another URL. 16 hex digits, fewer (at least 8)
    where the vendor limits names to max_length characters.
    """
    digest = hashlib.sha256(("%s\n%s" % (url, username or "")).encode("utf-8")).hexdigest()
    length = 16 if max_length is None else max(8, min(16, max_length - len(prefix) - 1))
    return "%s-%s" % (prefix, digest[:length])


class Client:
    """One account at one vendor's RPS. Subclasses set the class attributes and the three methods.

    credentials_required: keys of the `credentials` option this vendor needs.
    device_fields_required: device keys the vendor needs besides mac (e.g. pin).
    url_credentials: "record" when the vendor stores HTTP user/password in a server
        record (not shown back), "url" when they must travel inside the URL, None when
        the vendor cannot carry them at all.
    default_api_url: the vendor's service.
    per_device_url: each MAC's record holds a URL of its own (url_credentials "url"), so a
        device's own HTTP pair can travel in it (the engine's device_targets); False where MACs
        share a server record.
    server_name_max: the longest server-object name the vendor accepts (None: no known limit).
    alternative_to: the catalog's RPS client this one can stand in for (another API of the
        same vendor, picked with the provision role's autoprov_rps_clients).
    gives_pins: the vendor hands out per-device PINs (pins()).
    """

    vendor = None
    default_api_url = None
    credentials_required = ()
    device_fields_required = ()
    device_fields_help = ""
    url_credentials = "url"
    per_device_url = False
    server_name_max = None
    alternative_to = None
    gives_pins = False

    @classmethod
    def service_url(cls, credentials):
        """The API base URL when the task gives no api_url (a vendor may derive it from the credentials)."""
        return cls.default_api_url

    @classmethod
    def input_problems(cls, credentials, api_url, target):
        """The vendor's own rules on the input (field lengths, name characters...), checked before anything is sent."""
        return []

    def __init__(self, http, api_url, credentials, devices):
        self.http = http
        self.api_url = api_url
        self.credentials = credentials
        # mac -> the device's options (serial, pin, ...)
        self.devices = devices

    @classmethod
    def url_problems(cls, url):
        """Why this vendor cannot carry url (a list of texts; empty when it can). Checked before anything is sent."""
        return []

    @classmethod
    def device_problems(cls, device):
        """Problems of one device's own fields for this vendor, as "field: what is wrong and what is valid"."""
        return []

    def secrets(self):
        """Derived secret strings this client sends (hashes of passwords...), to keep out of messages."""
        return []

    def lookup(self, macs, target=None):
        """{mac: Found} for every MAC asked; target (None with state absent) only for vendors that need it to read answers."""
        raise NotImplementedError

    def register(self, macs, target, found):
        """Point each MAC at target (new, or moved from another URL). {mac: error message} for the ones that failed."""
        raise NotImplementedError

    def unregister(self, macs, found):
        """Remove each MAC from our account. {mac: error message} for the ones that failed."""
        raise NotImplementedError

    def pins(self, macs):
        """{mac: PIN or None} of MACs in our account (only where gives_pins)."""
        raise NotImplementedError


class Http:
    """requests with the collection's rules: TLS verified, timeouts, retries with backoff, accounting.

    Retries on 429 (honouring Retry-After), 500/502/503/504, connection failures and
    timeouts; never on TLS failures or other answers. `stats` counts what happened and
    goes back to the user; `scrub` removes secrets from any text before it leaves.
    """

    def __init__(self, verify=True, timeout=30.0, retries=3, backoff=1.0, max_wait=60.0, scrub=None, user_agent="pbxops.autoprov"):
        self.session = requests.Session()
        self.session.headers["User-Agent"] = user_agent
        self.verify = verify
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.max_wait = max_wait
        self.scrub = scrub or (lambda text: text)
        self.stats = {"requests": 0, "retries": 0, "throttled": 0, "server_errors": 0, "timeouts": 0, "connection_errors": 0}

    def request(self, method, url, headers_for=None, **kwargs):
        """The final response (any status that is not retried); RpsError when every attempt failed.

        headers_for: a callable giving the headers of each attempt, for services that
        refuse a nonce or timestamp they saw before (a retry is signed afresh).
        """
        kwargs.setdefault("timeout", self.timeout)
        kwargs.setdefault("verify", self.verify)
        last = None
        for attempt in range(self.retries + 1):
            if attempt:
                self.stats["retries"] += 1
                time.sleep(self._wait(attempt, last))
            if headers_for is not None:
                kwargs["headers"] = headers_for()
            self.stats["requests"] += 1
            try:
                response = self.session.request(method, url, **kwargs)
            except requests.exceptions.SSLError as exc:
                raise RpsError(
                    "TLS verification of %s failed (%s). Give the CA bundle that signs the RPS API in ca_path, "
                    "or set validate_certs: false only for a test service" % (_origin(url), self.scrub(_reason(exc)))
                )
            except requests.exceptions.Timeout:
                self.stats["timeouts"] += 1
                last = "no answer within %ss" % self.timeout
                continue
            except requests.exceptions.ConnectionError as exc:
                self.stats["connection_errors"] += 1
                last = "cannot connect (%s)" % self.scrub(_reason(exc))
                continue
            if response.status_code in RETRY_STATUS:
                key = "throttled" if response.status_code == 429 else "server_errors"
                self.stats[key] += 1
                last = response
                continue
            return response
        if isinstance(last, str):
            raise RpsError("%s %s: %s, %d attempts" % (method, _origin(url), last, self.retries + 1))
        raise RpsError(
            "%s %s: HTTP %s %s after %d attempts: %s"
            % (method, _origin(url), last.status_code, last.reason, self.retries + 1, self.scrub(last.text[:300]))
        )

    def _wait(self, attempt, last):
        """Seconds before the next attempt: the server's Retry-After, else exponential backoff with jitter."""
        if last is not None and not isinstance(last, str):
            after = retry_after(last.headers.get("Retry-After"))
            if after is not None:
                return min(after, self.max_wait)
        return min(self.backoff * (2 ** (attempt - 1)) * (0.5 + random.random() / 2), self.max_wait)


def retry_after(value):
    """Seconds from a Retry-After header (delta-seconds or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _origin(url):
    parts = urlsplit(url)
    return "%s://%s%s" % (parts.scheme, parts.netloc.rpartition("@")[2], parts.path)


def _reason(exc):
    """The innermost useful words of a requests exception."""
    text = str(exc)
    for marker in ("SSLError(", "NewConnectionError(", "Caused by "):
        if marker in text:
            text = text.split(marker, 1)[1]
    return text.strip("()'\" ")[:200]


def vendor_words(response, keys=("message",)):
    """The vendor's own words in an error reply: the first of keys in a JSON object, else the body (200 characters)."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(body, dict):
        for key in keys:
            if isinstance(body.get(key), str):
                return body[key][:200]
    return str(body)[:200]


def expect_json(response, what):
    """The JSON body of a response, or RpsError naming what was asked."""
    try:
        return response.json()
    except ValueError:
        raise RpsError("%s: HTTP %s, not JSON: %r" % (what, response.status_code, response.text[:200]))
