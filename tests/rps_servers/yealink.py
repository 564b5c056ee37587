"""Yealink RPS JSON API v1 contract server (docs/rps.md, "Yealink RPS JSON API v1").

Checks every request's signature (HMAC-SHA256 over method, Content-MD5, the X-Ca-*
headers, the path and the sorted query), the timestamp window and nonce reuse, then
the call and its fields against the table in docs/rps.md; keeps servers and devices
(devices have ids of their own, distinct from the MAC); answers {"ret", "data",
"error"}: ret 1 with data, ret 0 with data null for deletes, and refusals as HTTP 200
with ret -1, a message key in error.msg and the refused MAC or id in data.
Where no public source shows an answer, this server's choice is marked "our model".
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time
import uuid
from urllib.parse import parse_qsl

from .common import FakeRps, json_reply

WINDOW_MS = 15 * 60 * 1000  # our model: no source gives the replay window
MAC = re.compile(r"^[0-9a-f]{12}$")
SERVER_NAME = re.compile(r"^[A-Za-z0-9 ._-]{1,20}$")
URL = re.compile(r"^(https?|ftp|tftp)://")
BATCH_MAX = 100  # our model: no source gives a v1 batch limit
LIST = {"key", "status", "skip", "limit", "autoCount"}
DEVICE_FIELDS = {"serverId", "uniqueServerUrl", "authName", "password", "remark"}
SERVER_FIELDS = {"authName", "password", "certificateUrl"}
# action -> (HTTP method, required fields, optional fields). Sources: docs/rps.md, v1 calls.
ROUTES = {
    "server/list": ("POST", set(), LIST),
    "server/detail": ("GET", {"id"}, set()),
    "server/checkServerName": ("GET", {"serverName"}, set()),
    "server/add": ("POST", {"serverName", "url"}, SERVER_FIELDS),
    "server/edit": ("POST", {"id", "serverName", "url"}, SERVER_FIELDS),
    "server/delete": ("POST", {"ids"}, set()),
    "device/list": ("POST", set(), LIST),
    "device/detail": ("GET", {"id"}, set()),
    "device/checkMac": ("GET", {"mac"}, set()),
    "device/checkDevice": ("GET", {"mac"}, set()),
    "device/serverList": ("GET", set(), set()),
    "device/add": ("POST", {"macs"}, DEVICE_FIELDS),
    "device/edit": ("POST", {"id"}, DEVICE_FIELDS),
    "device/migrate": ("POST", {"ids", "serverId"}, set()),
    "device/delete": ("POST", {"ids"}, set()),
}
PREFIX = "/api/open/v1/"


class YealinkFake(FakeRps):
    ouis = ("001565", "805ec0", "249ad8", "44dbd2")

    def __init__(self, tls=None, key="yl-key-id", secret="yl-secret-Zq8p"):
        super().__init__(tls)
        self.key, self.secret = key, secret
        self.nonces = set()
        self.servers = {}  # id -> {id, serverName, url, authName, password}
        self.devices = {}  # mac -> our device {id, mac, serverId, uniqueServerUrl, authName, password, remark}, or {"owner": "other"}
        self.taken_names = set()  # server names other enterprises hold (our model: names are unique across enterprises)
        self.calls = []  # (method, action) of every call that passed the signature check

    # Answers.

    def ok(self, data, ret=1):
        return json_reply(200, {"ret": ret, "data": data, "error": None})

    def refuse(self, msg, data=None, code=400, status=200, field_errors=()):
        """A refusal: HTTP 200, ret -1, the message key, the refused MAC or id in data (fspbx's fixture)."""
        error = {"msg": msg, "errorCode": code, "fieldErrors": list(field_errors)}
        return json_reply(status, {"ret": -1, "data": data, "error": error})

    # Signature.

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
        path, _sep, query = request.path.partition("?")
        lines.append(path.lstrip("/"))
        if query:
            # Sorted by name, values as sent before URL encoding, a blank value as the name alone (RpsJsonOpenApiDemo).
            pairs = sorted(parse_qsl(query, keep_blank_values=True))
            lines.append("&".join(k if not v.strip() else "%s=%s" % (k, v) for k, v in pairs))
        wanted = base64.b64encode(hmac.new(self.secret.encode(), "\n".join(lines).encode(), hashlib.sha256).digest()).decode()
        if not hmac.compare_digest(wanted, h["X-Ca-Signature"]):
            return "signature mismatch"
        self.nonces.add(h["X-Ca-Nonce"])
        return None

    def saw_faulted(self, request):
        # our model, the strict reading: the nonce of a request that failed (429, 5xx, no answer) is spent.
        if request.headers.get("X-Ca-Nonce"):
            self.nonces.add(request.headers["X-Ca-Nonce"])

    # Dispatch.

    def handle(self, request):
        problem = self.check_signature(request)
        if problem:
            return self.refuse(problem, code=401, status=401)  # our model: how api-dm refuses a signature is not shown
        path, _sep, query = request.path.partition("?")
        action = path[len(PREFIX) :] if path.startswith(PREFIX) else None
        if action not in ROUTES:
            return self.refuse("API not found", code=404, status=404)  # our model
        method, required, optional = ROUTES[action]
        if request.method != method:
            return self.refuse("Request method '%s' not supported" % request.method, code=405, status=405)  # our model
        if method == "GET":
            body = dict(parse_qsl(query, keep_blank_values=True))
        elif not request.headers.get("Content-Type", "").startswith("application/json"):
            return self.refuse("Content-Type must be application/json", code=415, status=415)  # our model
        else:
            body = request.json()
            if not isinstance(body, dict):
                return self.refuse("request.param.invalid")
        # our model: fields no public client sends are refused (stricter than the service may be).
        unknown, missing = set(body) - required - optional, required - set(body)
        if unknown or missing:
            errors = [{"field": f, "msg": "unknown"} for f in sorted(unknown)] + [{"field": f, "msg": "required"} for f in sorted(missing)]
            return self.refuse("request.param.invalid", field_errors=errors)
        self.calls.append((method, action))
        return getattr(self, action.replace("/", "_"))(body)

    # Servers.

    def page(self, items, body):
        skip, limit = int(body.get("skip") or 0), int(body.get("limit") or 10)
        return self.ok({"skip": skip, "limit": limit, "total": len(items), "data": items[skip : skip + limit]})

    def public(self, server):
        return {k: server[k] for k in ("id", "serverName", "url", "authName")}

    def server_list(self, body):
        key = body.get("key") or ""
        items = [self.public(s) for s in self.servers.values() if key in s["serverName"] or key in s["url"]]
        return self.page(items, body)

    def server_detail(self, body):
        server = self.servers.get(body["id"])
        return self.ok(self.public(server)) if server else self.refuse("server.not.found", body["id"])

    def server_checkServerName(self, body):
        name = body["serverName"]
        return self.ok(name in self.taken_names or any(s["serverName"] == name for s in self.servers.values()))

    def _server_problem(self, body, server_id=None):
        """our model: message keys for refused server fields (the limits are fspbx's and public clients')."""
        if not SERVER_NAME.match(body["serverName"]):
            return "server.serverName.invalid"
        if not URL.match(body["url"]) or len(body["url"]) > 512:
            return "server.url.invalid"
        for field in ("authName", "password"):
            if len(body.get(field) or "") > 32:
                return "server.%s.invalid" % field
        clash = any(s["serverName"] == body["serverName"] and i != server_id for i, s in self.servers.items())
        return "server.serverName.existed" if clash or body["serverName"] in self.taken_names else None

    def server_add(self, body):
        problem = self._server_problem(body)
        if problem:
            return self.refuse(problem, body["serverName"])
        sid = uuid.uuid4().hex
        self.servers[sid] = {"id": sid, "serverName": body["serverName"], "url": body["url"]}
        self.servers[sid].update(authName=body.get("authName") or "", password=body.get("password") or "")
        return self.ok(self.public(self.servers[sid]))

    def server_edit(self, body):
        if body["id"] not in self.servers:
            return self.refuse("server.not.found", body["id"])
        problem = self._server_problem(body, body["id"])
        if problem:
            return self.refuse(problem, body["serverName"])
        self.servers[body["id"]].update({k: body.get(k) or "" for k in ("serverName", "url", "authName", "password")})
        return self.ok(self.public(self.servers[body["id"]]))

    def server_delete(self, body):
        for sid in body["ids"]:
            if sid not in self.servers:
                return self.refuse("server.not.found", sid)
            if any(d.get("serverId") == sid for d in self.devices.values()):
                return self.refuse("server.device.bound", sid)  # our model
        for sid in body["ids"]:
            del self.servers[sid]
        return self.ok(None, ret=0)

    # Devices.

    def item(self, device, detail=False):
        """A device as device/list shows it; device/detail adds authName (our model: the list leaves it out)."""
        server = self.servers.get(device.get("serverId")) or {}
        shown = {k: device.get(k) for k in ("id", "mac", "serverId", "uniqueServerUrl", "remark")}
        shown.update(serverName=server.get("serverName"), serverUrl=server.get("url"), ipAddress=None)
        if detail:
            shown["authName"] = device.get("authName")
        return shown

    def ours(self):
        return {mac: d for mac, d in self.devices.items() if "owner" not in d}

    def by_id(self, device_id):
        return next((d for d in self.ours().values() if d["id"] == device_id), None)

    def device_list(self, body):
        key = re.sub(r"[:.\-]", "", body.get("key") or "").lower()
        return self.page([self.item(d) for mac, d in sorted(self.ours().items()) if key in mac], body)

    def device_detail(self, body):
        device = self.by_id(body["id"])
        return self.ok(self.item(device, detail=True)) if device else self.refuse("device.not.found", body["id"])

    def device_checkMac(self, body):
        mac = body["mac"].lower()
        return self.ok({"existed": mac in self.devices, "self": mac in self.ours()})

    def device_checkDevice(self, body):
        """our model: the XML-RPC twin's words (registered / unregistered / registered elsewhere)."""
        device = self.devices.get(body["mac"].lower())
        return self.ok("unregistered" if device is None else "registered elsewhere" if "owner" in device else "registered")

    def device_serverList(self, body):
        return self.ok([{"id": s["id"], "serverName": s["serverName"]} for s in self.servers.values()])

    def _macs_problem(self, macs):
        if not isinstance(macs, list) or not 0 < len(macs) <= BATCH_MAX:
            return self.refuse("request.param.invalid", field_errors=[{"field": "macs", "msg": "1 to %d MACs" % BATCH_MAX}])
        for mac in macs:
            if not isinstance(mac, str) or not MAC.match(mac):
                return self.refuse("device.mac.invalid", mac)  # our model key; 12 lowercase hex is what every client sends
        return None

    def device_add(self, body):
        problem = self._macs_problem(body["macs"])
        if problem:
            return problem
        if body.get("serverId") is None and not body.get("uniqueServerUrl"):
            return self.refuse("request.param.invalid", field_errors=[{"field": "serverId", "msg": "serverId or uniqueServerUrl"}])
        if body.get("serverId") is not None and body["serverId"] not in self.servers:
            return self.refuse("server.not.found", body["serverId"])
        # our model: the first refused MAC refuses the whole call and nothing is added (fspbx shows a one-MAC call).
        for mac in body["macs"]:
            if not self.vendor_mac(mac):
                return self.refuse("device.mac.invalid", mac)  # our model
            if mac in self.devices:
                other = "owner" in self.devices[mac]
                return self.refuse("device.mac.added.by.other" if other else "device.mac.existed", mac, code=409)
        added = []
        for mac in body["macs"]:
            self.devices[mac] = {"id": uuid.uuid4().hex, "mac": mac, **{k: body.get(k) for k in DEVICE_FIELDS}}
            added.append(self.item(self.devices[mac]))
        return self.ok(added)

    def device_edit(self, body):
        device = self.by_id(body["id"])
        if device is None:
            return self.refuse("device.not.found", body["id"])
        if body.get("serverId") is not None and body["serverId"] not in self.servers:
            return self.refuse("server.not.found", body["serverId"])
        device.update({k: body[k] for k in DEVICE_FIELDS if k in body})
        return self.ok(self.item(device, detail=True))

    def _ids_problem(self, ids):
        if not isinstance(ids, list) or not 0 < len(ids) <= BATCH_MAX:
            return self.refuse("request.param.invalid", field_errors=[{"field": "ids", "msg": "1 to %d ids" % BATCH_MAX}])
        missing = [i for i in ids if self.by_id(i) is None]
        return self.refuse("device.not.found", missing[0]) if missing else None

    def device_migrate(self, body):
        problem = self._ids_problem(body["ids"])
        if problem:
            return problem
        if body["serverId"] not in self.servers:
            return self.refuse("server.not.found", body["serverId"])
        for device_id in body["ids"]:
            self.by_id(device_id)["serverId"] = body["serverId"]
        return self.ok(None)  # our model: the answer of migrate is not shown

    def device_delete(self, body):
        problem = self._ids_problem(body["ids"])
        if problem:
            return problem
        for device_id in body["ids"]:
            del self.devices[self.by_id(device_id)["mac"]]
        return self.ok(None, ret=0)  # fspbx's fixture

    # For tests.

    def url_of(self, mac):
        """The URL a phone with this MAC is sent to: the device's own uniqueServerUrl, else its server's."""
        device = self.ours().get(mac)
        if not device:
            return None
        if device.get("uniqueServerUrl"):
            return device["uniqueServerUrl"]
        server = self.servers.get(device.get("serverId"))
        return server["url"] if server else None

    def give_to_other_account(self, mac):
        self.devices[mac.lower()] = {"owner": "other"}
