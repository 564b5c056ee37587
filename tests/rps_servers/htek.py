"""Htek RPS XML-RPC contract server (docs/rps.md, "Htek": the table there names the source of each rule).

Basic auth, text/xml; answers are Apache XML-RPC [boolean, untyped text] as Htek's
API page shows them. registerDevice follows that page; addServer, checkDevice,
deRegisterDevice follow the Yealink RPS XML-RPC that Htek copies (our model for
Htek), listDevices' answer is our model. Methods our client does not use
(registerDevices, deRegisterDevices, editDevice) are left out: a call to them is a fault.
"""

from __future__ import annotations

import re

from .common import XmlRpcFake

# "Four types of valid MAC address format" (Htek; Akuvox's copy of the API lists them).
MAC = re.compile(r"^(?:[0-9a-fA-F]{12}|(?:[0-9a-fA-F]{2}[ :-]){5}[0-9a-fA-F]{2})$")
SERVER_NAME = re.compile(r"^[A-Za-z0-9 ._-]{1,64}$")


def bare(mac):
    return re.sub(r"[ :-]", "", mac).lower()


class HtekFake(XmlRpcFake):
    ouis = ("001fc1",)
    path = "/index.php/xmlrpc"
    untyped = True
    xmlns_ex = True

    def __init__(self, tls=None, username="htek-user", password="htek-pass-M2c"):
        super().__init__(tls)
        self.username, self.password = username, password
        self.servers = {}  # name -> url
        self.devices = {}  # mac -> {"server": name} ours, or {"owner": "other"}

    def account(self):
        return self.username, self.password

    def _valid(self, mac):
        return isinstance(mac, str) and MAC.match(mac) and self.vendor_mac(bare(mac))

    def rpc_redirect_addServer(self, name, url):
        if not SERVER_NAME.match(name):
            return [False, "Error:The server name can only contain 'A-z 0-9 - _ . '(include space)"]
        if not re.match(r"^(https?|ftp|tftp)://", url):
            return [False, "Error:The url can only begin with 'http://' or 'https://' or 'ftp://' or 'tftp://'"]
        if name in self.servers:
            return [False, "Error:The server name already exists"]  # our model
        self.servers[name] = url
        return [True, "OK"]

    def rpc_redirect_checkDevice(self, mac):
        if not self._valid(mac):
            return [False, "Error:Invalid MAC"]
        device = self.devices.get(bare(mac))
        if device is None:
            return [True, "unregistered"]
        return [True, "registered elsewhere"] if "owner" in device else [True, "registered"]

    def rpc_redirect_listDevices(self):
        return [True, [{"mac": m, "serverName": d["server"]} for m, d in sorted(self.devices.items()) if "server" in d]]

    def rpc_redirect_registerDevice(self, mac, name):
        if not self._valid(mac):
            return [False, "Error:Invalid MAC(s):%s" % mac]  # the page's example answer
        if name not in self.servers:
            return [False, "Error: Invalid server"]
        device = self.devices.get(bare(mac))
        if device is not None:
            if "owner" in device:
                return [False, "Are you sure you want to override MAC addresses:%s" % mac]
            return [False, "Existing MAC(s): %s" % mac]
        self.devices[bare(mac)] = {"server": name}
        return [True, "OK"]

    def rpc_redirect_deRegisterDevice(self, mac):
        device = self.devices.get(bare(mac)) if isinstance(mac, str) else None
        if device is None or "owner" in device:
            return [False, "Error:Invalid MAC(s):%s" % mac]
        del self.devices[bare(mac)]
        return [True, "OK"]

    def give_to_other_account(self, mac):
        self.devices[bare(mac)] = {"owner": "other"}

    def url_of(self, mac):
        device = self.devices.get(bare(mac))
        return self.servers.get(device["server"]) if device and "server" in device else None
