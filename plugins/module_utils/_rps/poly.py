# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Poly ZTP, REST with an API-KEY header (docs/rps.md, "Poly").

A profile holds the provisioning server (address, user, password; the password
is never shown back); a device (id = MAC) names its profile.
"""

from __future__ import annotations

from ansible_collections.pbxops.autoprov.plugins.module_utils._rps.base import Client, Found, RpsError, absent, expect_json, vendor_words

PAGE = 100


class PolyClient(Client):
    vendor = "poly"
    default_api_url = "https://api.ztp.poly.com/v1"
    credentials_required = ("api_key",)
    url_credentials = "record"

    def __init__(self, *args):
        super().__init__(*args)
        self._profiles = None

    def _call(self, method, path, payload=None):
        headers = {"API-KEY": self.credentials["api_key"], "Accept": "application/json"}
        response = self.http.request(method, self.api_url + path, json=payload, headers=headers)
        if response.status_code in (401, 403):
            raise RpsError(
                "%s %s: Poly ZTP refused the API key (HTTP %s): %s" % (method, path, response.status_code, vendor_words(response))
            )
        return response

    def profiles(self):
        """{profile id: profile}, all pages."""
        if self._profiles is None:
            self._profiles, offset = {}, 0
            while True:
                response = self._call("GET", "/profiles?limit=%d&offset=%d" % (PAGE, offset))
                if response.status_code != 200:
                    raise RpsError("GET /profiles: HTTP %s: %s" % (response.status_code, vendor_words(response)))
                page = expect_json(response, "profiles").get("results") or []
                self._profiles.update((p["id"], p) for p in page)
                offset += PAGE
                if len(page) < PAGE:
                    return self._profiles
        return self._profiles

    def lookup(self, macs, target=None):
        found = {}
        for mac in macs:
            response = self._call("GET", "/devices/%s" % mac)
            if response.status_code == 200:
                profile = self.profiles().get(expect_json(response, "device %s" % mac).get("profileid")) or {}
                server = profile.get("provisioningServer") or {}
                found[mac] = Found("ours", url=server.get("address"), username=server.get("username") or None, message=profile.get("name"))
            elif response.status_code == 404:
                found[mac] = absent()
            elif response.status_code == 409:
                found[mac] = Found("foreign", message=vendor_words(response))
            elif response.status_code == 400:
                found[mac] = Found("invalid", message=vendor_words(response))
            else:
                raise RpsError("GET /devices/%s: HTTP %s: %s" % (mac, response.status_code, vendor_words(response)))
        return found

    def _ensure_profile(self, target):
        server = {"address": target.url, "username": target.username or "", "password": target.password or ""}
        for profile in self.profiles().values():
            if profile.get("name") == target.server_name:
                shown = profile.get("provisioningServer") or {}
                if shown.get("address") != target.url or (shown.get("username") or "") != server["username"] or target.password:
                    response = self._call("PUT", "/profiles/%s" % profile["id"], {"name": target.server_name, "provisioningServer": server})
                    if response.status_code not in (200, 204):
                        raise RpsError("PUT /profiles/%s: HTTP %s: %s" % (profile["id"], response.status_code, vendor_words(response)))
                return profile["id"]
        response = self._call("POST", "/profiles", {"name": target.server_name, "provisioningServer": server})
        if response.status_code not in (200, 201):
            raise RpsError("POST /profiles: HTTP %s: %s" % (response.status_code, vendor_words(response)))
        return expect_json(response, "new profile")["id"]

    def register(self, macs, target, found):
        profile_id = self._ensure_profile(target)
        errors = {}
        for mac in macs:
            if found[mac].state == "ours":
                response = self._call("PUT", "/devices/%s" % mac, {"profile": profile_id})
            else:
                response = self._call("POST", "/devices", {"id": mac, "profile": profile_id})
            if response.status_code not in (200, 201, 204):
                errors[mac] = "HTTP %s: %s" % (response.status_code, vendor_words(response))
        return errors

    def unregister(self, macs, found):
        errors = {}
        for mac in macs:
            response = self._call("DELETE", "/devices/%s" % mac)
            if response.status_code not in (200, 204, 404):
                errors[mac] = "HTTP %s: %s" % (response.status_code, vendor_words(response))
        return errors
