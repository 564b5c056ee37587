# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The supported-device catalog, as data. _catalog.py reads it; nothing else should.

VENDORS: one entry per vendor.
  name            how the vendor is printed
  oui_org         regex (case-insensitive) on the IEEE organisation of the MAC's OUI
  user_agent      regex on the HTTP User-Agent; named groups model, firmware and,
                  where the vendor sends it, mac
  pnp_names       spellings of the vendor in a PnP SUBSCRIBE's Event (lowercase)
  pnp_url         the NOTIFY body: {url} is the provisioning URL (ends in /),
                  {mac}/{MAC} the device's MAC, bare lower/upper case
  methods         how its devices can find their config: pnp, dhcp, rps
  rps             the RPS client (rps_devices vendor) or None
  secret_keys     regexes that find secret values in rendered files, for masking
                  diffs of files we no longer have the secrets of; group "v" is
                  the value
  files           files a device of this vendor fetches: name pattern, template,
                  scope (device: one per MAC; shared: one per distinct name, for
                  every model using it), secret (holds passwords: served only
                  to its own device)
  languages       our language code -> the vendor's value
MODELS: vendor -> list of (model, kind, lines, keys, extra) rows; extra holds
  aliases, the Yealink hardware code (code), methods narrower than the vendor's.
"""

from __future__ import annotations

_MAC_COLON = r"(?P<mac>(?:[0-9A-Fa-f]{2}[:-]?){5}[0-9A-Fa-f]{2})"

VENDORS = {
    "yealink": {
        "name": "Yealink",
        "oui_org": r"yealink",
        "user_agent": r"^Yealink\s+(?:SIP[-\s]?)?(?P<model>[\w-]+)\s+(?P<firmware>[\d.]+)\s+" + _MAC_COLON,
        "pnp_names": ["yealink"],
        "pnp_url": "{url}",
        "methods": ["pnp", "dhcp", "rps"],
        "rps": "yealink",
        "secret_keys": [r"(?im)^\s*[\w.]*(?:password|passwd|pwd|secret)[\w.]*\s*=\s*(?P<v>.*)$"],
        "files": [
            {"name": "y0000000000{code}.cfg", "template": "yealink/model.cfg.j2", "scope": "shared"},
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
    },
}

MODELS = {
    "yealink": [
        # model, kind, lines (SIP accounts), keys (programmable / DSS keys), extra
        ("T31G", "phone", 2, 2, {"code": "124"}),
        ("T33G", "phone", 4, 4, {"code": "124"}),
        ("T42S", "phone", 12, 15, {"code": "67"}),
        ("T46S", "phone", 16, 27, {"code": "66"}),
        ("T48S", "phone", 16, 29, {"code": "65"}),
        ("T53W", "phone", 12, 21, {"code": "95"}),
        ("T54W", "phone", 16, 27, {"code": "96"}),
        ("T57W", "phone", 16, 29, {"code": "97"}),
        ("W60B", "dect", 8, 0, {"code": "77"}),
        ("W70B", "dect", 10, 0, {"code": "146"}),
    ],
}
