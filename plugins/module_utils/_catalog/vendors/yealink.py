# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Yealink: the catalog entry (vendor, models, PnP announcement). Sources: docs/catalog-sources.md."""

from __future__ import annotations

from ansible_collections.pbxops.autoprov.plugins.module_utils._catalog.vendors.common import KEY_TYPES, MAC

VENDOR = {
    "name": "Yealink",
    "oui_org": r"yealink",
    "user_agent": r"^Yealink\s+(?:SIP(?:\s*VP)?[-\s]?)?(?P<model>[\w-]+)\s+(?P<firmware>[\d.]+)\s+" + MAC,
    "pnp_names": ["yealink"],
    "pnp_url": "{url}",
    "methods": ["pnp", "dhcp", "rps"],
    "rps": "yealink",
    "secret_keys": [r"(?im)^\s*[\w.]*(?:password|passwd|pwd|secret)[\w.]*\s*=\s*(?P<v>.*)$"],
    "files": [
        {"name": "y{code:0>12}.cfg", "template": "yealink/model.cfg.j2", "scope": "shared"},
        {"name": "{mac}.boot", "template": "yealink/device.boot.j2", "scope": "device"},
        {"name": "{mac}.cfg", "template": "yealink/device.cfg.j2", "scope": "device", "secret": True},
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
    "key_types": KEY_TYPES,
}

MODELS = [
    # model, kind, lines (SIP accounts), keys (programmable / DSS keys), extra
    ("T30", "phone", 1, 0, {"code": "127"}),
    ("T30P", "phone", 1, 0, {"code": "127"}),
    ("T31", "phone", 2, 2, {"code": "123"}),
    ("T31P", "phone", 2, 2, {"code": "123"}),
    ("T31G", "phone", 2, 2, {"code": "123"}),
    ("T31W", "phone", 2, 2, {"code": "172"}),
    ("T33P", "phone", 4, 4, {"code": "124"}),
    ("T33G", "phone", 4, 4, {"code": "124"}),
    ("T34W", "phone", 4, 4, {"code": "171"}),
    ("T41S", "phone", 6, 15, {"code": "68"}),
    ("T42S", "phone", 12, 15, {"code": "67"}),
    ("T46S", "phone", 16, 27, {"code": "66"}),
    ("T48S", "phone", 16, 29, {"code": "65"}),
    ("T41U", "phone", 6, 15, {"code": "116", "note": "shares the T42U's common file"}),
    ("T42U", "phone", 12, 15, {"code": "116"}),
    ("T43U", "phone", 12, 21, {"code": "107"}),
    ("T46U", "phone", 16, 27, {"code": "108"}),
    ("T48U", "phone", 16, 29, {"code": "109"}),
    ("T52S", "phone", 12, 21, {"code": "74"}),
    ("T53", "phone", 12, 21, {"code": "95"}),
    ("T53W", "phone", 12, 21, {"code": "95"}),
    ("T54S", "phone", 16, 27, {"code": "70"}),
    ("T54W", "phone", 16, 27, {"code": "96"}),
    ("T57W", "phone", 16, 29, {"code": "97"}),
    ("T58W", "phone", 16, 27, {"code": "150"}),
    ("W60B", "dect", 8, 0, {"code": "77"}),
    ("W70B", "dect", 10, 0, {"code": "146"}),
    ("W80B", "dect", 100, 0, {"code": "103", "note": "multi-cell base; W80DM firmware"}),
    ("W90B", "dect", 250, 0, {"code": "130", "note": "multi-cell base; W90DM firmware"}),
]

# How a booting phone announces itself (pnp_probe): see _catalog/index.py for the fields.
PROBE = {
    "uri_user": "MAC{mac}",
    "uri_host": "224.0.1.75",
    "contact_user": True,
    "vendor_param": "vendor",
    "vendor_name": "Yealink",
    "model": "T46S",
    "firmware": "66.86.0.15",
    "sip_user_agent": "Yealink SIP-{model} {firmware}",
    "http_user_agent": "Yealink SIP-{model} {firmware} {mac_colon}",
}
