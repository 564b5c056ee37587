# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Htek RPS, XML-RPC (docs/rps.md, "Htek").

Devices point at a server by name. Htek's API page documents registerDevice in
full and names the other methods; their parameters and answers follow the Yealink
RPS XML-RPC that Htek's API copies (our model). The API cannot read a server's URL
back, so our server names carry a hash of URL and user (server_name_for): a MAC on
the server named for the target URL is known to be right.
"""

from __future__ import annotations

from ansible_collections.pbxops.autoprov.plugins.module_utils._rps import xmlrpc as rpc
from ansible_collections.pbxops.autoprov.plugins.module_utils._rps.base import Client, Found, RpsError, absent
from ansible_collections.pbxops.autoprov.plugins.module_utils._urls import with_credentials

# Htek's words when another RPS user holds the MAC (registerDevice without isOverride, which we never send).
FOREIGN = "Are you sure you want to override"


class HtekClient(Client):
    vendor = "htek"
    default_api_url = "https://rps.htek.com/index.php/xmlrpc"
    credentials_required = ("username", "password")
    url_credentials = "url"

    def _call(self, method, *params):
        result = rpc.call(self.http, self.api_url, method, params, (self.credentials["username"], self.credentials["password"]))
        return rpc.pair(result, method)

    def lookup(self, macs, target=None):
        found, ours = {}, []
        for mac in macs:
            _ok, text = self._call("redirect.checkDevice", mac)
            text = str(text)
            if text == "registered":
                ours.append(mac)
            elif text in ("unregistered", "unknown"):
                found[mac] = absent()
            elif text == "registered elsewhere":
                found[mac] = Found("foreign", message=text)
            elif "Invalid MAC" in text:
                found[mac] = Found("invalid", message=text)
            else:
                raise RpsError("redirect.checkDevice %s: %s" % (mac, text[:200]))
        if ours:
            found.update(self._servers(ours, target))
        return found

    def _servers(self, macs, target):
        """Found for MACs of this account, from the server each points at (listDevices: our model)."""
        ok, devices = self._call("redirect.listDevices")
        if not ok or not isinstance(devices, list):
            raise RpsError("redirect.listDevices: %r" % str(devices)[:200])
        servers = {str(d.get("mac", "")).replace(":", "").replace("-", "").lower(): d.get("serverName") for d in devices}
        found = {}
        for mac in macs:
            server = servers.get(mac)
            if target and server == target.server_name:
                found[mac] = Found("ours", url=target.url, username=target.username, password=target.password, message=server)
            else:
                found[mac] = Found("ours", url="(server %s)" % server, message=server)
        return found

    def _register(self, mac, server):
        ok, text = self._call("redirect.registerDevice", mac, server)
        if ok:
            return None
        if FOREIGN in text:
            return "registered to another Htek RPS account: %s" % text
        return text

    def register(self, macs, target, found):
        ok, text = self._call("redirect.addServer", target.server_name, with_credentials(target.url, target.username, target.password))
        if not ok and "exist" not in text.lower():
            raise RpsError("redirect.addServer %s: %s" % (target.server_name, text))
        errors = {}
        for mac in macs:
            problem = None
            if found[mac].state == "ours":
                ok, text = self._call("redirect.deRegisterDevice", mac)
                problem = None if ok else text
            problem = problem or self._register(mac, target.server_name)
            if problem:
                errors[mac] = problem
        return errors

    def unregister(self, macs, found):
        errors = {}
        for mac in macs:
            ok, text = self._call("redirect.deRegisterDevice", mac)
            if not ok:
                errors[mac] = text
        return errors
