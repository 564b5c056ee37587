# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Snom: the catalog entry (vendor, models, PnP announcement) and its hooks. Sources: templates/snom/reference.yml."""

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
    "secret_keys": [xml_secret("user_pass", "admin_mode_password", "http_pass", "http_client_pass", "webserver_admin_password")],
    "files": [
        {"name": "{MAC}.xml", "template": "snom/device.xml.j2", "scope": "device", "secret": True},
        # Only fetched when the setting server is a directory (RPS); PnP points at the .xml itself.
        {"name": "snom{code}-{MAC}.htm", "template": "snom/device.htm.xml.j2", "scope": "device", "optional": True},
    ],
    "languages": {
        "en": "English",
        "de": "Deutsch",
        "fr": "Fran\u00e7ais",
        "it": "Italiano",
        "es": "Espanol",
        "pt": "Portugu\u00eas",
        "nl": "Nederlands",
        "tr": "T\u00fcrk\u00e7e",
        "ru": "\u0420\u0443\u0441\u0441\u043a\u0438\u0439",
    },
    "key_types": ["line", "blf", "speeddial", "park", "dtmf", "url"],
}

# Snom time-zone codes (country + hours; the firmware knows the DST rule) for the zones where
# Tancredi's IANA table (snom.macros) and Wazo's rule (tone-scheme country + UTC offset, common.py
# _add_timezone) agree. Other zones get the older utc_offset/dst form (Wazo before 10.1.152.12).
TIMEZONE_CODES = {
    "Europe/Berlin": "GER+1",
    "Europe/Paris": "FRA+1",
    "Europe/Rome": "ITA+1",
    "Europe/Madrid": "ESP+1",
    "Europe/Amsterdam": "NLD+1",
    "America/New_York": "USA-5",
    "America/Chicago": "USA-6",
    "America/Denver": "USA-7",
    "America/Los_Angeles": "USA-8",
}

# code: the model as the phone writes it in its User-Agent, DHCP vendor class and the
# snom<code>-<MAC>.htm it asks for (the D715 says 715).
MODELS = [
    ("D715", "phone", 4, 5, {"code": "715", "aliases": ["715"]}),
    ("D717", "phone", 6, 3, {"code": "D717"}),
    ("D735", "phone", 12, 32, {"code": "D735"}),
    ("D785", "phone", 12, 24, {"code": "D785"}),
    ("D865", "phone", 12, 36, {"code": "D865"}),
]

# How a booting phone announces itself (pnp_probe): see _catalog/index.py for the fields.
PROBE = {
    "uri_user": "MAC%3a{MAC}",
    "uri_host": "snom.pnp.invalid",
    "contact_user": False,
    "vendor_param": "vendor",
    "vendor_name": "snom",
    "model": "snomD785",
    # Snom phones announce their model token with the vendor in front: D785 -> snomD785, D715 -> snom715.
    "announce": "snom{code}",
    "firmware": "10.1.141.13",
    "sip_user_agent": None,
    "http_user_agent": "Mozilla/4.0 (compatible; {model}-SIP {firmware} 2010.12-00004-g9ba52f5 {MAC} SXM:0 UXM:0)",
}


def lint(device, settings, model, tz):
    """Values a Snom would not take: a language it has no name for (the phone keeps its own)."""
    languages = VENDOR["languages"]
    if settings["language"] not in languages:
        return [("language", "%r: Snom phones have no such language; valid: %s" % (settings["language"], ", ".join(sorted(languages))))]
    return []


def context(device, settings, model, tz):
    """What the template writes besides the inventory: identities and keys the inventory does not use are reset.

    A Snom keeps every setting it was once given, so an identity or key removed from the
    inventory would stay on the phone (Wazo switches unused identities off and resets keys to line).
    """
    used_keys = {key["index"] for key in device["keys"]}
    return {
        "unused_identities": list(range(len(device["lines"]) + 1, model.lines + 1)),
        "unused_key_indexes": [index - 1 for index in range(1, model.keys + 1) if index not in used_keys],
        # The D8xx web interface takes webserver_admin_name/password; the D7xx http_user/http_pass.
        "web_admin_elements": model.name.startswith("D8"),
        "timezone_code": TIMEZONE_CODES.get(tz["name"]),
    }
