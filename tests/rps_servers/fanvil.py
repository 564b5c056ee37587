"""Fanvil FDPS XML-RPC contract server (docs/rps.md, "Fanvil").

HTTP basic auth whose password is md5(md5(account password)); material servers
(cfgName, cfgPfMode, cfgPfSrv, cfgPfName, cfgPfProt) and devices pointing at one.
"""

from __future__ import annotations

import hashlib
import re

from .common import XmlRpcFake

MAC = re.compile(r"^[0-9A-F]{12}$")
CONFIG_KEYS = {"cfgName", "cfgPfMode", "cfgPfSrv", "cfgPfName", "cfgPfProt"}


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
        if not isinstance(mac, str) or not MAC.match(mac):
            return "Error: mac_format_error"
        if not self.vendor_mac(mac):
            return "Error: mac_format_error"
        return None

    def rpc_redirect_checkDevice(self, mac):
        problem = self._mac(mac)
        if problem:
            return [False, problem]
        device = self.devices.get(mac)
        if device is None:
            return [False, "Error: device_not_exist"]
        if "owner" in device:
            return [False, "Error: device_had_existed"]
        return [True, device["server"]]

    def rpc_redirect_getServer(self, name):
        if name not in self.servers:
            return [False, "Error:server_not_exist"]
        return [True, dict(self.servers[name])]

    def rpc_redirect_deleteServer(self, name):
        if name not in self.servers:
            return [False, "Error:server_not_exist"]
        del self.servers[name]
        return [True, "OK"]

    def rpc_redirect_addMaterialServer(self, config):
        if not isinstance(config, list) or not all(isinstance(c, str) and "=" in c for c in config):
            return [False, "Error: param_error"]
        values = dict(c.split("=", 1) for c in config)
        if set(values) != CONFIG_KEYS:
            return [False, "Error: param_error"]
        if values["cfgPfProt"] not in ("1", "2", "4", "5") or not values["cfgPfSrv"] or not values["cfgPfName"].startswith("/"):
            return [False, "Error: url_format_error"]
        if values["cfgName"] in self.servers:
            return [False, "Error: server_had_existed"]
        self.servers[values["cfgName"]] = values
        return [True, "OK"]

    def _register(self, mac, server):
        problem = self._mac(mac)
        if problem:
            return problem
        if server not in self.servers:
            return "Error:server_not_exist"
        if mac in self.devices:
            return "Error: device_had_existed"
        self.devices[mac] = {"server": server}
        return None

    def rpc_redirect_registerDevice(self, mac, server):
        problem = self._register(mac, server)
        return [False, problem] if problem else [True, "OK"]

    def rpc_redirect_registerDevices(self, server, macs):
        # All or nothing, and the answer names no MAC.
        if any(self._mac(m) or m in self.devices for m in macs) or server not in self.servers:
            return [False, "Error: register_failed"]
        for mac in macs:
            self._register(mac, server)
        return [True, "OK"]

    def rpc_redirect_editDevice(self, mac, server):
        device = self.devices.get(mac)
        if device is None or "owner" in device:
            return [False, "Error: device_not_exist"]
        if server not in self.servers:
            return [False, "Error:server_not_exist"]
        device["server"] = server
        return [True, "OK"]

    def _deregister(self, mac):
        device = self.devices.get(mac)
        if device is None or "owner" in device:
            return "Error: device_not_exist"
        del self.devices[mac]
        return None

    def rpc_redirect_deRegisterDevice(self, mac):
        problem = self._deregister(mac)
        return [False, problem] if problem else [True, "OK"]

    def rpc_redirect_deRegisterDevices(self, macs):
        if any(self.devices.get(m) is None or "owner" in self.devices[m] for m in macs):
            return [False, "Error: deregister_failed"]
        for mac in macs:
            self._deregister(mac)
        return [True, "OK"]

    def give_to_other_account(self, mac):
        self.devices[mac.upper()] = {"owner": "other"}

    def url_of(self, mac):
        device = self.devices.get(mac.upper())
        if not device or "server" not in device:
            return None
        s = self.servers.get(device["server"])
        return s and "%s://%s%s" % ({"4": "http", "5": "https"}[s["cfgPfProt"]], s["cfgPfSrv"], s["cfgPfName"])
