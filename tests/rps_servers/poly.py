"""Poly ZTP REST contract server (docs/rps.md, "Poly").

API-KEY header; profiles hold the provisioning server (address, username,
password: never shown back); devices (id = 12 hex digits) name a profile.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

from .common import FakeRps, json_reply

MAC = re.compile(r"^[0-9a-fA-F]{12}$")
SERVER_FIELDS = {"address", "username", "password"}


class PolyFake(FakeRps):
    ouis = ("0004f2", "64167f", "482567")

    def __init__(self, tls=None, api_key="poly-api-key-T9s"):
        super().__init__(tls)
        self.api_key = api_key
        self.profiles = {}  # id -> {"name", "provisioningServer": {...}}
        self.devices = {}  # mac -> {"profileid"} ours, or {"owner": "other"}
        self.next_id = 1

    def handle(self, request):
        if request.headers.get("API-KEY") != self.api_key:
            return json_reply(401, {"message": "Unauthorized"})
        parts = urlsplit(request.path)
        path = parts.path.rstrip("/")
        base = "/v1"
        if not path.startswith(base):
            return json_reply(404, {"message": "Not Found"})
        path = path[len(base) :]
        body = request.json() if request.body else None
        if request.method in ("POST", "PUT") and not request.headers.get("Content-Type", "").startswith("application/json"):
            return json_reply(415, {"message": "Unsupported Media Type"})
        if path == "/profiles" and request.method == "GET":
            query = parse_qs(parts.query)
            limit, offset = int(query.get("limit", ["50"])[0]), int(query.get("offset", ["0"])[0])
            items = [self.shown(pid) for pid in sorted(self.profiles)]
            return json_reply(200, {"results": items[offset : offset + limit], "count": len(items)})
        if path == "/profiles" and request.method == "POST":
            return self.save_profile(None, body)
        if path.startswith("/profiles/") and request.method == "PUT":
            return self.save_profile(path[len("/profiles/") :], body)
        if path == "/devices" and request.method == "POST":
            if not isinstance(body, dict) or set(body) != {"id", "profile"}:
                return json_reply(400, {"message": "Bad Request: expected id and profile"})
            return self.save_device(body["id"], body["profile"], create=True)
        if path.startswith("/devices/"):
            mac = path[len("/devices/") :]
            if request.method == "GET":
                return self.get_device(mac)
            if request.method == "PUT":
                if not isinstance(body, dict) or set(body) != {"profile"}:
                    return json_reply(400, {"message": "Bad Request: expected profile"})
                return self.save_device(mac, body["profile"], create=False)
            if request.method == "DELETE":
                problem = self.check_mac(mac) or self.check_ours(mac)
                if problem:
                    return problem
                del self.devices[mac.lower()]
                return json_reply(200, {"message": "Deleted"})
        return json_reply(404, {"message": "Not Found"})

    def shown(self, pid):
        profile = self.profiles[pid]
        server = {k: v for k, v in profile["provisioningServer"].items() if k != "password"}
        return {"id": pid, "name": profile["name"], "provisioningServer": server}

    def save_profile(self, pid, body):
        if not isinstance(body, dict) or set(body) != {"name", "provisioningServer"}:
            return json_reply(400, {"message": "Bad Request: expected name and provisioningServer"})
        server = body["provisioningServer"]
        if not isinstance(server, dict) or not set(server) <= SERVER_FIELDS or not re.match(r"^https?://", server.get("address", "")):
            return json_reply(400, {"message": "Bad Request: provisioningServer.address must be an http(s) URL"})
        if pid is None:
            pid = "p%d" % self.next_id
            self.next_id += 1
        elif pid not in self.profiles:
            return json_reply(404, {"message": "Not Found"})
        self.profiles[pid] = {"name": body["name"], "provisioningServer": dict(server)}
        return json_reply(201, self.shown(pid))

    def check_mac(self, mac):
        if not MAC.match(mac):
            return json_reply(400, {"message": "Invalid device id %s: 12 hex digits" % mac})
        if not self.vendor_mac(mac):
            return json_reply(400, {"message": "Device %s is not a Poly device" % mac})
        return None

    def check_ours(self, mac):
        device = self.devices.get(mac.lower())
        if device is None:
            return json_reply(404, {"message": "Not Found"})
        if "owner" in device:
            return json_reply(409, {"message": "Device is registered with a different account"})
        return None

    def get_device(self, mac):
        problem = self.check_mac(mac) or self.check_ours(mac)
        if problem:
            return problem
        return json_reply(200, {"id": mac.lower(), "profileid": self.devices[mac.lower()]["profileid"]})

    def save_device(self, mac, profile, create):
        problem = self.check_mac(mac) if isinstance(mac, str) else json_reply(400, {"message": "id must be a string"})
        if problem:
            return problem
        if profile not in self.profiles:
            return json_reply(400, {"message": "Unknown profile %s" % profile})
        device = self.devices.get(mac.lower())
        if create and device is not None:
            return json_reply(
                409,
                {"message": "Device is registered with a different account"} if "owner" in device else {"message": "Device already exists"},
            )
        if not create:
            problem = self.check_ours(mac)
            if problem:
                return problem
        self.devices[mac.lower()] = {"profileid": profile}
        return json_reply(201 if create else 200, {"id": mac.lower(), "profileid": profile})

    def give_to_other_account(self, mac):
        self.devices[mac.lower()] = {"owner": "other"}

    def url_of(self, mac):
        device = self.devices.get(mac.lower())
        if not device or "profileid" not in device:
            return None
        return self.profiles[device["profileid"]]["provisioningServer"]["address"]
