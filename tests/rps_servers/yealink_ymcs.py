"""Yealink YMCS Open API v2 contract server, the RPS part (docs/rps.md, "Yealink YMCS API v2").

OAuth 2.0 client credentials (POST /v2/token with Basic id:secret and a JSON body),
bearer tokens that expire, the timestamp and nonce headers on every request (a
replayed nonce answers 403 500403), a bodyless POST 412 900444, unknown paths 404
and known paths with another method 405. Answers have no envelope; errors are
{code, requestId, message, details}. Servers and devices are kept; listDevices shows
only this account's devices; addDevicesByMac must be enabled for the account.
Where no public source shows an answer, this server's choice is marked "our model".
"""

from __future__ import annotations

import base64
import json
import re
import time
import uuid

from .common import FakeRps, json_reply

MAC = re.compile(r"^[0-9a-f]{12}$")
SERVER_NAME = re.compile(r"^[A-Za-z0-9 ._-]{1,20}$")
WINDOW_MS = 15 * 60 * 1000  # our model: no source gives the timestamp window
BULK_MAX = 100
PAGE_MAX = 500
DEVICE_FIELDS = {"serverId", "uniqueServerUrl", "authName", "password", "remark"}
SERVER_FIELDS = {"serverName", "url", "authName", "password", "certificateUrl", "serverCertificateEnable"}
SERVER_FIELDS |= {"serverCertificateEnableWithSHA256", "serverCertificateUrl"}
NOT_FOUND = "The resource does not exist or has been deleted"


class YmcsError(Exception):
    def __init__(self, status, code, message, details=()):
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, list(details)


class YealinkYmcsFake(FakeRps):
    ouis = ("001565", "805ec0", "249ad8", "44dbd2")

    def __init__(self, tls=None, client_id="ymcs-client-id", client_secret="ymcs-secret-Wq7r", expires_in=3600):
        super().__init__(tls)
        self.client_id, self.client_secret, self.expires_in = client_id, client_secret, expires_in
        self.tokens = {}  # token -> expiry (time.time())
        self.issued = []  # every token handed out, for tests
        self.nonces = set()
        self.servers = {}  # id -> {id, serverName, url, authName, password}
        self.devices = {}  # mac -> ours {id, mac, sn, serverId, uniqueServerUrl, authName, password, remark}, or {"owner": "other"}
        self.pins = {}  # mac -> the device PIN the platform generated
        self.mac_only_enabled = True  # Yealink enables addDevicesByMac per account
        self.calls = []  # (method, path) of every call that passed authentication
        self.revoke_after = None  # revoke the current tokens after this many more authenticated calls
        self.routes = {
            ("POST", "/v2/rps/listDevices"): self.list_devices,
            ("POST", "/v2/rps/addDevicesByMac"): self.add_by_mac,
            ("POST", "/v2/rps/addDevices"): self.add_with_sn,
            ("POST", "/v2/rps/devices"): self.add_one,
            ("POST", "/v2/rps/delDevices"): self.del_devices,
            ("POST", "/v2/rps/listDevicePins"): self.list_pins,
            ("POST", "/v2/rps/listServers"): self.list_servers,
            ("POST", "/v2/rps/servers"): self.add_server,
            ("POST", "/v2/rps/delServers"): self.del_servers,
        }
        self.item_routes = {  # /v2/rps/<kind>/{id}
            ("GET", "devices"): self.device_detail,
            ("PATCH", "devices"): self.patch_device,
            ("GET", "servers"): self.server_detail,
            ("PATCH", "servers"): self.patch_server,
        }

    # Answers.

    def fail(self, status, code, message, details=()):
        body = {"code": code, "requestId": uuid.uuid4().hex, "message": message, "details": list(details)}
        return json_reply(status, body)

    # Authentication.

    def replay_problem(self, request):
        """Every request carries timestamp (ms) and nonce (at most 32 characters, used once)."""
        stamp, nonce = request.headers.get("timestamp", ""), request.headers.get("nonce", "")
        if not stamp.isdigit() or abs(int(stamp) - time.time() * 1000) > WINDOW_MS or not 0 < len(nonce) <= 32:
            return self.fail(401, "500401", "Invalid request header")
        if nonce in self.nonces:
            return self.fail(403, "500403", "Request reply")
        self.nonces.add(nonce)
        return None

    def token(self, request):
        if request.basic_auth() != (self.client_id, self.client_secret):
            return self.fail(401, "500401", "Invalid request header")  # what YMCS answered a bad key (LOOP2)
        try:
            grant = json.loads(request.body or b"{}").get("grant_type")
        except (ValueError, AttributeError):
            grant = None
        if grant != "client_credentials":
            return self.fail(400, "70011", "Invalid grant_type")
        token = uuid.uuid4().hex + uuid.uuid4().hex
        self.tokens[token] = time.time() + self.expires_in
        self.issued.append(token)
        return json_reply(200, {"access_token": token, "token_type": "bearer", "expires_in": self.expires_in})

    def bearer_problem(self, request):
        value = request.headers.get("Authorization", "")
        token = value[7:] if value.startswith("Bearer ") else None
        if self.revoke_after is not None:
            if self.revoke_after <= 0:
                self.tokens.clear()
                self.revoke_after = None
            else:
                self.revoke_after -= 1
        if token not in self.tokens or self.tokens[token] < time.time():
            return self.fail(401, "900401", "Not logged in or session expired")
        return None

    def saw_faulted(self, request):
        # our model, the strict reading: the nonce of a request that failed (429, 5xx, no answer) is spent.
        if request.headers.get("nonce"):
            self.nonces.add(request.headers["nonce"])

    # Dispatch.

    def handle(self, request):
        problem = self.replay_problem(request)
        if problem:
            return problem
        path = request.path.partition("?")[0]
        if path == "/v2/token":
            return self.token(request) if request.method == "POST" else self.fail(405, "900501", "Operation not supported")
        problem = self.bearer_problem(request)
        if problem:
            return problem
        handler, item_id = self.route(request.method, path)
        if handler is None:
            # Status codes per DSZPLIB (404 a wrong path, 405 a wrong verb); the bodies are our model.
            known = item_id
            return self.fail(405, "900501", "Operation not supported") if known else self.fail(404, "900404", "Resource not found")
        if request.method in ("POST", "PATCH") and not request.body:
            return self.fail(412, "900444", "Request body is missing")  # the code is DSZPLIB's; the words our model
        self.calls.append((request.method, path))
        try:
            body = json.loads(request.body) if request.body else None
            return handler(body, item_id) if item_id is not None else handler(body)
        except YmcsError as exc:
            return self.fail(exc.status, exc.code, exc.message, exc.details)
        except (ValueError, TypeError, AttributeError, KeyError) as exc:
            return self.fail(400, "900400", "Request parameters are incorrect or missing: %s" % exc)

    def route(self, method, path):
        """(handler, item id or None); (None, whether the path exists with another method) when there is none."""
        if (method, path) in self.routes:
            return self.routes[(method, path)], None
        match = re.match(r"^/v2/rps/(devices|servers)/([^/]+)$", path)
        if match and (method, match.group(1)) in self.item_routes:
            return self.item_routes[(method, match.group(1))], match.group(2)
        return None, bool(match) or any(p == path for _m, p in self.routes)

    # Lists.

    def page(self, body, items):
        if not isinstance(body, dict) or body.get("filter") is None:
            raise YmcsError(400, "900400", "filter: Cannot be null")  # DSZPLIB, live
        skip, limit = int(body.get("skip") or 0), int(body.get("limit") or 10)
        if limit > PAGE_MAX:
            raise YmcsError(400, "900400", "limit: must be at most %d" % PAGE_MAX)  # the cap is DSZPLIB's; the words our model
        shown = items[skip : skip + limit]
        answer = {"skip": skip, "limit": limit, "data": shown or None}  # data null when empty (LOOP2, live)
        if body.get("autoCount"):
            answer["total"] = len(items)
        return json_reply(200, answer)

    def ours(self):
        return {mac: d for mac, d in self.devices.items() if "owner" not in d}

    def shown(self, device, detail=False):
        """A device as listDevices shows it; the detail adds authName (falconieri's types)."""
        server = self.servers.get(device.get("serverId")) or {}
        item = {k: device.get(k) for k in ("id", "mac", "sn", "serverId", "uniqueServerUrl", "remark")}
        item.update(serverName=server.get("serverName"), serverUrl=server.get("url"), ipAddress=None)
        item.update(dateRegistered=device["added"], lastConnected=None)
        if detail:
            item["authName"] = device.get("authName")
        return item

    def list_devices(self, body):
        wanted = re.sub(r"[:.\-]", "", str(((body or {}).get("filter") or {}).get("mac") or "")).lower()
        return self.page(body, [self.shown(d) for mac, d in sorted(self.ours().items()) if wanted in mac])

    def by_id(self, device_id):
        device = next((d for d in self.ours().values() if d["id"] == device_id), None)
        if device is None:
            raise YmcsError(400, "900400", NOT_FOUND)  # DSZPLIB, LOOP2 (live)
        return device

    def device_detail(self, body, device_id):
        return json_reply(200, self.shown(self.by_id(device_id), detail=True))

    # Adding devices.

    def bulk_items(self, body):
        if not isinstance(body, list):
            raise YmcsError(412, "900444", "Request body is missing")  # a wrapped array reads as no body (DSZPLIB)
        if not 0 < len(body) <= BULK_MAX:
            raise YmcsError(400, "800006", "Batch size exceeds limit")
        return body

    def check_new(self, item):
        """Why one device cannot be added (None when it can). Texts: falconieri's keys, fspbx's fixture; our model else."""
        mac = str(item.get("mac") or "").lower()
        unknown = set(item) - DEVICE_FIELDS - {"mac", "sn"}
        if unknown:
            return "Invalid parameters: %s" % ", ".join(sorted(unknown))  # our model
        if not MAC.match(mac) or not self.vendor_mac(mac):
            return "device.mac.invalid"
        if mac in self.devices:
            return "Device already managed by another organization" if "owner" in self.devices[mac] else "Device already exists."
        if item.get("serverId") is not None and item["serverId"] not in self.servers:
            return NOT_FOUND
        return None

    def add(self, item):
        mac = item["mac"].lower()
        self.devices[mac] = {"id": uuid.uuid4().hex, "mac": mac, "sn": item.get("sn"), "added": int(time.time() * 1000)}
        self.devices[mac].update({k: item.get(k) for k in DEVICE_FIELDS})
        return self.devices[mac]

    def bulk(self, body, needs_sn):
        errors = []
        for item in self.bulk_items(body):
            problem = self.check_new(item) if isinstance(item, dict) else "Invalid parameters"
            if not problem and needs_sn and not item.get("sn"):
                problem = "Invalid SN"  # our model words for 800002
            if problem:
                errors.append({"mac": str((item or {}).get("mac")), "sn": (item or {}).get("sn") or "", "errorInfo": problem})
            else:
                self.add(item)
        answer = {"total": len(body), "successCount": len(body) - len(errors), "failureCount": len(errors), "errors": errors}
        return json_reply(200, answer)

    def add_by_mac(self, body):
        if not self.mac_only_enabled:
            raise YmcsError(403, "900403", "This request is forbidden")  # LOOP2 (live)
        return self.bulk(body, needs_sn=False)

    def add_with_sn(self, body):
        return self.bulk(body, needs_sn=True)

    def add_one(self, body):
        problem = self.check_new(body)
        if problem == "Device already managed by another organization":
            raise YmcsError(400, "800004", problem)  # LOOP2 (live)
        if problem:
            raise YmcsError(400, "800003" if "exists" in problem else "800001", problem)
        if not body.get("sn"):
            raise YmcsError(400, "800002", "Invalid SN")
        return json_reply(201, self.shown(self.add(body), detail=True))

    def patch_device(self, body, device_id):
        device = self.by_id(device_id)
        if not isinstance(body, dict) or not body or set(body) - DEVICE_FIELDS:
            raise YmcsError(400, "800007", "Invalid parameters")
        if body.get("serverId") is not None and body["serverId"] not in self.servers:
            raise YmcsError(400, "900400", NOT_FOUND)
        device.update(body)
        return json_reply(204, None)

    def del_devices(self, body):
        kind, ids = body.get("deviceIdType"), body.get("deviceIds")
        if kind not in ("mac", "id") or not isinstance(ids, list) or not 0 < len(ids) <= 200:
            raise YmcsError(400, "800007", "Invalid parameters")  # our model: 200 per call (WAZOPL sends at most 200)
        errors = []
        for value in ids:
            key = str(value).lower() if kind == "mac" else None
            found = [m for m, d in self.ours().items() if m == key or (kind == "id" and d["id"] == value)]
            if found:
                del self.devices[found[0]]
            else:
                errors.append({"field": value, "msg": NOT_FOUND})  # our model words
        answer = {"total": len(ids), "successCount": len(ids) - len(errors), "failureCount": len(errors), "errors": errors}
        return json_reply(200, answer)

    def list_pins(self, body):
        macs = body.get("macs")
        if not isinstance(macs, list):
            raise YmcsError(400, "800007", "Invalid parameters")
        ours = self.ours()
        return json_reply(200, [{"mac": m, "pin": self.pins[m]} for m in macs if m in ours and m in self.pins])

    # Servers.

    def public(self, server):
        return {k: server.get(k) for k in ("id", "serverName", "url", "authName")}

    def list_servers(self, body):
        wanted = (body or {}).get("filter") or {}
        items = [self.public(s) for s in self.servers.values() if wanted.get("name") in (None, s["serverName"])]
        return self.page(body, items)

    def server_problem(self, body, server_id=None):
        """our model words; the limits are DSZPN8N's and fspbx's, the empty URL text LOOP2's (live)."""
        if not isinstance(body, dict) or set(body) - SERVER_FIELDS:
            return "Invalid parameters"
        if not body.get("url") or not body.get("serverName"):
            return "Can not be empty"
        if not SERVER_NAME.match(body["serverName"]):
            return "serverName: at most 20 characters of A-Z a-z 0-9 space . _ -"
        if not re.match(r"^(https?|ftp|tftp)://", body["url"]) or len(body["url"]) > 512:
            return "url: invalid"
        if any(len(body.get(k) or "") > 32 for k in ("authName", "password")):
            return "authName/password: at most 32 characters"
        if any(s["serverName"] == body["serverName"] and i != server_id for i, s in self.servers.items()):
            return "Resource already exists"
        return None

    def add_server(self, body):
        problem = self.server_problem(body)
        if problem:
            raise YmcsError(400, "800003" if "exists" in problem else "900400", problem)
        sid = uuid.uuid4().hex
        self.servers[sid] = dict({"authName": "", "password": ""}, **body, id=sid)
        return json_reply(200, self.public(self.servers[sid]))

    def server_detail(self, body, server_id):
        if server_id not in self.servers:
            raise YmcsError(400, "900400", NOT_FOUND)
        return json_reply(200, self.public(self.servers[server_id]))

    def patch_server(self, body, server_id):
        if server_id not in self.servers:
            raise YmcsError(400, "900400", NOT_FOUND)
        problem = self.server_problem(body, server_id)  # serverName and url are required on every PATCH (DSZPLIB, live)
        if problem:
            raise YmcsError(400, "800003" if "exists" in problem else "900400", problem)
        self.servers[server_id].update(body)
        return json_reply(204, None)

    def del_servers(self, body):
        ids = body.get("serverIds")
        if not isinstance(ids, list) or not ids:
            raise YmcsError(400, "800007", "Invalid parameters")
        errors = [{"field": i, "msg": NOT_FOUND} for i in ids if i not in self.servers]
        for sid in ids:
            self.servers.pop(sid, None)
        answer = {"total": len(ids), "successCount": len(ids) - len(errors), "failureCount": len(errors), "errors": errors}
        return json_reply(200, answer)

    # For tests.

    def url_of(self, mac):
        device = self.ours().get(mac)
        if not device:
            return None
        if device.get("uniqueServerUrl"):
            return device["uniqueServerUrl"]
        server = self.servers.get(device.get("serverId"))
        return server["url"] if server else None

    def give_to_other_account(self, mac):
        self.devices[mac.lower()] = {"owner": "other"}

    def expire_tokens(self):
        """Every token handed out so far expires now (as after expires_in)."""
        for token in self.tokens:
            self.tokens[token] = 0

    @staticmethod
    def basic(client_id, secret):
        return "Basic " + base64.b64encode(("%s:%s" % (client_id, secret)).encode()).decode()
