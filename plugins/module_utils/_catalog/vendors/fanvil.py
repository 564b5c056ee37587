# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fanvil: the catalog entry (vendor, models, PnP announcement). Sources: docs/catalog-sources.md."""

from __future__ import annotations

from ansible_collections.pbxops.autoprov.plugins.module_utils._catalog.vendors.common import MAC

VENDOR = {
    "name": "Fanvil",
    "oui_org": r"fanvil",
    "user_agent": r"^Fanvil\s+(?P<model>[\w-]+)\s+(?P<firmware>[\d.]+)\s+" + MAC,
    "pnp_names": ["fanvil"],
    "pnp_url": "{url}",
    "methods": ["pnp", "dhcp", "rps"],
    "rps": "fanvil",
    "secret_keys": [r"<(?P<k>\w*(?:Pswd|Password|Passwd|PassWd)\w*)>(?P<v>[^<]*)</"],
    "files": [
        {"name": "{mac}.cfg", "template": "fanvil/device.xml.j2", "scope": "device", "secret": True},
    ],
    "languages": {
        "en": "en",
        "de": "de",
        "fr": "fr",
        "it": "it",
        "es": "es",
        "pt": "pt",
        "nl": "nl",
        "pl": "pl",
        "tr": "tr",
        "ru": "ru",
    },
    "key_types": ["line", "blf", "speeddial", "park"],
}

MODELS = [
    ("X1S", "phone", 2, 0, {"aliases": ["X1SP", "X1SG"]}),
    ("X3U", "phone", 6, 6, {"aliases": ["X3U Pro", "X3UPro"]}),
    ("X4U", "phone", 12, 30, {}),
    ("X5U", "phone", 16, 30, {}),
    ("X6U", "phone", 20, 60, {}),
    ("X7", "phone", 20, 106, {}),
    ("X210", "phone", 20, 106, {}),
]

# How a booting phone announces itself (pnp_probe): see _catalog/index.py for the fields.
PROBE = {
    "uri_user": "MAC={mac}",
    "uri_host": "224.0.1.75",
    "contact_user": False,
    "vendor_param": "vendor",
    "vendor_name": "Fanvil",
    "model": "X4U",
    "firmware": "2.12.2",
    "sip_user_agent": "Fanvil {model} {firmware}",
    "http_user_agent": "Fanvil {model} {firmware} {mac}",
}
