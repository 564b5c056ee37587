# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Snom SRAPS, REST with Hawk authentication (docs/rps.md, "Snom").

The API is navigated, not guessed: tokens/<key id> links to the company, the
company links to its endpoints collection, and each endpoint is <collection><mac>.
"""

from __future__ import annotations

import json

from ansible_collections.pbxops.autoprov.plugins.module_utils._rps.base import (
    Client,
    Found,
    RpsError,
    absent,
    expect_json,
    vendor_words,
)
from ansible_collections.pbxops.autoprov.plugins.module_utils._urls import split_credentials, with_credentials

try:
    import mohawk

    HAS_MOHAWK = True
except ImportError:  # pragma: no cover - reported by the module
    HAS_MOHAWK = False


class SnomClient(Client):
    vendor = "snom"
    default_api_url = "https://api.sraps.snom.com/api/v1"
    credentials_required = ("key_id", "secret")
    url_credentials = "url"

    def __init__(self, *args):
        super().__init__(*args)
        self._endpoints = None

    def _call(self, method, url, payload=None):
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
            raise RpsError("%s %s: SRAPS refused the Hawk credentials (HTTP 401): %s" % (method, url, _words(response)))
        return response

    def _endpoints_url(self):
        if self._endpoints is None:
            token = self._call("GET", "%s/tokens/%s" % (self.api_url, self.credentials["key_id"]))
            company_url = expect_json(token, "tokens").get("links", {}).get("company") if token.status_code == 200 else None
            if not company_url:
                raise RpsError("tokens/<key_id>: HTTP %s, no company link: %s" % (token.status_code, _words(token)))
            company = self._call("GET", company_url)
            endpoints = expect_json(company, "company").get("links", {}).get("endpoints") if company.status_code == 200 else None
            if not endpoints:
                raise RpsError("company: HTTP %s, no endpoints link: %s" % (company.status_code, _words(company)))
            self._endpoints = endpoints if endpoints.endswith("/") else endpoints + "/"
        return self._endpoints

    def lookup(self, macs, target=None):
        found = {}
        for mac in macs:
            response = self._call("GET", self._endpoints_url() + mac)
            if response.status_code == 200:
                url, username, password = split_credentials(expect_json(response, "endpoint %s" % mac).get("provisioning_url"))
                found[mac] = Found("ours", url=url, username=username, password=password)
            elif response.status_code == 404:
                found[mac] = absent()
            elif response.status_code in (403, 409):
                found[mac] = Found("foreign", message=_words(response))
            elif response.status_code in (400, 422):
                found[mac] = Found("invalid", message=_words(response))
            else:
                raise RpsError("GET endpoint %s: HTTP %s: %s" % (mac, response.status_code, _words(response)))
        return found

    def register(self, macs, target, found):
        errors = {}
        url = with_credentials(target.url, target.username, target.password)
        for mac in macs:
            payload = {"mac": mac, "autoprovisioning_enabled": True, "provisioning_url": url}
            response = self._call("PUT", self._endpoints_url() + mac, payload)
            if response.status_code not in (200, 201, 204):
                errors[mac] = "HTTP %s: %s" % (response.status_code, _words(response))
        return errors

    def unregister(self, macs, found):
        errors = {}
        for mac in macs:
            response = self._call("DELETE", self._endpoints_url() + mac)
            if response.status_code not in (200, 202, 204, 404):
                errors[mac] = "HTTP %s: %s" % (response.status_code, _words(response))
        return errors


def _words(response):
    """SRAPS puts its words in message (or error / detail)."""
    return vendor_words(response, ("message", "error", "detail"))
