# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Gigaset redirect server, XML-RPC (docs/rps.md, "Gigaset").

Devices are named by their MAC-ID: the MAC and the 4-character code printed on
the label (XXXXXXXXXXXX-XXXX); the device option `pin` carries the code. The URL
is kept per device; changing it means deregister, then register. checkDevice says
whether a device is ours but no public source shows it telling the URL, so a MAC
that is ours is registered again on every run with state present.
"""

from __future__ import annotations

import re

from ansible_collections.pbxops.autoprov.plugins.module_utils._rps import xmlrpc as rpc
from ansible_collections.pbxops.autoprov.plugins.module_utils._rps.base import Client, Found, RpsError, absent, server_prefix
from ansible_collections.pbxops.autoprov.plugins.module_utils._urls import with_credentials

CODE = re.compile(r"^[0-9A-Z]{4}$")  # the code after the MAC (falconieri providerDispatch.go)
URL_NOT_SHOWN = "Gigaset shows that the MAC is in this account but not its URL: registered again with the URL"


class GigasetClient(Client):
    vendor = "gigaset"
    default_api_url = "https://prov.gigaset.net/apxml/rpc.do"
    credentials_required = ("username", "password")
    device_fields_required = ("pin",)
    device_fields_help = "pin: the 4-character code printed after the MAC on the label (MAC-ID XXXXXXXXXXXX-XXXX)"
    url_credentials = "url"
    # autoprov.registerDevice takes each MAC's own URL (docs/rps.md, Gigaset table).
    per_device_url = True

    @classmethod
    def device_problems(cls, device):
        code = str(device.get("pin") or "").strip().upper()
        if code and not CODE.match(code):
            return ["pin: the code after the MAC on the label is 4 letters or digits (MAC-ID XXXXXXXXXXXX-XXXX)"]
        return []

    def _call(self, method, *params):
        result = rpc.call(self.http, self.api_url, method, params, (self.credentials["username"], self.credentials["password"]))
        return rpc.pair(result, method)

    def mac_id(self, mac):
        return "%s-%s" % (mac.upper(), str(self.devices[mac]["pin"]).strip().upper())

    def lookup(self, macs, target=None):
        found = {}
        for mac in macs:
            ok, answer = self._call("autoprov.checkDevice", self.mac_id(mac))
            text = str(answer)
            if ok:
                found[mac] = Found("ours", message=URL_NOT_SHOWN)
            elif text.startswith("mac_not_found:"):
                found[mac] = absent()
            elif text.startswith("mac_already_in_use:"):
                found[mac] = Found("foreign", message=text)
            elif text.startswith(("mac_invalid:", "mac_not_exist:")):
                found[mac] = Found("invalid", message=text)
            else:
                raise RpsError("autoprov.checkDevice %s: %r" % (mac, text[:200]))
        return found

    def _deregister(self, mac):
        """None when the MAC is no longer in this account, else Gigaset's words."""
        ok, text = self._call("autoprov.deregisterDevice", self.mac_id(mac))
        return None if ok or str(text).startswith("mac_not_found:") else str(text)

    def register(self, macs, target, found):
        errors = {}
        url = with_credentials(target.url, target.username, target.password)
        provider = server_prefix(target.server_name)  # a fixed name, as every public client sends
        for mac in macs:
            problem = self._deregister(mac) if found[mac].state == "ours" else None
            if not problem:
                ok, text = self._call("autoprov.registerDevice", self.mac_id(mac), url, provider)
                problem = None if ok else str(text)
            if problem:
                errors[mac] = problem
        return errors

    def unregister(self, macs, found):
        errors = {}
        for mac in macs:
            problem = self._deregister(mac)
            if problem:
                errors[mac] = problem
        return errors
