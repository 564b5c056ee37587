"""Poly ZTP REST contract server (docs/rps.md, "Poly": the table there names the source of each rule).

API-KEY header; profiles hold the provisioning server in
template.provisioning.server (shown back with its password, as fspbx reads it);
devices (id = 12 hex digits) name a profile (`profileid`). Lists page with
limit/cursor and answer `next`. There is no PUT of a device: a call the service
lacks, like any unknown path, gets 404 {"message": "Not Found"}.
"""

from __future__ import annotations

import copy
import re
from urllib.parse import parse_qs, urlsplit

from .common import FakeRps, json_reply

MAC = re.compile(r"^[0-9a-fA-F]{12}$")
PROFILE_FIELDS = {"name", "enabled", "template", "custom"}
TEMPLATE_FIELDS = {"software", "provisioning", "dhcp", "localization"}
PROVISIONING_FIELDS = {"server", "polling", "quickSetup"}
SERVER_FIELDS = {"address", "username", "password"}
NOT_FOUND = {"message": "Not Found"}


class PolyFake(FakeRps):
    ouis = ("0004f2", "64167f", "482567")

    def __init__(self, tls=None, api_key="poly-api-key-T9s", page_size=50):
        super().__init__(tls)
        self.api_key = api_key
        self.page_size = page_size  # our model of the default limit
        self.profiles = {}  # id -> profile as written
        self.devices = {}  # mac -> {"profileid"} ours, or {"owner": "other"}
        self.next_id = 1

    def handle(self, request):
        if request.headers.get("API-KEY") != self.api_key:
            return json_reply(401, {"message": "Unauthorized"})
        parts = urlsplit(request.path)
        path, query = parts.path.rstrip("/"), parse_qs(parts.query)
        if not path.startswith("/v1/"):
            return json_reply(404, NOT_FOUND)
        path = path[len("/v1") :]
        if request.method in ("POST", "PUT") and not request.headers.get("Content-Type", "").startswith("application/json"):
            return json_reply(415, {"message": "Unsupported Media Type"})
        body = request.json() if request.body else None
        route = (request.method, path.split("/")[1] if "/" in path else "", path.count("/"))
        if route == ("GET", "profiles", 1):
            return self.page(query, [dict(p, id=pid) for pid, p in sorted(self.profiles.items())])
        if route == ("POST", "profiles", 1):
            return self.save_profile(None, body)
        if route in (("GET", "profiles", 2), ("PUT", "profiles", 2)):
            pid = path.split("/")[2]
            if pid not in self.profiles:
                return json_reply(404, NOT_FOUND)
            return self.save_profile(pid, body) if request.method == "PUT" else json_reply(200, dict(self.profiles[pid], id=pid))
        if route == ("POST", "devices", 1):
            return self.add_device(body)
        if route in (("GET", "devices", 2), ("DELETE", "devices", 2)):
            return self.device(request.method, path.split("/")[2])
        return json_reply(404, NOT_FOUND)

    def page(self, query, items):
        """limit/cursor paging, `next` null on the last page (fspbx reads devices so; our model for profiles)."""
        limit = int(query.get("limit", [self.page_size])[0])
        start = int(query.get("cursor", ["0"])[0] or 0)
        chunk = items[start : start + limit]
        return json_reply(200, {"results": chunk, "next": str(start + limit) if start + limit < len(items) else None})

    def save_profile(self, pid, body):
        problem = check_profile(body)
        if problem:
            return json_reply(400, {"message": problem})
        if pid is None:
            pid = "p%d" % self.next_id
            self.next_id += 1
        self.profiles[pid] = copy.deepcopy(body)
        return json_reply(200, dict(self.profiles[pid], id=pid))

    def check_mac(self, mac):
        if not MAC.match(mac):
            return json_reply(400, {"message": "Invalid device id %s: 12 hex digits" % mac})
        if not self.vendor_mac(mac):
            return json_reply(400, {"message": "Device %s is not a Poly device" % mac})
        return None

    def device(self, method, mac):
        problem = self.check_mac(mac)
        if problem:
            return problem
        device = self.devices.get(mac.lower())
        if device is None or ("owner" in device and method == "GET"):
            return json_reply(404, NOT_FOUND)  # our model: another account's device is not shown
        if "owner" in device:
            return json_reply(409, {"message": "Device is registered with a different account"})
        if method == "GET":
            return json_reply(200, {"id": mac.lower(), "profileid": device["profileid"]})
        del self.devices[mac.lower()]
        return json_reply(200, {})

    def add_device(self, body):
        if not isinstance(body, dict) or set(body) != {"id", "profile"} or not isinstance(body["id"], str):
            return json_reply(400, {"message": "Bad Request: expected id and profile"})
        problem = self.check_mac(body["id"])
        if problem:
            return problem
        if body["profile"] not in self.profiles:
            return json_reply(400, {"message": "Unknown profile %s" % body["profile"]})
        device = self.devices.get(body["id"].lower())
        if device is not None:
            other = "owner" in device
            return json_reply(409, {"message": "Device is registered with a different account" if other else "Device already exists"})
        self.devices[body["id"].lower()] = {"profileid": body["profile"]}
        return json_reply(200, {"id": body["id"].lower(), "profileid": body["profile"]})

    def give_to_other_account(self, mac):
        self.devices[mac.lower()] = {"owner": "other"}

    def url_of(self, mac):
        device = self.devices.get(mac.lower())
        if not device or "profileid" not in device:
            return None
        return self.profiles[device["profileid"]]["template"]["provisioning"]["server"]["address"]


def check_profile(body):
    """What is wrong with a profile body (fspbx's field tree; unknown fields refused: our model), or None."""
    if not isinstance(body, dict) or not body.get("name") or set(body) - PROFILE_FIELDS:
        return "Bad Request: a profile has name, enabled, template, custom"
    template = body.get("template") or {}
    if set(template) - TEMPLATE_FIELDS or set(template.get("provisioning") or {}) - PROVISIONING_FIELDS:
        return "Bad Request: unknown template fields"
    server = (template.get("provisioning") or {}).get("server") or {}
    if set(server) - SERVER_FIELDS or not re.match(r"^(https?|ftp|tftp)://", str(server.get("address", ""))):
        return "Bad Request: template.provisioning.server.address must be a URL"
    return None
