"""Gigaset redirect server XML-RPC contract server (docs/rps.md, "Gigaset": the table there names the source of each rule).

Devices are addressed by MAC-ID (12 upper-case hex digits, '-', the 4-character
code from the label); only devices Gigaset shipped (the `shipped` table: MAC -> code)
exist, and a wrong code is refused like an unknown device. Texts name the bare
12-hex MAC (peoplefone's library compares them so); the text is an untyped
<value> (falconieri reads it so). checkDevice answers [true, <MAC>] for a device
of this account: our model of what it says besides true.
"""

from __future__ import annotations

import re

from .common import XmlRpcFake

MAC_ID = re.compile(r"^([0-9A-F]{12})-([0-9A-Z]{4})$")


class GigasetFake(XmlRpcFake):
    path = "/apxml/rpc.do"
    untyped = True

    def __init__(self, tls=None, username="gigaset-user", password="gigaset-pass-R7n"):
        super().__init__(tls)
        self.username, self.password = username, password
        self.shipped = {}  # MAC -> code on the label
        self.devices = {}  # MAC -> {"url", "provider"} ours, or {"owner": "other"}

    def account(self):
        return self.username, self.password

    def _mac(self, mac_id):
        match = MAC_ID.match(mac_id) if isinstance(mac_id, str) else None
        if not match:
            return None, "mac_invalid:%s" % str(mac_id)[:12]
        mac, code = match.groups()
        if self.shipped.get(mac) != code:
            return None, "mac_not_exist:%s" % mac
        return mac, None

    def rpc_autoprov_checkDevice(self, mac_id):
        mac, problem = self._mac(mac_id)
        if problem:
            return [False, problem]
        device = self.devices.get(mac)
        if device is None or "owner" in device:
            return [False, "mac_not_found:%s" % mac]  # our model: another account's device is not shown
        return [True, mac]

    def rpc_autoprov_registerDevice(self, mac_id, url, provider):
        mac, problem = self._mac(mac_id)
        if problem:
            return [False, problem]
        if not re.match(r"^https?://[^/\s]+", url) or " " in url:
            return [False, "url_invalid:%s" % url]
        if not re.match(r"^[A-Za-z0-9 ._-]{1,32}$", provider):  # our model of the names Gigaset accepts
            return [False, "name_invalid:%s" % provider]
        if mac in self.devices:
            return [False, "mac_already_in_use:%s" % mac]
        self.devices[mac] = {"url": url, "provider": provider}
        return [True, "ok"]

    def rpc_autoprov_deregisterDevice(self, mac_id):
        mac, problem = self._mac(mac_id)
        if problem:
            return [False, problem]
        device = self.devices.get(mac)
        if device is None or "owner" in device:
            return [False, "mac_not_found:%s" % mac]
        del self.devices[mac]
        return [True, "ok"]

    def give_to_other_account(self, mac):
        self.devices[mac.upper()] = {"owner": "other"}

    def url_of(self, mac):
        device = self.devices.get(mac.upper())
        return device.get("url") if device else None
