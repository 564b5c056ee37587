# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Htek RPS, XML-RPC (docs/rps.md, "Htek").

Devices point at a server by name; the API can add servers but not read them
back, so our server names carry a hash of URL and user (server_name_for) and a
MAC on the server named for the target URL is known to be right.
"""

from __future__ import annotations

from ansible_collections.pbxops.autoprov.plugins.module_utils._rps import xmlrpc as rpc
from ansible_collections.pbxops.autoprov.plugins.module_utils._rps.base import Client, Found, RpsError, absent
from ansible_collections.pbxops.autoprov.plugins.module_utils._urls import with_credentials


class HtekClient(Client):
    vendor = "htek"
    default_api_url = "https://rps.htek.com/index.php/xmlrpc"
    credentials_required = ("username", "password")
    url_credentials = "url"

    def __init__(self, *args):
        super().__init__(*args)
        self.target_server = None

    def _call(self, method, *params):
        result = rpc.call(self.http, self.api_url, method, params, (self.credentials["username"], self.credentials["password"]))
        return rpc.pair(result, method)

    def lookup(self, macs, target=None):
        found, ours = {}, []
        for mac in macs:
            ok, text = self._call("redirect.checkDevice", mac)
            if ok and text == "registered":
                ours.append(mac)
            elif text == "unregistered":
                found[mac] = absent()
            elif text == "registered elsewhere":
                found[mac] = Found("foreign", message=text)
            elif "Invalid MAC" in text:
                found[mac] = Found("invalid", message=text)
            else:
                raise RpsError("redirect.checkDevice %s: %s" % (mac, text))
        if ours:
            ok, devices = self._call("redirect.listDevices")
            if not ok:
                raise RpsError("redirect.listDevices: %s" % devices)
            servers = {str(d.get("mac", "")).lower(): d.get("serverName") for d in devices}
            for mac in ours:
                server = servers.get(mac)
                # Our server names stand for one URL and user (see the module docstring).
                if target and server == target.server_name:
                    found[mac] = Found("ours", url=target.url, username=target.username, password=target.password, message=server)
                else:
                    found[mac] = Found("ours", url="(server %s)" % server, message=server)
        return found

    def register(self, macs, target, found):
        ok, text = self._call("redirect.addServer", target.server_name, with_credentials(target.url, target.username, target.password))
        if not ok and "exist" not in text.lower():
            raise RpsError("redirect.addServer %s: %s" % (target.server_name, text))
        errors = {}
        new = [m for m in macs if found[m].state != "ours"]
        if new:
            ok, text = self._call("redirect.registerDevices", new, target.server_name)
            if not ok:  # the batch answer lists MACs in prose: ask one by one for per-MAC words
                for mac in new:
                    ok, text = self._call("redirect.registerDevice", mac, target.server_name)
                    if not ok and not text.startswith("Existing MAC"):
                        errors[mac] = text
        for mac in (m for m in macs if found[m].state == "ours"):
            ok, text = self._call("redirect.editDevice", mac, target.server_name)
            if not ok:
                errors[mac] = text
        return errors

    def unregister(self, macs, found):
        errors = {}
        ok, _text = self._call("redirect.deRegisterDevices", macs)
        if not ok:
            for mac in macs:
                ok, text = self._call("redirect.deRegisterDevice", mac)
                if not ok:
                    errors[mac] = text
        return errors
