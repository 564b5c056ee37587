"""Yealink RPS JSON API contract server (docs/rps.md, "Yealink").

Checks every request's signature (HMAC-SHA256 over method, Content-MD5, the
X-Ca-* headers and the path), the timestamp window and nonce reuse, then the
field names of each call; keeps servers and devices; answers {"ret", "data", "error"}.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time

from .common import FakeRps, json_reply

WINDOW_MS = 15 * 60 * 1000
MAC = re.compile(r"^[0-9a-fA-F]{12}$")
SERVER_NAME = re.compile(r"^[A-Za-z0-9 ._-]{1,64}$")
FIELDS = {
    "server/list": ({"skip", "limit"}, {"autoCount"}),
    "server/add": ({"serverName", "url"}, {"authName", "password"}),
    "server/edit": ({"id", "serverName", "url"}, {"authName", "password"}),
    "device/list": ({"skip", "limit"}, {"autoCount", "macs"}),
    "device/checkRegistered": ({"macs"}, set()),
    "device/add": ({"macs", "serverId"}, {"remark"}),
    "device/migrate": ({"macs", "serverId"}, set()),
    "device/delete": ({"macs"}, set()),
}


class YealinkFake(FakeRps):
    ouis = ("001565", "805ec0", "249ad8", "44dbd2")

    def __init__(self, tls=None, key="yl-key-id", secret="yl-secret-Zq8p"):
        super().__init__(tls)
        self.key, self.secret = key, secret
        self.nonces = set()
        self.servers = {}  # id -> {serverName, url, authName, password}
        self.devices = {}  # mac -> {"serverId": id} ours, or {"owner": "other"}
        self.next_id = 1

    def error(self, status, code, msg):
        return json_reply(status, {"ret": -1, "data": None, "error": {"errorCode": code, "msg": msg}})

    def ok(self, data):
        return json_reply(200, {"ret": 1, "data": data, "error": None})

    def check_signature(self, request):
        h = request.headers
        for name in ("X-Ca-Key", "X-Ca-Nonce", "X-Ca-Timestamp", "X-Ca-Signature"):
            if not h.get(name):
                return "missing header %s" % name
        if h["X-Ca-Key"] != self.key:
            return "unknown X-Ca-Key"
        if not h["X-Ca-Timestamp"].isdigit() or abs(int(h["X-Ca-Timestamp"]) - time.time() * 1000) > WINDOW_MS:
            return "X-Ca-Timestamp outside the 15 minute window"
        if h["X-Ca-Nonce"] in self.nonces:
            return "X-Ca-Nonce already used (replay)"
        lines = [request.method]
        if request.body:
            md5 = base64.b64encode(hashlib.md5(request.body).digest()).decode()
            if h.get("Content-MD5") != md5:
                return "Content-MD5 does not match the body"
            lines.append("Content-MD5:" + md5)
        lines += ["X-Ca-Key:" + h["X-Ca-Key"], "X-Ca-Nonce:" + h["X-Ca-Nonce"], "X-Ca-Timestamp:" + h["X-Ca-Timestamp"]]
        path, query = (request.path.split("?", 1) + [""])[:2]
        lines.append(path.lstrip("/"))
        if query:
            lines.append("&".join(sorted(query.split("&"))))
        wanted = base64.b64encode(hmac.new(self.secret.encode(), "\n".join(lines).encode(), hashlib.sha256).digest()).decode()
        if not hmac.compare_digest(wanted, h["X-Ca-Signature"]):
            return "signature mismatch"
        self.nonces.add(h["X-Ca-Nonce"])
        return None

    def handle(self, request):
        problem = self.check_signature(request)
        if problem:
            return self.error(401, "900401", problem)
        action = request.path.partition("?")[0]
        if request.method != "POST" or not action.startswith("/api/open/v1/") or action[13:] not in FIELDS:
            return self.error(404, "900404", "no such interface %s %s" % (request.method, action))
        action = action[13:]
        if not request.headers.get("Content-Type", "").startswith("application/json"):
            return self.error(400, "900400", "Content-Type must be application/json")
        body = request.json()
        required, optional = FIELDS[action]
        unknown = set(body) - required - optional
        missing = required - set(body)
        if unknown or missing:
            return self.error(400, "900400", "bad parameters: unknown %s, missing %s" % (sorted(unknown), sorted(missing)))
        if "macs" in body:
            if not isinstance(body["macs"], list) or not 0 < len(body["macs"]) <= 100:
                return self.error(400, "900400", "macs: 1 to 100 MAC addresses")
            if any(not isinstance(m, str) or not MAC.match(m) for m in body["macs"]):
                return self.error(400, "900400", "macs: 12 hex digits without separators")
        return getattr(self, action.replace("/", "_"))(body)

    def page(self, items, body):
        return self.ok(
            {"skip": body["skip"], "limit": body["limit"], "total": len(items), "data": items[body["skip"] : body["skip"] + body["limit"]]}
        )

    def server_list(self, body):
        return self.page([{"id": i, **{k: v for k, v in s.items() if k != "password"}} for i, s in sorted(self.servers.items())], body)

    def _server_fields(self, body):
        if not SERVER_NAME.match(body["serverName"]):
            return "Error:The server name can only contain 'A-z 0-9 - _ . '(include space)"
        if not re.match(r"^(https?|ftp|tftp)://", body["url"]):
            return "Error:The url can only begin with 'http://' or 'https://' or 'ftp://' or 'tftp://'"
        return None

    def server_add(self, body):
        problem = self._server_fields(body)
        if problem:
            return self.error(400, "900410", problem)
        if any(s["serverName"] == body["serverName"] for s in self.servers.values()):
            return self.error(400, "900411", "Error:The server name already exists")
        sid = "srv%d" % self.next_id
        self.next_id += 1
        self.servers[sid] = {k: body.get(k, "") for k in ("serverName", "url", "authName", "password")}
        return self.ok({"id": sid})

    def server_edit(self, body):
        problem = self._server_fields(body)
        if problem or body["id"] not in self.servers:
            return self.error(400, "900410", problem or "Error:Invalid server")
        self.servers[body["id"]] = {k: body.get(k, "") for k in ("serverName", "url", "authName", "password")}
        return self.ok(None)

    def device_list(self, body):
        macs = {m.lower() for m in body.get("macs") or self.devices}
        items = [{"id": m, "mac": m, "serverId": d["serverId"]} for m, d in sorted(self.devices.items()) if m in macs and "serverId" in d]
        return self.page(items, body)

    def device_checkRegistered(self, body):
        return self.ok([{"mac": m, "registered": m.lower() in self.devices} for m in body["macs"]])

    def _batch(self, body, change):
        errors = []
        for mac in (m.lower() for m in body["macs"]):
            problem = change(mac)
            if problem:
                errors.append({"mac": mac, "errorInfo": problem})
        n = len(body["macs"])
        return self.ok({"total": n, "successCount": n - len(errors), "failureCount": len(errors), "errors": errors})

    def device_add(self, body):
        if body["serverId"] not in self.servers:
            return self.error(400, "900410", "Error:Invalid server")

        def add(mac):
            if not self.vendor_mac(mac):
                return "Invalid MAC: %s is not a Yealink device" % mac
            if mac in self.devices:
                return "The device has been added by other enterprise" if "owner" in self.devices[mac] else "Existing MAC: %s" % mac
            self.devices[mac] = {"serverId": body["serverId"]}
            return None

        return self._batch(body, add)

    def device_migrate(self, body):
        if body["serverId"] not in self.servers:
            return self.error(400, "900410", "Error:Invalid server")

        def migrate(mac):
            if "serverId" not in self.devices.get(mac, {}):
                return "The device does not exist"
            self.devices[mac]["serverId"] = body["serverId"]
            return None

        return self._batch(body, migrate)

    def device_delete(self, body):
        def delete(mac):
            if "serverId" not in self.devices.get(mac, {}):
                return "The device does not exist"
            del self.devices[mac]
            return None

        return self._batch(body, delete)

    # for tests
    def url_of(self, mac):
        device = self.devices.get(mac)
        return self.servers[device["serverId"]]["url"] if device and "serverId" in device else None

    def give_to_other_account(self, mac):
        self.devices[mac.lower()] = {"owner": "other"}
