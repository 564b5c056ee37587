# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Grandstream: the catalog entry (vendor, models, PnP announcement). Sources: docs/catalog-sources.md."""

from __future__ import annotations

from ansible_collections.pbxops.autoprov.plugins.module_utils._catalog.vendors.common import MAC, xml_secret

# P-values that hold passwords: admin/user web passwords, account 1-6 passwords, HT80x port 2,
# HT81x ports 1-8.
P_SECRETS = ["P2", "P196", "P1360", "P34", "P406", "P506", "P606", "P1706", "P1806", "P734"] + ["P%d" % (4120 + i) for i in range(8)]

VENDOR = {
    "name": "Grandstream",
    "oui_org": r"grandstream",
    "user_agent": r"^Grandstream\s+Model\s+HW\s+(?P<model>\w+)(?:\s+V\S+)?\s+SW\s+(?P<firmware>[\d.]+)\s+DevId\s+" + MAC,
    "pnp_names": ["grandstream"],
    "pnp_url": "{url}",
    "methods": ["pnp", "dhcp"],
    "rps": None,
    "secret_keys": [xml_secret(*P_SECRETS)],
    "files": [
        {"name": "cfg{mac}.xml", "template": "grandstream/device.xml.j2", "scope": "device", "secret": True},
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
    "key_types": ["blf", "speeddial", "park", "intercom", "dtmf"],
}

MODELS = [
    ("GXP1610", "phone", 1, 0, {}),
    ("GXP1625", "phone", 2, 0, {}),
    ("GXP1630", "phone", 3, 8, {}),
    ("GXP2130", "phone", 3, 8, {}),
    ("GXP2135", "phone", 6, 8, {"note": "8 accounts on the device; the first 6 are provisioned"}),
    ("GXP2160", "phone", 6, 24, {}),
    ("GXP2170", "phone", 6, 48, {"note": "12 accounts on the device; the first 6 are provisioned"}),
    ("GRP2612", "phone", 2, 16, {}),
    ("GRP2613", "phone", 3, 24, {}),
    ("GRP2614", "phone", 4, 40, {}),
    ("GRP2615", "phone", 6, 40, {"note": "10 accounts on the device; the first 6 are provisioned"}),
    ("GRP2616", "phone", 6, 40, {}),
    ("HT801", "ata", 1, 0, {}),
    ("HT802", "ata", 2, 0, {}),
    ("HT812", "ata", 2, 0, {}),
    ("HT814", "ata", 4, 0, {}),
    ("HT818", "ata", 8, 0, {}),
]

# How a booting phone announces itself (pnp_probe): see _catalog/index.py for the fields.
PROBE = {
    "uri_user": "MAC%3A{MAC}",
    "uri_host": "224.0.1.75",
    "contact_user": False,
    "vendor_param": "vendor",
    "vendor_name": "Grandstream",
    "model": "GXP2135",
    "firmware": "1.0.11.79",
    "sip_user_agent": "Grandstream {model} {firmware}",
    "http_user_agent": "Grandstream Model HW {model} SW {firmware} DevId {mac}",
}
