# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fanvil FDPS, XML-RPC (docs/rps.md, "Fanvil").

FDPS keeps "material servers" (host, path, protocol) and devices that point at
one by name. As nethesis/falconieri (the one public working client) does, each MAC
gets a server of its own: deregister the MAC, delete the old server, add the new
server, register the MAC to it. Our server names carry a hash of the URL
(`<server_name>-<16 hex>-<MAC>`), so the name the device points at tells whether
its URL is the wanted one. The account password travels as md5(md5(password)).
"""

from __future__ import annotations

import hashlib
import re
from urllib.parse import urlsplit

from ansible_collections.pbxops.autoprov.plugins.module_utils._rps import xmlrpc as rpc
from ansible_collections.pbxops.autoprov.plugins.module_utils._rps.base import Client, Found, RpsError, absent

# FDPS protocol codes for cfgPfProt (falconieri providers/fanvil.go).
PROTOCOLS = {"ftp": "1", "tftp": "2", "http": "4", "https": "5"}
OURS = re.compile(r"^.+-[0-9a-f]{16}-(?P<mac>[0-9A-F]{12})$")


def material_server(name, url):
    """addMaterialServer's list of key=value strings (falconieri's keys and order)."""
    parts = urlsplit(url)
    path = parts.path[1:] if parts.path.startswith("/") else parts.path
    return [
        "cfgName=" + name,
        "cfgPfMode=1",  # apply after the reboot
        "cfgDhcpOpt=false",  # the phone takes no provisioning server from DHCP
        "cfgPnpEnable=false",  # nor from PnP
        "cfgPfSrv=" + parts.netloc,
        "cfgPfName=" + path,
        "cfgPfProt=" + PROTOCOLS[parts.scheme],
    ]


class FanvilClient(Client):
    vendor = "fanvil"
    default_api_url = "https://fdps.fanvil.com/xmlrpc.php"
    credentials_required = ("username", "password")
    url_credentials = None  # a material server has host, path and protocol only

    def __init__(self, *args):
        super().__init__(*args)
        once = hashlib.md5(self.credentials["password"].encode("utf-8")).hexdigest()
        self._password = hashlib.md5(once.encode("ascii")).hexdigest()

    @classmethod
    def url_problems(cls, url):
        parts = urlsplit(url)
        if parts.query or parts.fragment:
            return ["Fanvil FDPS keeps a server's host, path and protocol only; a ?query or #fragment would be lost"]
        return []

    def secrets(self):
        return [self._password]

    def _call(self, method, *params):
        return rpc.pair(rpc.call(self.http, self.api_url, method, params, (self.credentials["username"], self._password)), method)

    @staticmethod
    def server_for(mac, target):
        return "%s-%s" % (target.server_name, mac.upper())

    def lookup(self, macs, target=None):
        found = {}
        for mac in macs:
            # Our model: checkDevice's name is in a public FDPS test script; its answer is not shown anywhere.
            ok, text = self._call("redirect.checkDevice", mac.upper())
            if ok and target and text == self.server_for(mac, target):
                found[mac] = Found("ours", url=target.url, message=text)
            elif ok:
                found[mac] = Found("ours", url="(server %s)" % text, message=text)
            elif "device_not_exist" in text:
                found[mac] = absent()
            elif "device_had_existed" in text:
                found[mac] = Found("foreign", message=text)
            elif "mac_format_error" in text:
                found[mac] = Found("invalid", message=text)
            else:
                raise RpsError("redirect.checkDevice %s: %s" % (mac, text))
        return found

    def _release(self, mac, server):
        """Take the MAC off its server and delete that server when we made it. An error text, or None."""
        ok, text = self._call("redirect.deRegisterDevice", mac.upper())
        if not ok and "device_not_exist" not in text:
            return text
        match = OURS.match(server or "")
        if match and match.group("mac") == mac.upper():
            self._delete_server(server)
        return None

    def _delete_server(self, name):
        ok, text = self._call("redirect.deleteServer", name)
        if not ok and "server_not_exist" not in text:
            raise RpsError("redirect.deleteServer %s: %s" % (name, text))

    def _point(self, mac, target):
        """Add this MAC's server and register the MAC to it. An error text, or None."""
        name = self.server_for(mac, target)
        self._delete_server(name)  # a leftover of an interrupted run
        ok, text = self._call("redirect.addMaterialServer", material_server(name, target.url))
        if not ok:
            return text
        ok, text = self._call("redirect.registerDevice", mac.upper(), name)
        if not ok:
            self._delete_server(name)
            return text
        return None

    def register(self, macs, target, found):
        errors = {}
        for mac in macs:
            problem = self._release(mac, found[mac].message) if found[mac].state == "ours" else None
            problem = problem or self._point(mac, target)
            if problem:
                errors[mac] = problem
        return errors

    def unregister(self, macs, found):
        errors = {}
        for mac in macs:
            problem = self._release(mac, found[mac].message)
            if problem:
                errors[mac] = problem
        return errors
