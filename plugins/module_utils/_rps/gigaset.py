# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Gigaset redirect server, XML-RPC (docs/rps.md, "Gigaset").

Devices are named by their MAC-ID: the MAC and the 4-character code printed on
the label (XXXXXXXXXXXX-XXXX), which proves the device is in hand. The URL is
kept per device; changing it means deregister, then register.
"""

from __future__ import annotations

from ansible_collections.pbxops.autoprov.plugins.module_utils._rps import xmlrpc as rpc
from ansible_collections.pbxops.autoprov.plugins.module_utils._rps.base import Client, Found, RpsError, absent
from ansible_collections.pbxops.autoprov.plugins.module_utils._urls import split_credentials, with_credentials


class GigasetClient(Client):
    vendor = "gigaset"
    default_api_url = "https://prov.gigaset.net/apxml/rpc.do"
    credentials_required = ("username", "password")
    device_fields_required = ("pin",)
    device_fields_help = "pin: the 4-character code printed after the MAC on the label (MAC-ID XXXXXXXXXXXX-XXXX)"
    url_credentials = "url"

    def _call(self, method, *params):
        result = rpc.call(self.http, self.api_url, method, params, (self.credentials["username"], self.credentials["password"]))
        return rpc.pair(result, method)

    def mac_id(self, mac):
        return "%s-%s" % (mac.upper(), str(self.devices[mac]["pin"]).strip().upper())

    def lookup(self, macs, target=None):
        found = {}
        for mac in macs:
            ok, answer = self._call("autoprov.checkDevice", self.mac_id(mac))
            if ok and isinstance(answer, dict):
                url, username, password = split_credentials(answer.get("url"))
                found[mac] = Found("ours", url=url, username=username, password=password, message=answer.get("provider"))
            elif str(answer).startswith("mac_not_found:"):
                found[mac] = absent()
            elif str(answer).startswith("mac_already_in_use:"):
                found[mac] = Found("foreign", message=answer)
            elif str(answer).startswith(("mac_invalid:", "mac_not_exist:")):
                found[mac] = Found("invalid", message=answer)
            else:
                raise RpsError("autoprov.checkDevice %s: %r" % (mac, answer))
        return found

    def register(self, macs, target, found):
        errors = {}
        url = with_credentials(target.url, target.username, target.password)
        for mac in macs:
            if found[mac].state == "ours":
                ok, text = self._call("autoprov.deregisterDevice", self.mac_id(mac))
                if not ok and not str(text).startswith("mac_not_found:"):
                    errors[mac] = text
                    continue
            ok, text = self._call("autoprov.registerDevice", self.mac_id(mac), url, target.server_name)
            if not ok:
                errors[mac] = text
        return errors

    def unregister(self, macs, found):
        errors = {}
        for mac in macs:
            ok, text = self._call("autoprov.deregisterDevice", self.mac_id(mac))
            if not ok and not str(text).startswith("mac_not_found:"):
                errors[mac] = text
        return errors
