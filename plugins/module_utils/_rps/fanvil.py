# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fanvil FDPS, XML-RPC (docs/rps.md, "Fanvil").

FDPS keeps "material servers" (host, path, protocol) and devices that point at
one by name. The account password travels as md5(md5(password)) in HTTP basic auth.
"""

from __future__ import annotations

import hashlib
from urllib.parse import urlsplit

from ansible_collections.pbxops.autoprov.plugins.module_utils._rps import xmlrpc as rpc
from ansible_collections.pbxops.autoprov.plugins.module_utils._rps.base import Client, Found, RpsError, absent

# FDPS protocol codes for cfgPfProt.
PROTOCOLS = {"ftp": "1", "tftp": "2", "http": "4", "https": "5"}
SCHEMES = {code: scheme for scheme, code in PROTOCOLS.items()}


def server_url(server):
    """The URL a material server stands for."""
    scheme = SCHEMES.get(str(server.get("cfgPfProt")))
    if not scheme or not server.get("cfgPfSrv"):
        return None
    return "%s://%s%s" % (scheme, server["cfgPfSrv"], server.get("cfgPfName") or "/")


class FanvilClient(Client):
    vendor = "fanvil"
    default_api_url = "https://fdps.fanvil.com/xmlrpc.php"
    credentials_required = ("username", "password")
    url_credentials = None  # a material server has host, path and protocol only

    def __init__(self, *args):
        super().__init__(*args)
        once = hashlib.md5(self.credentials["password"].encode("utf-8")).hexdigest()
        self._password = hashlib.md5(once.encode("ascii")).hexdigest()

    def secrets(self):
        return [self._password]

    def _call(self, method, *params):
        return rpc.pair(rpc.call(self.http, self.api_url, method, params, (self.credentials["username"], self._password)), method)

    def lookup(self, macs, target=None):
        found, servers = {}, {}
        for mac in macs:
            ok, text = self._call("redirect.checkDevice", mac.upper())
            if ok:
                if text not in servers:
                    known, server = self._call("redirect.getServer", text)
                    servers[text] = server_url(server) if known and isinstance(server, dict) else None
                found[mac] = Found("ours", url=servers[text], message=text)
            elif "device_not_exist" in text:
                found[mac] = absent()
            elif "device_had_existed" in text:
                found[mac] = Found("foreign", message=text)
            elif "mac_format_error" in text:
                found[mac] = Found("invalid", message=text)
            else:
                raise RpsError("redirect.checkDevice %s: %s" % (mac, text))
        return found

    def _ensure_server(self, target):
        known, server = self._call("redirect.getServer", target.server_name)
        if known and isinstance(server, dict) and server_url(server) == target.url:
            return
        if known:
            self._call("redirect.deleteServer", target.server_name)
        parts = urlsplit(target.url)
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        config = [
            "cfgName=" + target.server_name,
            "cfgPfMode=1",
            "cfgPfSrv=" + parts.netloc,
            "cfgPfName=" + path,
            "cfgPfProt=" + PROTOCOLS[parts.scheme],
        ]
        ok, text = self._call("redirect.addMaterialServer", config)
        if not ok:
            raise RpsError("redirect.addMaterialServer %s: %s" % (target.server_name, text))

    def register(self, macs, target, found):
        self._ensure_server(target)
        errors = {}
        new = [m for m in macs if found[m].state != "ours"]
        if new:
            ok, _text = self._call("redirect.registerDevices", target.server_name, [m.upper() for m in new])
            if not ok:  # the batch names no MAC: ask one by one to say which failed and why
                for mac in new:
                    ok, text = self._call("redirect.registerDevice", mac.upper(), target.server_name)
                    if not ok:
                        errors[mac] = text
        for mac in (m for m in macs if found[m].state == "ours"):
            ok, text = self._call("redirect.editDevice", mac.upper(), target.server_name)
            if not ok:
                errors[mac] = text
        return errors

    def unregister(self, macs, found):
        errors = {}
        ok, _text = self._call("redirect.deRegisterDevices", [m.upper() for m in macs])
        if not ok:
            for mac in macs:
                ok, text = self._call("redirect.deRegisterDevice", mac.upper())
                if not ok and "device_not_exist" not in text:
                    errors[mac] = text
        return errors
