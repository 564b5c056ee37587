# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Htek: the catalog entry (vendor, models, PnP announcement). Sources: docs/catalog-sources.md."""

from __future__ import annotations

from ansible_collections.pbxops.autoprov.plugins.module_utils._catalog.vendors.common import MAC, xml_secret

# P-values that hold passwords: admin/user web passwords, account 1-6 passwords.
P_SECRETS = ["P2", "P196", "P1360", "P34", "P406", "P506", "P606", "P1706", "P1806"]

VENDOR = {
    "name": "Htek",
    "oui_org": r"hanlong|htek",
    "user_agent": r"^Htek\s+(?P<model>[\w-]+)\s+(?P<firmware>[\d.]+)\s+" + MAC,
    "pnp_names": ["htek"],
    "pnp_url": "{url}",
    "methods": ["pnp", "dhcp", "rps"],
    "rps": "htek",
    "secret_keys": [xml_secret(*P_SECRETS[:9])],
    "files": [
        {"name": "cfg{mac}.xml", "template": "htek/device.xml.j2", "scope": "device", "secret": True},
    ],
    "languages": {
        "en": "English",
        "de": "German",
        "fr": "French",
        "it": "Italian",
        "es": "Spanish",
        "pt": "Portuguese",
        "nl": "Dutch",
        "pl": "Polish",
        "tr": "Turkish",
        "ru": "Russian",
    },
    "key_types": ["line", "blf", "speeddial", "park"],
}

MODELS = [
    ("UC902", "phone", 2, 0, {"aliases": ["UC902SP"]}),
    ("UC903", "phone", 6, 20, {}),
    ("UC912", "phone", 6, 12, {"aliases": ["UC912E", "UC912G"]}),
    ("UC923", "phone", 6, 20, {}),
    ("UC924", "phone", 6, 28, {"aliases": ["UC924E"]}),
    ("UC926", "phone", 6, 36, {"aliases": ["UC926E"]}),
]

# How a booting phone announces itself (pnp_probe): see _catalog/index.py for the fields.
PROBE = {
    "uri_user": "MAC:{mac}",
    "uri_host": "224.0.1.75",
    "contact_user": False,
    "vendor_param": "vender",
    "vendor_name": "Htek",
    "model": "UC903",
    "firmware": "2.0.4.6.33",
    "sip_user_agent": "Htek {model} {firmware}",
    "http_user_agent": "Htek {model} {firmware} {mac_colon}",
}
