# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Yealink RPS, JSON API v1 with signed requests (docs/rps.md, "Yealink RPS JSON API v1").

Servers (name, URL, HTTP user/password) and devices (MAC -> server) are separate
objects: we keep one server per provisioning URL and move MACs between servers.
Only calls that public clients of the API make are used (docs/rps.md lists each
with its source). What both Yealink APIs share (server records, reading a device's
URL, listing the account) lives here too; yealink_ymcs.py is the v2 API.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import time
import uuid
from urllib.parse import urlsplit

from ansible_collections.pbxops.autoprov.plugins.module_utils._rps.base import Client, Found, RpsError, absent, expect_json

BATCH = 100  # MACs or ids per device/add, migrate, delete (no source gives a limit; fspbx sends 100)
PAGE = 100  # items per list page
SERVER_NAME_MAX = 20
SERVER_NAME = re.compile(r"^[A-Za-z0-9 ._-]+$")
SERVER_URL_MAX = 512
SERVER_AUTH_MAX = 32


def string_to_sign(method, path, headers, query=None):
    """The text Yealink signs: method, Content-MD5 (with a body), the X-Ca-* headers sorted, path, query.

    Query parameters are sorted by name and written k=v, or k alone when the value is
    blank (Yealink's RpsJsonOpenApiDemo, QueryFormParamHeaderBuilder).
    """
    lines = [method.upper()]
    if headers.get("Content-MD5"):
        lines.append("Content-MD5:" + headers["Content-MD5"])
    lines += ["%s:%s" % (name, headers[name]) for name in ("X-Ca-Key", "X-Ca-Nonce", "X-Ca-Timestamp")]
    lines.append(path.lstrip("/"))
    if query:
        lines.append("&".join(k if not str(query[k]).strip() else "%s=%s" % (k, query[k]) for k in sorted(query)))
    return "\n".join(lines)


def sign(secret, method, path, body=None, key="", nonce=None, timestamp=None, query=None):
    """Headers for one request: X-Ca-Key/Nonce/Timestamp, Content-MD5 and X-Ca-Signature (HMAC-SHA256, base64)."""
    headers = {
        "X-Ca-Key": key,
        "X-Ca-Nonce": nonce or uuid.uuid4().hex,
        "X-Ca-Timestamp": str(timestamp if timestamp is not None else int(time.time() * 1000)),
    }
    if body:
        headers["Content-MD5"] = base64.b64encode(hashlib.md5(body).digest()).decode("ascii")
    text = string_to_sign(method, path, headers, query)
    digest = hmac.new(secret.encode("utf-8"), text.encode("utf-8"), hashlib.sha256).digest()
    headers["X-Ca-Signature"] = base64.b64encode(digest).decode("ascii")
    return headers


# What both Yealink APIs share.


def normal_mac(text):
    """A MAC as Yealink may return it (separators, any case) as 12 lowercase hex digits."""
    return re.sub(r"[:.\-]", "", str(text or "")).lower()


def server_record_problems(vendor, target):
    """Problems of a target under Yealink's server-record limits (both APIs): name, URL, user, password."""
    if target is None:
        return []
    problems = []
    if not SERVER_NAME.match(target.server_name):
        problems.append("server_name: %r: %s server names hold only A-Z a-z 0-9 space . _ -" % (target.server_name, vendor))
    if len(target.url) > SERVER_URL_MAX:
        problems.append("url: %d characters; %s keeps at most %d" % (len(target.url), vendor, SERVER_URL_MAX))
    for field, value in (("url_username", target.username), ("url_password", target.password)):
        if value and len(value) > SERVER_AUTH_MAX:
            problems.append("%s: %d characters; %s keeps at most %d in a server record" % (field, len(value), vendor, SERVER_AUTH_MAX))
    return problems


def all_items(page, items=None, total=None):
    """Every item of a paged list. page(skip) -> (items, total); items/total: its first page, when already read."""
    if items is None:
        items, total = page(0)
    items, last = list(items), items
    while last and (len(items) < total if total is not None else len(last) >= PAGE):
        last, total = page(len(items))
        items += last
    return items


def account_devices(page, macs):
    """{mac: device} of the MACs that are in our account.

    page(skip, mac) -> (items, total) reads one page of the account's devices (all of
    them when mac is None; the MAC search is fuzzy, so matches are compared exactly).
    The whole account is listed when that takes no more requests than one search per
    MAC; otherwise each MAC is searched for.
    """
    wanted = set(macs)
    items, total = page(0, None)
    if total is None or (total + PAGE - 1) // PAGE - 1 <= len(macs):
        items = all_items(lambda skip: page(skip, None), items, total)
        return {normal_mac(d.get("mac")): d for d in items if normal_mac(d.get("mac")) in wanted}
    found = {}
    for mac in macs:
        for device in page(0, mac)[0]:
            if normal_mac(device.get("mac")) == mac:
                found[mac] = device
    return found


def found_of(device, servers):
    """Found for one of our devices: its own uniqueServerUrl wins over its server's URL (as public clients read it)."""
    server = servers.get(device.get("serverId")) or {}
    if device.get("uniqueServerUrl"):
        return Found("ours", url=device["uniqueServerUrl"], username=device.get("authName") or None, message=server.get("serverName"))
    url = device.get("serverUrl") or server.get("url")
    return Found("ours", url=url, username=server.get("authName") or None, message=server.get("serverName"))


def server_fields(target):
    fields = {"serverName": target.server_name, "url": target.url}
    if target.username:
        fields.update(authName=target.username, password=target.password or "")
    return fields


def server_differs(server, target):
    """Our server record must be written: its URL or user differ, or there is a password to set."""
    return server.get("url") != target.url or (server.get("authName") or None) != target.username or bool(target.password)


# v1 message keys (error.msg) and what they mean, for the per-MAC message. Sources: docs/rps.md.
MEANINGS = {
    "device.mac.added.by.other": "registered to another enterprise at the Yealink RPS; release it there first",
    "device.operate.forbidden": "another enterprise's device; this account may not change it",
    "device.mac.existed": "already in this account",
    "device.not.found": "not in this account",
    "device.mac.invalid": "the RPS does not take this MAC",
}


def explain(text):
    """A refusal's words, with what the message key means when it is a known one."""
    meaning = MEANINGS.get(str(text).split(" ", 1)[0])
    return "%s: %s" % (meaning, text) if meaning else text


class Refusal(RpsError):
    """The RPS refused one call (v1: ret < 0) in its own words; data may name the MAC or id it refused."""

    def __init__(self, action, text, data=None):
        super().__init__("%s: %s" % (action, text))
        self.text = text
        self.data = data


class YealinkClient(Client):
    vendor = "yealink"
    default_api_url = "https://api-dm.yealink.com:8443"
    credentials_required = ("key_id", "secret")
    url_credentials = "record"
    server_name_max = SERVER_NAME_MAX

    @classmethod
    def input_problems(cls, credentials, api_url, target):
        return server_record_problems(cls.vendor, target)

    def __init__(self, *args):
        super().__init__(*args)
        self._server_cache = None
        self._devices = {}  # mac -> our device as the RPS listed it

    def _call(self, method, action, payload=None, query=None):
        """data of one signed call to /api/open/v1/<action>; Refusal when the answer's ret is below 0."""
        path = urlsplit(self.api_url).path.rstrip("/") + "/api/open/v1/" + action
        body = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode("utf-8") if payload is not None else None

        def headers():
            # Each attempt gets its own nonce and timestamp: the RPS refuses one it has seen.
            signed = sign(self.credentials["secret"], method, path, body, key=self.credentials["key_id"], query=query)
            if body is not None:
                signed["Content-Type"] = "application/json;charset=UTF-8"
            return signed

        url = self.api_url + "/api/open/v1/" + action
        response = self.http.request(method, url, data=body, params=query, headers_for=headers)
        if response.status_code in (401, 403):
            raise RpsError("%s: the RPS refused the access key (HTTP %s): %s" % (action, response.status_code, response.text[:200]))
        answer = expect_json(response, action)
        if response.status_code != 200 or not isinstance(answer, dict) or not isinstance(answer.get("ret"), int):
            raise RpsError("%s: HTTP %s: %s" % (action, response.status_code, error_text(answer)))
        # Success is ret >= 0: deletes answer ret 0 with data null; refusals come as HTTP 200 with ret -1.
        if answer["ret"] < 0:
            raise Refusal(action, error_text(answer), answer.get("data"))
        return answer.get("data")

    def _post(self, action, payload):
        return self._call("POST", action, payload)

    def _get(self, action, **query):
        return self._call("GET", action, query=query)

    def _page(self, action, skip, key=None):
        payload = {"skip": skip, "limit": PAGE, "autoCount": True}
        if key:
            payload["key"] = key
        data = self._post(action, payload) or {}
        return data.get("data") or [], data.get("total")

    def _servers(self):
        """{id: server record} of the whole account."""
        if self._server_cache is None:
            self._server_cache = {s["id"]: s for s in all_items(lambda skip: self._page("server/list", skip))}
        return self._server_cache

    def lookup(self, macs, target=None):
        servers = self._servers()
        self._devices = account_devices(lambda skip, mac: self._page("device/list", skip, mac), macs)
        found = {}
        for mac in macs:
            device = self._devices.get(mac)
            if device is not None:
                if device.get("uniqueServerUrl") and "authName" not in device:
                    device = self._devices[mac] = dict(device, **(self._get("device/detail", id=device["id"]) or {}))
                found[mac] = found_of(device, servers)
            elif target is not None:
                found[mac] = self._owner(mac)
            else:
                found[mac] = absent()  # nothing of ours to remove; whose it is does not matter
        return found

    def _owner(self, mac):
        """A MAC not in our account: absent, or foreign when device/checkMac says it exists (in another enterprise)."""
        check = self._get("device/checkMac", mac=mac) or {}
        if check.get("existed") and check.get("self") is not True:
            return Found("foreign", message="device/checkMac: the MAC is in another enterprise's account")
        return absent()

    def _ensure_server(self, target):
        """The id of our server record for target, created or corrected."""
        for server in self._servers().values():
            if server.get("serverName") == target.server_name:
                if server_differs(server, target):
                    self._post("server/edit", dict(server_fields(target), id=server["id"]))
                    server.update(url=target.url, authName=target.username)
                return server["id"]
        try:
            data = self._post("server/add", server_fields(target))
        except Refusal as refusal:
            raise RpsError(
                "server/add %r refused: %s (server names may be unique across all Yealink enterprises: "
                "another server_name prefix avoids a clash)" % (target.server_name, refusal.text)
            )
        self._servers()[data["id"]] = {"id": data["id"], "serverName": target.server_name, "url": target.url, "authName": target.username}
        return data["id"]

    def _each_batch(self, action, keys, body):
        """{key: refusal text} over calls of at most BATCH keys each.

        v1 refuses a whole call (ret -1) and names at most one key in data: that key is
        set aside and the others are sent again; a refusal that names none is retried
        key by key, so every key ends up done or refused in the RPS's own words.
        """
        errors, pending = {}, [keys[i : i + BATCH] for i in range(0, len(keys), BATCH)]
        while pending:
            chunk = pending.pop(0)
            try:
                self._post(action, body(chunk))
            except Refusal as refusal:
                named = [k for k in chunk if normal_mac(k) == normal_mac(refusal.data)] if isinstance(refusal.data, str) else []
                if named:
                    errors[named[0]] = explain(refusal.text)
                    rest = [k for k in chunk if k != named[0]]
                    pending += [rest] if rest else []
                elif len(chunk) > 1:
                    pending += [[k] for k in chunk]
                else:
                    errors[chunk[0]] = explain(refusal.text)
        return errors

    def register(self, macs, target, found):
        server_id = self._ensure_server(target)
        new = [m for m in macs if found[m].state != "ours"]
        own_url = [m for m in macs if m not in new and self._devices[m].get("uniqueServerUrl")]
        moved = [m for m in macs if m not in new and m not in own_url and self._devices[m].get("serverId") != server_id]
        errors = self._each_batch("device/add", new, lambda chunk: {"macs": chunk, "serverId": server_id}) if new else {}
        self._added_after_all(errors, server_id)
        errors.update(self._by_id("device/migrate", moved, lambda ids: {"ids": ids, "serverId": server_id}))
        for mac in own_url:
            # The device's own URL wins over its server's: set it to ours, with the HTTP user, on the device itself.
            fields = {"id": self._devices[mac]["id"], "serverId": server_id, "uniqueServerUrl": target.url}
            fields.update(authName=target.username or "", password=target.password or "")
            try:
                self._post("device/edit", fields)
            except Refusal as refusal:
                errors[mac] = explain(refusal.text)
        return errors

    def _added_after_all(self, errors, server_id):
        """Drop "already in this account" refusals of MACs that are on our server now (an add retried after a timeout)."""
        existed = [m for m, text in errors.items() if "device.mac.existed" in text]
        if existed:
            now = account_devices(lambda skip, mac: self._page("device/list", skip, mac), existed)
            for mac in existed:
                if (now.get(mac) or {}).get("serverId") == server_id:
                    del errors[mac]

    def _by_id(self, action, macs, body):
        """_each_batch over the devices' ids; errors by MAC. A device the RPS no longer has counts as gone."""
        if not macs:
            return {}
        mac_of = {self._devices[m]["id"]: m for m in macs}
        errors = self._each_batch(action, list(mac_of), body)
        gone = action == "device/delete"
        return {mac_of[i]: text for i, text in errors.items() if not (gone and "device.not.found" in text)}

    def unregister(self, macs, found):
        return self._by_id("device/delete", macs, lambda ids: {"ids": ids})


def error_text(answer):
    """The RPS's words in a v1 answer: error (or errors) .msg, else its fieldErrors' msg, then the errorCode."""
    if not isinstance(answer, dict):
        return str(answer)[:200]
    error = answer.get("error") or answer.get("errors")
    if not isinstance(error, dict):
        return str(error or answer)[:200]
    words = error.get("msg") or ", ".join(str(f.get("msg")) for f in error.get("fieldErrors") or [] if isinstance(f, dict) and f.get("msg"))
    code = error.get("errorCode")
    return ("%s (%s)" % (words or "refused", code) if code is not None else words or "refused")[:300]
