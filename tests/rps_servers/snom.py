"""Snom SRAPS REST contract server (docs/rps.md, "Snom").

Every request must carry a valid Hawk header (mohawk.Receiver checks MAC, payload
hash, timestamp skew and nonce reuse). The API is navigated by links:
tokens/<id> -> company -> endpoints; an endpoint is PUT/GET/DELETE <endpoints>/<mac>.
"""

from __future__ import annotations

import re

import mohawk
import mohawk.exc

from .common import FakeRps, json_reply

MAC = re.compile(r"^[0-9a-f]{12}$")
ENDPOINT_FIELDS = {"mac", "autoprovisioning_enabled", "provisioning_url"}


class SnomFake(FakeRps):
    ouis = ("000413",)

    def __init__(self, tls=None, key_id="sraps-key-id", secret="sraps-secret-Hk4v"):
        super().__init__(tls)
        self.key_id, self.secret = key_id, secret
        self.company = "c0ffee"
        self.nonces = set()
        self.endpoints = {}  # mac -> {"company": id, "provisioning_url": ..., "autoprovisioning_enabled": bool}

    def seen(self, sender_id, nonce, timestamp):
        key = (sender_id, nonce, timestamp)
        if key in self.nonces:
            return True
        self.nonces.add(key)
        return False

    def handle(self, request):
        try:
            mohawk.Receiver(
                lambda sender: {"id": self.key_id, "key": self.secret, "algorithm": "sha256"} if sender == self.key_id else None,
                request.headers.get("Authorization", ""),
                request.url,
                request.method,
                content=request.body,
                content_type=request.headers.get("Content-Type", ""),
                seen_nonce=self.seen,
            )
        except mohawk.exc.HawkFail as exc:
            return json_reply(401, {"message": "Hawk authentication failed: %s" % exc.__class__.__name__})
        path = request.path.split("?")[0].rstrip("/")
        api = "/api/v1"
        if request.method == "GET" and path == "%s/tokens/%s" % (api, self.key_id):
            return json_reply(200, {"id": self.key_id, "links": {"company": "%s%s/companies/%s" % (self.base, api, self.company)}})
        if request.method == "GET" and path == "%s/companies/%s" % (api, self.company):
            return json_reply(
                200, {"uuid": self.company, "links": {"endpoints": "%s%s/companies/%s/endpoints/" % (self.base, api, self.company)}}
            )
        prefix = "%s/companies/%s/endpoints/" % (api, self.company)
        if not path.startswith(prefix):
            return json_reply(404, {"message": "Not found"})
        return self.endpoint(request, path[len(prefix) :])

    def endpoint(self, request, mac):
        if not MAC.match(mac):
            return json_reply(400, {"message": "Invalid MAC address format: %s" % mac})
        if not self.vendor_mac(mac):
            return json_reply(400, {"message": "MAC address %s does not belong to a Snom device" % mac})
        current = self.endpoints.get(mac)
        theirs = current is not None and current["company"] != self.company
        if request.method == "GET":
            if current is None or theirs:
                return json_reply(404, {"message": "Not found"})
            return json_reply(200, {"mac": mac, **{k: current[k] for k in ("provisioning_url", "autoprovisioning_enabled")}})
        if request.method == "DELETE":
            if current is None or theirs:
                return json_reply(404, {"message": "Not found"})
            del self.endpoints[mac]
            return json_reply(204, {})
        if request.method != "PUT":
            return json_reply(405, {"message": "Method not allowed"})
        if request.headers.get("Content-Type") != "application/json":
            return json_reply(415, {"message": "Content-Type must be application/json"})
        body = request.json()
        if set(body) != ENDPOINT_FIELDS or body["mac"] != mac or not isinstance(body["autoprovisioning_enabled"], bool):
            return json_reply(400, {"message": "Invalid payload: expected exactly %s with mac matching the path" % sorted(ENDPOINT_FIELDS)})
        if not re.match(r"^https?://", body["provisioning_url"]):
            return json_reply(400, {"message": "provisioning_url: Enter a valid URL."})
        if theirs:
            return json_reply(409, {"message": "The endpoint %s is already assigned to another company" % mac})
        self.endpoints[mac] = {"company": self.company, "provisioning_url": body["provisioning_url"],
                               "autoprovisioning_enabled": body["autoprovisioning_enabled"]}  # fmt: skip
        return json_reply(201 if current is None else 200, {"mac": mac, "provisioning_url": body["provisioning_url"]})

    def give_to_other_account(self, mac):
        self.endpoints[mac] = {"company": "other", "provisioning_url": "https://other.example.org/", "autoprovisioning_enabled": True}

    def url_of(self, mac):
        current = self.endpoints.get(mac)
        return current["provisioning_url"] if current and current["company"] == self.company else None
