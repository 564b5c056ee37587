# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Cisco MPP: the catalog entry (vendor, models). Sources: docs/catalog-sources.md."""

from __future__ import annotations

from ansible_collections.pbxops.autoprov.plugins.module_utils._catalog.vendors.common import KEY_TYPES, MAC, xml_secret


def _cisco(series, lines, keys, note=None):
    extra = {"code": series, "aliases": ["CP-%s" % series, "CP-%s-3PCC" % series]}
    if note:
        extra["note"] = note
    return (series, "phone", lines, keys, extra)


VENDOR = {
    "name": "Cisco",
    "oui_org": r"cisco",
    # Cisco-CP-6841-3PCC/11.3.7_MPP (00562b043615)
    "user_agent": r"^Cisco-CP-?(?P<model>\d{4}[A-Z]?)(?:-3PCC)?/(?P<firmware>[\w.-]+)(?:\s*\(" + MAC + r"\))?",
    "pnp_names": [],
    "pnp_url": "{url}",
    "resync_event": "resync",
    "methods": ["dhcp"],
    "rps": None,
    "secret_keys": [
        xml_secret(r"Password_\d+_", "Admin_Password", "User_Password"),
        r"--pwd\s+\"?(?P<v>[^\s\"<]+)",
    ],
    "files": [
        {"name": "{code}.xml", "template": "cisco/model.xml.j2", "scope": "shared"},
        {"name": "{mac}.xml", "template": "cisco/device.xml.j2", "scope": "device", "secret": True},
    ],
    "languages": {
        "en": "English-US",
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
    _cisco("6821", 2, 2),
    _cisco("6841", 4, 4),
    _cisco("6851", 4, 4),
    _cisco("6861", 4, 4),
    _cisco("6871", 6, 6),
    _cisco("7811", 1, 0),
    _cisco("7821", 2, 2),
    _cisco("7841", 4, 4),
    _cisco("7861", 16, 16),
    _cisco("8811", 10, 10),
    _cisco("8841", 10, 10),
    _cisco("8845", 10, 10),
    _cisco("8851", 10, 10),
    _cisco("8861", 10, 10),
    _cisco("8865", 10, 10),
]
