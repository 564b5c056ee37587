"""Fanvil FDPS XML-RPC contract server (docs/rps.md, "Fanvil": the table there names the source of each rule).

HTTP basic auth whose password is md5(md5(account password)); material servers
added from falconieri's key=value list, devices registered to a server by name,
answers [boolean, typed string] with FDPS' texts. Only the methods a public source
shows, plus checkDevice (our model), exist: any other method is an XML-RPC fault.
"""

from __future__ import annotations

import hashlib
import re

from .common import XmlRpcFake

MAC = re.compile(r"^[0-9A-F]{12}$")
CONFIG_KEYS = {"cfgName", "cfgPfMode", "cfgDhcpOpt", "cfgPnpEnable", "cfgPfSrv", "cfgPfName", "cfgPfProt"}
REQUIRED_KEYS = {"cfgName", "cfgPfSrv", "cfgPfName", "cfgPfProt"}
SCHEMES = {"1": "ftp", "2": "tftp", "4": "http", "5": "https"}


class FanvilFake(XmlRpcFake):
    ouis = ("0c383e", "00a859")
    path = "/xmlrpc.php"

    def __init__(self, tls=None, username="fanvil-user", password="fanvil-pass-W3x"):
        super().__init__(tls)
        self.username, self.password = username, password
        self.servers = {}  # name -> config dict
        self.devices = {}  # MAC -> {"server": name} ours, {"owner": "other"}

    def account(self):
        once = hashlib.md5(self.password.encode()).hexdigest()
        return self.username, hashlib.md5(once.encode()).hexdigest()

    def _mac(self, mac):
        if not isinstance(mac, str) or not MAC.match(mac) or not self.vendor_mac(mac):
            return "Error: mac_format_error"
        return None

    def rpc_redirect_checkDevice(self, mac):
        # Our model: the answer of checkDevice; another account's device is not shown to us.
        problem = self._mac(mac)
        if problem:
            return [False, problem]
        device = self.devices.get(mac)
        if device is None or "owner" in device:
            return [False, "Error:device_not_exist"]
        return [True, device["server"]]

    def rpc_redirect_deleteServer(self, name):
        if name not in self.servers:
            return [False, "Error:server_not_exist"]
        if any(d.get("server") == name for d in self.devices.values()):
            # FDPS refuses while a device points at it (falconieri fork); the words are our model.
            return [False, "Error:server_in_use"]
        del self.servers[name]
        return [True, "OK"]

    def rpc_redirect_addMaterialServer(self, config):
        if not isinstance(config, list) or not all(isinstance(c, str) and "=" in c for c in config):
            return [False, "Error: param_error"]
        values = dict(c.split("=", 1) for c in config)
        if not REQUIRED_KEYS <= set(values) <= CONFIG_KEYS:
            return [False, "Error: param_error"]
        if values["cfgPfProt"] not in SCHEMES or not values["cfgPfSrv"] or "/" in values["cfgPfSrv"]:
            return [False, "Error: url_format_error"]
        # falconieri sends the path without its leading "/" and without a query.
        if values["cfgPfName"].startswith("/") or "?" in values["cfgPfName"]:
            return [False, "Error: url_format_error"]
        if values["cfgName"] in self.servers:
            return [False, "Error: server_had_existed"]  # our model
        self.servers[values["cfgName"]] = values
        return [True, "OK"]

    def rpc_redirect_registerDevice(self, mac, server):
        problem = self._mac(mac)
        if problem:
            return [False, problem]
        if server not in self.servers:
            return [False, "Error:server_not_exist"]
        if mac in self.devices:
            return [False, "Error: device_had_existed"]
        self.devices[mac] = {"server": server}
        return [True, "OK"]

    def rpc_redirect_deRegisterDevice(self, mac):
        device = self.devices.get(mac)
        if device is None or "owner" in device:
            return [False, "Error:device_not_exist"]
        del self.devices[mac]
        return [True, "OK"]

    def give_to_other_account(self, mac):
        self.devices[mac.upper()] = {"owner": "other"}

    def url_of(self, mac):
        device = self.devices.get(mac.upper())
        if not device or "server" not in device:
            return None
        s = self.servers.get(device["server"])
        return s and "%s://%s/%s" % (SCHEMES[s["cfgPfProt"]], s["cfgPfSrv"], s["cfgPfName"])
