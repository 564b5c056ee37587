# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Snom: the catalog entry (vendor, models, PnP announcement). Sources: docs/catalog-sources.md."""

from __future__ import annotations

from ansible_collections.pbxops.autoprov.plugins.module_utils._catalog.vendors.common import xml_secret

VENDOR = {
    "name": "Snom",
    "oui_org": r"snom",
    # Mozilla/4.0 (compatible; snomD785-SIP 10.1.33.33 2010.12-00004-g9ba52f5 000413922D24 SXM:0 UXM:0)
    "user_agent": r"\bsnom(?P<model>\w+?)-SIP\s+(?P<firmware>[\d.]+)(?:\s+\S+\s+(?P<mac>[0-9A-Fa-f]{12})\b)?",
    "pnp_names": ["snom"],
    # Snom phones take the NOTIFY body as their setting URL; point it at the MAC's own file.
    "pnp_url": "{url}{MAC}.xml",
    "methods": ["pnp", "rps"],
    "rps": "snom",
    "secret_keys": [xml_secret("user_pass", "admin_mode_password", "http_pass", "http_client_pass")],
    "files": [
        {"name": "{MAC}.xml", "template": "snom/device.xml.j2", "scope": "device", "secret": True},
        # Only fetched when the setting server is a directory (RPS); PnP points at the .xml itself.
        {"name": "snom{model}-{MAC}.htm", "template": "snom/device.htm.xml.j2", "scope": "device", "optional": True},
    ],
    "languages": {
        "en": "English",
        "de": "Deutsch",
        "fr": "Francais",
        "it": "Italiano",
        "es": "Espanol",
        "pt": "Portugues",
        "nl": "Nederlands",
        "pl": "Polski",
        "tr": "Turkce",
        "ru": "Russian",
    },
    "key_types": ["line", "blf", "speeddial", "park", "dtmf", "url"],
}

MODELS = [
    ("D715", "phone", 4, 4, {}),
    ("D717", "phone", 6, 3, {}),
    ("D735", "phone", 12, 32, {}),
    ("D785", "phone", 12, 24, {}),
    ("D865", "phone", 12, 40, {}),
]

# How a booting phone announces itself (pnp_probe): see _catalog/index.py for the fields.
PROBE = {
    "uri_user": "MAC%3a{MAC}",
    "uri_host": "snom.pnp.invalid",
    "contact_user": False,
    "vendor_param": "vendor",
    "vendor_name": "snom",
    "model": "snomD785",
    # Snom phones announce their model with the vendor in front: D785 -> snomD785.
    "announce": "snom{model}",
    "firmware": "10.1.141.13",
    "sip_user_agent": None,
    "http_user_agent": "Mozilla/4.0 (compatible; {model}-SIP {firmware} 2010.12-00004-g9ba52f5 {MAC} SXM:0 UXM:0)",
}
