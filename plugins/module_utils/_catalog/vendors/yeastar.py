# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Yeastar TA: the catalog entry (vendor, models). Sources: docs/catalog-sources.md."""

from __future__ import annotations

from ansible_collections.pbxops.autoprov.plugins.module_utils._catalog.vendors.common import MAC, xml_secret

VENDOR = {
    "name": "Yeastar",
    "oui_org": r"yeastar",
    "user_agent": r"^Yeastar[-\s]+(?P<model>TA\d+)\S*\s+(?P<firmware>[\w.]+)(?:\s+" + MAC + r")?",
    "pnp_names": ["yeastar"],
    "pnp_url": "{url}",
    "methods": ["pnp", "dhcp"],
    "rps": None,
    "secret_keys": [xml_secret(r"\w*[Pp]ass(?:word|wd)?\w*")],
    "files": [
        {"name": "cfg{mac}.xml", "template": "yeastar/device.xml.j2", "scope": "device", "secret": True},
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
    "key_types": [],
}

MODELS = [
    ("TA100", "fxs", 1, 0, {}),
    ("TA200", "fxs", 2, 0, {}),
    ("TA400", "fxs", 4, 0, {}),
    ("TA800", "fxs", 8, 0, {}),
    ("TA1600", "fxs", 16, 0, {}),
    ("TA2400", "fxs", 24, 0, {}),
    ("TA3200", "fxs", 32, 0, {}),
]
