# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Poly ZTP, REST with an API-KEY header (docs/rps.md, "Poly").

A profile holds the provisioning server in template.provisioning.server
(address, username, password); a device (id = MAC) names its profile. A device
moves to another profile by delete, then add: the calls public clients use.
"""

from __future__ import annotations

from urllib.parse import quote

from ansible_collections.pbxops.autoprov.plugins.module_utils._rps.base import Client, Found, RpsError, absent, expect_json, vendor_words

MAX_PAGES = 100


def server_of(profile):
    return ((profile.get("template") or {}).get("provisioning") or {}).get("server") or {}


def profile_body(target):
    """A profile as fspbx sends it: name, enabled, template.provisioning.server with the fields that are set."""
    server = {"address": target.url}
    if target.username:
        server["username"] = target.username
    if target.password:
        server["password"] = target.password
    return {"name": target.server_name, "enabled": True, "template": {"provisioning": {"server": server}}}


class PolyClient(Client):
    vendor = "poly"
    default_api_url = "https://api.ztp.poly.com/v1"
    credentials_required = ("api_key",)
    url_credentials = "record"

    def __init__(self, *args):
        super().__init__(*args)
        self._profiles = None
        self._profile_of = {}  # mac -> the profile id the device names

    def _call(self, method, path, payload=None):
        headers = {"API-KEY": self.credentials["api_key"], "Accept": "application/json"}
        response = self.http.request(method, self.api_url + path, json=payload, headers=headers)
        if response.status_code in (401, 403):
            raise RpsError(
                "%s %s: Poly ZTP refused the API key (HTTP %s): %s" % (method, path, response.status_code, vendor_words(response))
            )
        return response

    def profiles(self):
        """{profile id: profile}; further pages by the answer's `next` cursor (our model for profiles: fspbx pages devices so)."""
        if self._profiles is None:
            self._profiles, path = {}, "/profiles"
            for _page in range(MAX_PAGES):
                response = self._call("GET", path)
                if response.status_code != 200:
                    raise RpsError("GET /profiles: HTTP %s: %s" % (response.status_code, vendor_words(response)))
                body = expect_json(response, "profiles")
                self._profiles.update((p["id"], p) for p in body.get("results") or [])
                if not body.get("next"):
                    return self._profiles
                path = "/profiles?cursor=%s" % quote(str(body["next"]), safe="")
            raise RpsError("GET /profiles: more than %d pages" % MAX_PAGES)
        return self._profiles

    def lookup(self, macs, target=None):
        found = {}
        for mac in macs:
            response = self._call("GET", "/devices/%s" % mac)
            if response.status_code == 200:
                profile_id = expect_json(response, "device %s" % mac).get("profileid")
                self._profile_of[mac] = profile_id
                profile = self.profiles().get(profile_id) or {}
                server = server_of(profile)
                found[mac] = Found(
                    "ours",
                    url=server.get("address") or "(profile %s)" % profile_id,
                    username=server.get("username") or None,
                    password=(server.get("password") or None) if "password" in server else None,
                    message=profile.get("name"),
                )
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
        """The id of our profile for target, created or brought up to date."""
        wanted = profile_body(target)
        for profile_id, profile in self.profiles().items():
            if profile.get("name") == target.server_name:
                shown = server_of(profile)
                stale = any(shown.get(k) != v for k, v in wanted["template"]["provisioning"]["server"].items() if k != "password")
                if stale or (target.password and shown.get("password") != target.password):
                    self._write("PUT", "/profiles/%s" % profile_id, wanted)
                return profile_id
        return expect_json(self._write("POST", "/profiles", wanted), "new profile")["id"]

    def _write(self, method, path, payload):
        response = self._call(method, path, payload)
        if response.status_code >= 300:
            raise RpsError("%s %s: HTTP %s: %s" % (method, path, response.status_code, vendor_words(response)))
        return response

    def register(self, macs, target, found):
        profile_id = self._ensure_profile(target)
        errors = {}
        for mac in macs:
            if found[mac].state == "ours":
                if self._profile_of.get(mac) == profile_id:
                    continue  # on our profile already: the profile write carried the change
                problem = self._delete(mac)
                if problem:
                    errors[mac] = problem
                    continue
            response = self._call("POST", "/devices", {"id": mac, "profile": profile_id})
            if response.status_code >= 300:
                errors[mac] = failure(response)
        return errors

    def _delete(self, mac):
        response = self._call("DELETE", "/devices/%s" % mac)
        if response.status_code >= 300 and response.status_code != 404:
            return failure(response)
        return None

    def unregister(self, macs, found):
        errors = {}
        for mac in macs:
            problem = self._delete(mac)
            if problem:
                errors[mac] = problem
        return errors


def failure(response):
    """A per-MAC error; 409 is another account's device (ZTP client scripts)."""
    if response.status_code == 409:
        return "registered with a different Poly ZTP account (HTTP 409): %s" % vendor_words(response)
    return "HTTP %s: %s" % (response.status_code, vendor_words(response))
