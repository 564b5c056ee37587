# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Snom SRAPS, REST with Hawk authentication (docs/rps.md, "Snom").

The API is navigated, not guessed: tokens/<key id> links to the company, the
company links to its endpoints collection, and an endpoint is <collection><mac>.
The provisioning URL is the endpoint's value of the global setting
`setting_server`, found by its uuid in the paged settings list.
"""

from __future__ import annotations

import json

from ansible_collections.pbxops.autoprov.plugins.module_utils._rps.base import (
    Client,
    Found,
    RpsError,
    absent,
    expect_json,
)
from ansible_collections.pbxops.autoprov.plugins.module_utils._urls import split_credentials, with_credentials

try:
    import mohawk

    HAS_MOHAWK = True
except ImportError:  # pragma: no cover - reported by the module
    HAS_MOHAWK = False

SETTING = "setting_server"
# SRAPS' words for a MAC that another company holds (nethesis/falconieri utils/utils.go).
FOREIGN_WORDS = ("taken_mac_or_forbidden", "lacks permission to endpoint")
MAX_PAGES = 100


class SnomClient(Client):
    vendor = "snom"
    default_api_url = "https://api.sraps.snom.com/api/v1"
    credentials_required = ("key_id", "secret")
    url_credentials = "url"
    # Each endpoint holds its own setting_server URL (PUT endpoints/<mac>: docs/rps.md, Snom table).
    per_device_url = True

    def __init__(self, *args):
        super().__init__(*args)
        self._endpoints = None
        self._setting = None
        self._listed = {}  # mac -> the endpoint as the collection listed it

    def _call(self, method, url, payload=None):
        """One Hawk-signed request. The payload hash is sent (SRAPS accepts requests with or without it)."""
        body = json.dumps(payload, separators=(",", ":")).encode("utf-8") if payload is not None else b""
        content_type = "application/json" if payload is not None else ""
        sender = mohawk.Sender(
            {"id": self.credentials["key_id"], "key": self.credentials["secret"], "algorithm": "sha256"},
            url,
            method,
            content=body,
            content_type=content_type,
        )
        headers = {"Authorization": sender.request_header, "Accept": "application/json"}
        if payload is not None:
            headers["Content-Type"] = content_type
        response = self.http.request(method, url, data=body or None, headers=headers)
        if response.status_code == 401:
            raise RpsError("%s %s: SRAPS refused the Hawk credentials (HTTP 401): %s" % (method, url, words(response)))
        return response

    def _get_json(self, url, what):
        response = self._call("GET", url)
        if response.status_code != 200:
            raise RpsError("GET %s: HTTP %s: %s" % (what, response.status_code, words(response)))
        return response, expect_json(response, what)

    def _pages(self, url, what):
        """Every item of a paged list (RFC 5988 Link rel="next")."""
        for _page in range(MAX_PAGES):
            response, items = self._get_json(url, what)
            if not isinstance(items, list):
                raise RpsError("GET %s: expected a JSON list, got %r" % (what, str(items)[:200]))
            yield from items
            url = response.links.get("next", {}).get("url")
            if not url:
                return
        raise RpsError("GET %s: more than %d pages" % (what, MAX_PAGES))

    def _endpoints_url(self):
        if self._endpoints is None:
            _r, token = self._get_json("%s/tokens/%s" % (self.api_url, self.credentials["key_id"]), "tokens/<key_id>")
            company_url = (token.get("links") or {}).get("company")
            if not company_url:
                raise RpsError("tokens/<key_id>: no company link in %r" % str(token)[:200])
            _r, company = self._get_json(company_url, "company")
            endpoints = (company.get("links") or {}).get("endpoints")
            if not endpoints:
                raise RpsError("company: no endpoints link in %r" % str(company)[:200])
            self._endpoints = endpoints if endpoints.endswith("/") else endpoints + "/"
        return self._endpoints

    def setting_uuid(self):
        """The uuid of setting_server (section phone-settings) in the global settings list."""
        if self._setting is None:
            for setting in self._pages("%s/settings/?page_size=1000" % self.api_url, "settings"):
                if setting.get("param_name") == SETTING and setting.get("section", "phone-settings") == "phone-settings":
                    self._setting = setting["uuid"]
                    break
            else:
                raise RpsError("settings: SRAPS lists no %s setting" % SETTING)
        return self._setting

    def lookup(self, macs, target=None):
        wanted = set(macs)
        for endpoint in self._pages(self._endpoints_url(), "endpoints"):
            mac = str(endpoint.get("mac", "")).lower()
            if mac in wanted:
                self._listed[mac] = endpoint
        found = {}
        for mac in macs:
            endpoint = self._listed.get(mac)
            if endpoint is None:
                found[mac] = absent()
            elif target is None:
                found[mac] = Found("ours")
            else:
                found[mac] = self._found(mac, endpoint)
        return found

    def _found(self, mac, endpoint):
        if not isinstance(endpoint.get("settings_manager"), dict):
            # The list may show endpoints in short: read this one in full.
            endpoint = self._listed[mac] = self._get_json(self._endpoints_url() + endpoint["mac"], "endpoint %s" % mac)[1]
        value = ((endpoint.get("settings_manager") or {}).get(self.setting_uuid()) or {}).get("value")
        url, username, password = split_credentials(value)
        if not url:
            return Found("ours", url="(no %s)" % SETTING)
        return Found("ours", url=url, username=username, password=password)

    def _body(self, mac, url):
        """The endpoint as PUT replaces it: our setting_server value, and what else the endpoint had."""
        listed = self._listed.get(mac) or {}
        settings = {k: v for k, v in (listed.get("settings_manager") or {}).items() if k != self.setting_uuid()}
        settings[self.setting_uuid()] = {"value": url, "attrs": {"perm": "RW"}}
        body = {"mac": listed.get("mac", mac), "autoprovisioning_enabled": True, "settings_manager": settings}
        if listed.get("provisioning_profile"):
            body["provisioning_profile"] = listed["provisioning_profile"]
        return body

    def register(self, macs, target, found):
        errors = {}
        url = with_credentials(target.url, target.username, target.password)
        for mac in macs:
            body = self._body(mac, url)
            response = self._call("PUT", self._endpoints_url() + body["mac"], body)
            if response.status_code >= 300:
                errors[mac] = failure(response)
        return errors

    def unregister(self, macs, found):
        errors = {}
        for mac in macs:
            spelled = (self._listed.get(mac) or {}).get("mac", mac)
            response = self._call("DELETE", self._endpoints_url() + spelled)
            if response.status_code >= 300 and response.status_code != 404:
                errors[mac] = failure(response)
        return errors


def failure(response):
    """A per-MAC error: another company's MAC said plainly, else the status and SRAPS' words."""
    text = words(response)
    if any(word in text.lower() for word in FOREIGN_WORDS):
        return "registered to another company at SRAPS (HTTP %s): %s" % (response.status_code, text)
    return "HTTP %s: %s" % (response.status_code, text)


def words(response):
    """SRAPS' words: message, error or detail, or field errors {"field": ["text", ...]} (200 characters)."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(body, dict):
        for key in ("message", "error", "detail"):
            if isinstance(body.get(key), str):
                return body[key][:200]
        fields = ["%s: %s" % (k, "; ".join(map(str, v)) if isinstance(v, list) else v) for k, v in body.items()]
        return ", ".join(fields)[:200]
    return str(body)[:200]
