"""Snom SRAPS REST contract server (docs/rps.md, "Snom": the table there names the source of each rule).

Every request must carry a valid Hawk header (mohawk.Receiver checks the MAC,
timestamp skew and nonce reuse); the payload hash is optional, as for the live
service (sipwise/ngcp-panel never sends one), and checked when present. The API is
navigated by links: tokens/<id> -> company -> endpoints. The provisioning URL is
the endpoint's settings_manager entry for the uuid of the global setting
setting_server, which sits beyond the first 1000 of the paged settings list.
"""

from __future__ import annotations

import re
import uuid
from urllib.parse import parse_qs, urlsplit

import mohawk
import mohawk.exc

from .common import FakeRps, json_reply

API = "/api/v1"
MAC = re.compile(r"^[0-9a-fA-F]{12}$")
# Fields a public client sends in an endpoint (falconieri libs/grape/types.go; ngcp-panel Snom.pm).
ENDPOINT_FIELDS = {"mac", "autoprovisioning_enabled", "settings_manager", "provisioning_profile", "warranty_exp_warning_period"}
SETTINGS = 1179  # global settings SRAPS lists (falconieri commit b77d513)
SERVER_SETTING_AT = 1100  # our model: setting_server is on the second page of 1000


class SnomFake(FakeRps):
    ouis = ("000413", "00087b")

    def __init__(self, tls=None, key_id="sraps-key-id", secret="sraps-secret-Hk4v", list_summary=False):
        super().__init__(tls)
        self.key_id, self.secret = key_id, secret
        self.company = "c0ffee"
        self.nonces = set()
        self.list_summary = list_summary  # our model either way: whether the endpoint list shows settings_manager
        self.settings = [
            {"uuid": str(uuid.UUID(int=i + 1)), "param_name": "setting_%d" % i, "section": "phone-settings"} for i in range(SETTINGS)
        ]
        self.settings[SERVER_SETTING_AT] = {"uuid": str(uuid.uuid4()), "param_name": "setting_server", "section": "phone-settings"}
        self.server_setting = self.settings[SERVER_SETTING_AT]["uuid"]
        self.known_settings = {s["uuid"] for s in self.settings}
        self.endpoints = {}  # lower-case mac -> {"company", "mac" as written, "autoprovisioning_enabled", "settings_manager"}

    def seen(self, sender_id, nonce, timestamp):
        key = (sender_id, nonce, timestamp)
        if key in self.nonces:
            return True
        self.nonces.add(key)
        return False

    def authenticate(self, request):
        try:
            mohawk.Receiver(
                lambda sender: {"id": self.key_id, "key": self.secret, "algorithm": "sha256"} if sender == self.key_id else None,
                request.headers.get("Authorization", ""),
                request.url,
                request.method,
                content=request.body,
                content_type=request.headers.get("Content-Type", ""),
                seen_nonce=self.seen,
                accept_untrusted_content=True,
            )
        except mohawk.exc.HawkFail as exc:
            return json_reply(401, {"detail": "Hawk authentication failed: %s" % exc.__class__.__name__})
        return None

    def handle(self, request):
        refused = self.authenticate(request)
        if refused:
            return refused
        parts = urlsplit(request.path)
        path, query = parts.path, parse_qs(parts.query)
        company = "%s/companies/%s" % (API, self.company)
        if request.method == "GET" and path == "%s/tokens/%s" % (API, self.key_id):
            return json_reply(200, {"id": self.key_id, "links": {"company": self.base + company}})
        if request.method == "GET" and path == company:
            return json_reply(200, {"uuid": self.company, "links": {"endpoints": self.base + company + "/endpoints/"}})
        if request.method == "GET" and path == API + "/settings/":
            return self.page(path, query, self.settings)
        if request.method == "GET" and path == company + "/endpoints/":
            return self.page(path, query, [self.shown(e, summary=self.list_summary) for _m, e in sorted(self.endpoints.items())
                                           if e["company"] == self.company])  # fmt: skip
        if path.startswith(company + "/endpoints/"):
            return self.endpoint(request, path[len(company + "/endpoints/") :])
        # Our model: Django REST framework's answer for an unknown path.
        return json_reply(404, {"detail": "Not found."})

    def page(self, path, query, items):
        """One page of a list; page_size defaults to 20 and is at most 1000; Link rel="next" names the next page."""
        size = min(int(query.get("page_size", ["20"])[0]), 1000)
        number = int(query.get("page", ["1"])[0])
        chunk = items[(number - 1) * size : number * size]
        headers = {}
        if number * size < len(items):
            headers["Link"] = '<%s%s?page=%d&page_size=%d>; rel="next"' % (self.base, path, number + 1, size)
        return json_reply(200, chunk, headers)

    def shown(self, endpoint, summary=False):
        shown = {"mac": endpoint["mac"], "autoprovisioning_enabled": endpoint["autoprovisioning_enabled"]}
        if not summary:
            shown["settings_manager"] = endpoint["settings_manager"]
        return shown

    def endpoint(self, request, mac):
        if not MAC.match(mac):
            return json_reply(400, {"mac": ["Enter a valid MAC address."]})
        current = self.endpoints.get(mac.lower())
        theirs = current is not None and current["company"] != self.company
        if request.method in ("GET", "DELETE"):
            if current is None:
                return json_reply(404, {"detail": "Not found."})
            if theirs:
                return json_reply(403, {"detail": "User lacks permission to endpoint"})
            if request.method == "GET":
                return json_reply(200, self.shown(current))
            del self.endpoints[mac.lower()]
            return json_reply(204, {})
        if request.method != "PUT":
            return json_reply(405, {"detail": 'Method "%s" not allowed.' % request.method})
        if request.headers.get("Content-Type") != "application/json":
            return json_reply(415, {"detail": "Unsupported media type in request."})
        problem = self.check_body(mac, request.json())
        if problem:
            return json_reply(400, problem)
        if theirs:
            return json_reply(400, {"mac": ["taken_mac_or_forbidden"]})
        body = request.json()
        self.endpoints[mac.lower()] = {"company": self.company, "mac": mac, "settings_manager": body["settings_manager"],
                                       "autoprovisioning_enabled": body["autoprovisioning_enabled"] in (True, "true")}  # fmt: skip
        return json_reply(200 if current else 201, self.shown(self.endpoints[mac.lower()]))

    def check_body(self, mac, body):
        """Field errors of an endpoint body, DRF-style {"field": ["text"]}; None when it is right."""
        if not isinstance(body, dict):
            return {"non_field_errors": ["Invalid data. Expected a dictionary."]}
        unknown = sorted(set(body) - ENDPOINT_FIELDS)
        if unknown:
            return {name: ["Unknown field."] for name in unknown}
        if str(body.get("mac", "")).lower() != mac.lower():
            return {"mac": ["Must match the endpoint's MAC in the path."]}
        if not self.vendor_mac(mac):
            return {"mac": ["%s is not a Snom MAC address." % mac]}
        if body.get("autoprovisioning_enabled") not in (True, False, "true", "false"):
            return {"autoprovisioning_enabled": ["Must be a valid boolean."]}
        settings = body.get("settings_manager")
        if not isinstance(settings, dict) or not settings:
            return {"settings_manager": ["This field is required."]}
        for key, entry in settings.items():
            if key not in self.known_settings:
                return {"settings_manager": ["Unknown setting %s." % key]}
            if not isinstance(entry, dict) or not isinstance(entry.get("value"), str) or set(entry) - {"value", "attrs"}:
                return {"settings_manager": ["%s: expected {value, attrs}." % key]}
        if not re.match(r"^(https?|tftp|ftp)://[^\s]+$", (settings.get(self.server_setting) or {}).get("value", "http://")):
            return {"settings_manager": ["setting_server: Enter a valid URL."]}
        return None

    def give_to_other_account(self, mac):
        self.endpoints[mac.lower()] = {"company": "other", "mac": mac, "autoprovisioning_enabled": True,
                                       "settings_manager": {self.server_setting: {"value": "https://other.example.org/"}}}  # fmt: skip

    def url_of(self, mac):
        current = self.endpoints.get(mac.lower())
        if not current or current["company"] != self.company:
            return None
        return (current["settings_manager"].get(self.server_setting) or {}).get("value")
