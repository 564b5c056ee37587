# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Yealink YMCS Open API v2, the RPS part (docs/rps.md, "Yealink YMCS API v2").

OAuth 2.0 client credentials: one token per run, renewed before it expires and once
more when the service answers 401. Every request carries a fresh `timestamp` and
`nonce`. Answers have no envelope; errors are {code, requestId, message, details}.
Server records and devices are separate objects, as in the v1 API (yealink.py).
"""

from __future__ import annotations

import base64
import time
import uuid

from ansible_collections.pbxops.autoprov.plugins.module_utils._rps.base import Client, RpsError, absent, vendor_words
from ansible_collections.pbxops.autoprov.plugins.module_utils._rps.yealink import (
    PAGE,
    SERVER_NAME_MAX,
    account_devices,
    all_items,
    found_of,
    normal_mac,
    server_differs,
    server_fields,
    server_record_problems,
)

REGIONS = {
    "us": "https://us-api.ymcs.yealink.com",
    "eu": "https://eu-api.ymcs.yealink.com",
    "au": "https://au-api.ymcs.yealink.com",
}
BATCH = 100  # addDevicesByMac / addDevices take at most 100 devices
RENEW_EARLY = 60  # seconds before expires_in runs out that the token is renewed
monotonic = time.monotonic  # the clock of token lifetimes (a name of its own, for tests)
NOT_ENABLED = (
    "YMCS refused adding devices by MAC alone (addDevicesByMac, HTTP 403 %s): Yealink enables it per account. "
    "Ask Yealink support to enable adding devices by MAC for this account, or give the device's serial "
    "(devices[].serial) so it is added with its serial number"
)


class YmcsError(RpsError):
    """YMCS answered an error: HTTP status, its code and its words."""

    def __init__(self, what, status, code, words):
        super().__init__("%s: HTTP %s %s %s" % (what, status, code or "", words))
        self.status, self.code, self.words = status, code, words


class YealinkYmcsClient(Client):
    vendor = "yealink_ymcs"
    alternative_to = "yealink"
    credentials_required = ("client_id", "client_secret")
    url_credentials = "record"
    server_name_max = SERVER_NAME_MAX
    gives_pins = True

    @classmethod
    def service_url(cls, credentials):
        return REGIONS.get(str(credentials.get("region") or "").lower())

    @classmethod
    def input_problems(cls, credentials, api_url, target):
        problems = server_record_problems(cls.vendor, target)
        region = credentials.get("region")
        if region and str(region).lower() not in REGIONS:
            problems.append(
                "credentials.region: %r is not a YMCS region; valid: %s (or give api_url)" % (region, ", ".join(sorted(REGIONS)))
            )
        elif not region and not api_url:
            problems.append(
                "credentials.region: %s needs the account's region (%s: the Domain shown at System > Integration > API), "
                "or api_url" % (cls.vendor, ", ".join(sorted(REGIONS)))
            )
        return problems

    def __init__(self, *args):
        super().__init__(*args)
        self._token, self._expires = None, 0.0
        self._learnt = []  # tokens and PINs: secrets to keep out of messages
        self._server_cache = None
        self._devices = {}

    def secrets(self):
        return list(self._learnt)

    # Transport: token, headers, one retry after a 401.

    def _headers(self, authorization):
        return {
            "Authorization": authorization,
            "timestamp": str(int(time.time() * 1000)),
            "nonce": uuid.uuid4().hex,
            "Content-Type": "application/json",
            "Accept": "application/json",
        }

    def _new_token(self):
        pair = "%s:%s" % (self.credentials["client_id"], self.credentials["client_secret"])
        basic = "Basic " + base64.b64encode(pair.encode("utf-8")).decode("ascii")
        self._learnt.append(basic[6:])
        grant = {"grant_type": "client_credentials"}
        response = self.http.request("POST", self.api_url + "/v2/token", json=grant, headers_for=lambda: self._headers(basic))
        if response.status_code != 200:
            raise RpsError(
                "POST /v2/token: YMCS refused the client credentials (HTTP %s: %s); check credentials.client_id and "
                "client_secret (System > Integration > API) and the region" % (response.status_code, _words(response))
            )
        try:
            answer = response.json()
            token, lifetime = answer["access_token"], float(answer.get("expires_in") or 0)
        except (ValueError, KeyError, TypeError):
            raise RpsError("POST /v2/token: HTTP 200 without an access_token")
        self._learnt.append(token)
        self._token, self._expires = token, monotonic() + lifetime - RENEW_EARLY
        return token

    def _bearer(self):
        if self._token is None or monotonic() >= self._expires:
            return self._new_token()
        return self._token

    def _call(self, method, path, body=None, ok=(200,)):
        """The JSON answer of one call (None for an empty one); YmcsError for any status not in ok.

        A 401 (expired or revoked token) gets a new token and one more try. A POST
        always carries a body: a bodyless POST answers 412 (900444).
        """
        if method == "POST" and body is None:
            body = {}
        for attempt in (1, 2):
            bearer = "Bearer " + self._bearer()
            # Each attempt gets its own nonce and timestamp: YMCS refuses a nonce it has seen (403 500403).
            response = self.http.request(method, self.api_url + path, json=body, headers_for=lambda b=bearer: self._headers(b))
            if response.status_code != 401 or attempt == 2:
                break
            self._token = None
        if response.status_code not in ok:
            raise YmcsError("%s %s" % (method, path), response.status_code, _code(response), _words(response))
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise RpsError("%s %s: HTTP %s, not JSON: %r" % (method, path, response.status_code, response.text[:200]))

    def _page(self, path, skip, mac=None):
        answer = self._call("POST", path, {"skip": skip, "limit": PAGE, "autoCount": True, "filter": {"mac": mac} if mac else {}}) or {}
        return answer.get("data") or [], answer.get("total")

    # Reading the account.

    def _servers(self):
        if self._server_cache is None:
            self._server_cache = {s["id"]: s for s in all_items(lambda skip: self._page("/v2/rps/listServers", skip))}
        return self._server_cache

    def lookup(self, macs, target=None):
        servers = self._servers()
        self._devices = account_devices(lambda skip, mac: self._page("/v2/rps/listDevices", skip, mac), macs)
        found = {}
        for mac in macs:
            device = self._devices.get(mac)
            if device is None:
                # v2 shows only this account's devices: another account's MAC shows up on add (800004).
                found[mac] = absent()
                continue
            if device.get("uniqueServerUrl") and "authName" not in device:
                device = self._devices[mac] = dict(device, **(self._call("GET", "/v2/rps/devices/%s" % device["id"]) or {}))
            found[mac] = found_of(device, servers)
        return found

    # Writing.

    def _ensure_server(self, target):
        for server in self._servers().values():
            if server.get("serverName") == target.server_name:
                if server_differs(server, target):
                    # serverName and url are required on every PATCH.
                    self._call("PATCH", "/v2/rps/servers/%s" % server["id"], server_fields(target), ok=(200, 204))
                    server.update(url=target.url, authName=target.username)
                return server["id"]
        created = self._call("POST", "/v2/rps/servers", server_fields(target), ok=(200, 201)) or {}
        if not created.get("id"):
            raise RpsError("POST /v2/rps/servers: YMCS created the server record without an id")
        self._servers()[created["id"]] = {
            "id": created["id"],
            "serverName": target.server_name,
            "url": target.url,
            "authName": target.username,
        }
        return created["id"]

    def register(self, macs, target, found):
        server_id = self._ensure_server(target)
        new = [m for m in macs if found[m].state != "ours"]
        with_serial = [m for m in new if self.devices[m].get("serial")]
        errors = self._add("/v2/rps/addDevices", with_serial, server_id)
        errors.update(self._add("/v2/rps/addDevicesByMac", [m for m in new if m not in with_serial], server_id))
        for mac in (m for m in macs if m not in new):
            device = self._devices[mac]
            fields = {"serverId": server_id}
            if device.get("uniqueServerUrl"):
                # The device's own URL wins over its server's: set it to ours, with the HTTP user, on the device.
                fields.update(uniqueServerUrl=target.url, authName=target.username or "", password=target.password or "")
            elif device.get("serverId") == server_id:
                continue
            try:
                self._call("PATCH", "/v2/rps/devices/%s" % device["id"], fields, ok=(200, 204))
            except YmcsError as exc:
                if exc.status == 401:
                    raise
                errors[mac] = "%s %s" % (exc.code or exc.status, exc.words)
        return errors

    def _add(self, path, macs, server_id):
        """{mac: YMCS's words} of the MACs an add refused, in batches of BATCH."""
        errors = {}
        for start in range(0, len(macs), BATCH):
            chunk = macs[start : start + BATCH]
            items = [
                dict({"mac": m, "serverId": server_id}, **({"sn": self.devices[m]["serial"]} if path.endswith("addDevices") else {}))
                for m in chunk
            ]
            errors.update(self._bulk(path, chunk, items))
        return errors

    def _bulk(self, path, chunk, items):
        """One bulk add: per-MAC errors from its answer; a whole-call refusal is retried MAC by MAC to name the MAC."""
        try:
            answer = self._call("POST", path, items) or {}
        except YmcsError as exc:
            if exc.status == 403 and exc.code in ("900403", None) and path.endswith("addDevicesByMac"):
                return {m: NOT_ENABLED % ("%s %s" % (exc.code, exc.words)).strip() for m in chunk}
            if exc.status not in (400, 409) or exc.code == "800006":
                raise
            if len(chunk) == 1:
                return {chunk[0]: "%s %s" % (exc.code or exc.status, exc.words)}
            errors = {}
            for mac, item in zip(chunk, items):
                errors.update(self._bulk(path, [mac], [item]))
            return errors
        return self._item_errors(answer, chunk, "mac", "errorInfo", adding=True)

    def _item_errors(self, answer, macs, key, words, adding):
        """{mac: words} of the MACs a bulk call failed for.

        When it counts failures, the MACs are read back: a retried add may find its MAC
        added by the first attempt, and a delete of a device already gone is no failure.
        The answer's errors give the words, by MAC or by device id.
        """
        if not int(answer.get("failureCount") or 0) and not answer.get("errors"):
            return {}
        ids = {d["id"]: m for m, d in self._devices.items() if m in macs and d.get("id")}
        named = {}
        for item in answer.get("errors") or []:
            name = str(item.get(key) or "")
            mac = ids.get(name) or (normal_mac(name) if normal_mac(name) in macs else None)
            if mac:
                named[mac] = str(item.get(words) or item.get("msg") or "refused")
        present = account_devices(lambda skip, mac: self._page("/v2/rps/listDevices", skip, mac), macs)
        unnamed = "YMCS counted it among %s failures without saying why" % answer.get("failureCount")
        return {m: named.get(m, unnamed) for m in macs if (m in present) != adding}

    def unregister(self, macs, found):
        errors = {}
        for start in range(0, len(macs), BATCH):
            chunk = macs[start : start + BATCH]
            body = {"deviceIdType": "id", "deviceIds": [self._devices[m]["id"] for m in chunk]}
            answer = self._call("POST", "/v2/rps/delDevices", body) or {}
            errors.update(self._item_errors(answer, chunk, "field", "msg", adding=False))
        return errors

    def pins(self, macs):
        """{mac: PIN} from listDevicePins; MACs without a PIN are left out."""
        pins = {}
        for start in range(0, len(macs), BATCH):
            for item in self._call("POST", "/v2/rps/listDevicePins", {"macs": macs[start : start + BATCH]}) or []:
                if item.get("pin"):
                    pins[normal_mac(item.get("mac"))] = str(item["pin"])
        self._learnt += list(pins.values())
        return pins


def _code(response):
    """The code of a YMCS error body (OAuth errors carry `error` instead), or None."""
    try:
        body = response.json()
    except ValueError:
        return None
    if not isinstance(body, dict):
        return None
    return str(body.get("code") or body.get("error") or "") or None


def _words(response):
    """YMCS's message, with the fields its details name."""
    words = vendor_words(response, keys=("message", "error_description", "error"))
    try:
        details = response.json().get("details") or []
    except (ValueError, AttributeError):
        details = []
    fields = "; ".join("%s: %s" % (d.get("field"), d.get("message")) for d in details if isinstance(d, dict))
    return "%s (%s)" % (words, fields) if fields else words
