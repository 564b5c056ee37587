# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Yealink RPS, JSON API with signed requests (docs/rps.md, "Yealink").

Servers (name, URL, HTTP user/password) and devices (MAC -> server) are separate
objects: we keep one server per provisioning URL and move MACs between servers.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from urllib.parse import urlsplit

from ansible_collections.pbxops.autoprov.plugins.module_utils._rps.base import Client, Found, RpsError, absent, expect_json

BATCH = 100  # devices per add / migrate / delete call
PAGE = 100


def string_to_sign(method, path, headers, query=None):
    """The text Yealink signs: method, Content-MD5 (with a body), the X-Ca-* headers sorted, path, query."""
    lines = [method.upper()]
    if headers.get("Content-MD5"):
        lines.append("Content-MD5:" + headers["Content-MD5"])
    lines += ["%s:%s" % (name, headers[name]) for name in ("X-Ca-Key", "X-Ca-Nonce", "X-Ca-Timestamp")]
    lines.append(path.lstrip("/"))
    if query:
        lines.append("&".join("%s=%s" % (k, query[k]) for k in sorted(query)))
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


class YealinkClient(Client):
    vendor = "yealink"
    default_api_url = "https://api-dm.yealink.com:8443"
    credentials_required = ("key_id", "secret")
    url_credentials = "record"

    def _post(self, action, payload):
        """data of one signed POST /api/open/v1/<action>; RpsError unless ret == 1."""
        path = urlsplit(self.api_url).path.rstrip("/") + "/api/open/v1/" + action
        body = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode("utf-8")
        headers = sign(self.credentials["secret"], "POST", path, body, key=self.credentials["key_id"])
        headers["Content-Type"] = "application/json;charset=UTF-8"
        response = self.http.request("POST", self.api_url + "/api/open/v1/" + action, data=body, headers=headers)
        answer = expect_json(response, action)
        if response.status_code in (401, 403):
            raise RpsError("%s: the RPS refused the access key (HTTP %s): %s" % (action, response.status_code, _error_text(answer)))
        if response.status_code != 200 or answer.get("ret") != 1:
            raise RpsError("%s: HTTP %s: %s" % (action, response.status_code, _error_text(answer)))
        return answer.get("data")

    def _paged(self, action, payload):
        skip, items = 0, []
        while True:
            data = self._post(action, dict(payload, skip=skip, limit=PAGE, autoCount=True))
            items += data.get("data") or []
            skip += PAGE
            if skip >= data.get("total", 0):
                return items

    def __init__(self, *args):
        super().__init__(*args)
        self._server_cache = None

    def _servers(self):
        if self._server_cache is None:
            self._server_cache = {s["id"]: s for s in self._paged("server/list", {})}
        return self._server_cache

    def lookup(self, macs, target=None):
        servers = self._servers()
        found = {}
        for start in range(0, len(macs), BATCH):
            chunk = macs[start : start + BATCH]
            for device in self._paged("device/list", {"macs": chunk}):
                server = servers.get(device.get("serverId")) or {}
                found[device["mac"].lower()] = Found(
                    "ours", url=server.get("url"), username=server.get("authName") or None, message=server.get("serverName")
                )
            others = [m for m in chunk if m not in found]
            if others:
                for item in self._post("device/checkRegistered", {"macs": others}) or []:
                    if item.get("registered"):
                        found[item["mac"].lower()] = Found(
                            "foreign", message=item.get("msg") or "device/checkRegistered: registered by another enterprise"
                        )
        return {mac: found.get(mac, absent()) for mac in macs}

    def _ensure_server(self, target):
        """The id of our server object for target, created or corrected."""
        wanted = {"serverName": target.server_name, "url": target.url, "authName": target.username or "", "password": target.password or ""}
        for server in self._servers().values():
            if server.get("serverName") == target.server_name:
                if server.get("url") != target.url or (server.get("authName") or "") != wanted["authName"] or target.password:
                    self._post("server/edit", dict(wanted, id=server["id"]))
                return server["id"]
        data = self._post("server/add", wanted)
        self._server_cache[data["id"]] = dict(wanted, id=data["id"])
        return data["id"]

    def _batch(self, action, macs, extra):
        errors = {}
        for start in range(0, len(macs), BATCH):
            data = self._post(action, dict(extra, macs=macs[start : start + BATCH])) or {}
            for item in data.get("errors") or []:
                errors[item["mac"].lower()] = item.get("errorInfo") or "refused"
        return errors

    def register(self, macs, target, found):
        server_id = self._ensure_server(target)
        new = [m for m in macs if found[m].state != "ours"]
        moved = [m for m in macs if found[m].state == "ours"]
        errors = self._batch("device/add", new, {"serverId": server_id}) if new else {}
        if moved:
            errors.update(self._batch("device/migrate", moved, {"serverId": server_id}))
        return errors

    def unregister(self, macs, found):
        return self._batch("device/delete", macs, {})


def _error_text(answer):
    error = answer.get("error") if isinstance(answer, dict) else None
    if isinstance(error, dict):
        return "%s (%s)" % (error.get("msg"), error.get("errorCode"))
    return str(error or answer)[:200]
