# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The supported-device catalog, as data. _catalog.py reads it; nothing else should.

Where each fact comes from is recorded in docs/catalog-sources.md.

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
  resync_event    the SIP Event of the NOTIFY that makes a device fetch its config
                  again (default check-sync;reboot=false)
  secret_keys     regexes that find secret values in rendered files, for masking
                  diffs of files we no longer have the secrets of; group "v" is
                  the value
  files           files a device of this vendor fetches: name pattern, template,
                  scope (device: one per MAC; shared: one per distinct name, for
                  every model using it), secret (holds passwords: served only
                  to its own device), optional (a device fetches it only on some paths:
                  status does not count it missing). Patterns: {mac}/{MAC} bare lower/upper,
                  {code} (a format spec such as {code:0>12} pads it), {model}
  languages       our language code -> the vendor's value
  key_types       the programmable-key types its templates can set (others are
                  refused with an error naming the device and key)
MODELS: vendor -> list of (model, kind, lines, keys, extra) rows; extra holds
  aliases, code (Yealink hardware code of y000000000XXX.cfg, Cisco product series
  number of $PSN.xml), methods narrower than the vendor's, and a note for the
  supported-devices table.
  kind: phone, dect (a DECT base: lines are its SIP accounts), ata (FXS ports),
  fxs (FXS gateway).
"""

from __future__ import annotations

# A MAC in any of the notations vendors send (compare after removing : and -).
_MAC = r"(?P<mac>(?:[0-9A-Fa-f]{2}[:-]?){5}[0-9A-Fa-f]{2})"
KEY_TYPES = ["line", "blf", "speeddial", "park", "intercom", "dtmf", "url"]


def _xml_secret(*elements):
    """A regex for the text of the named XML elements (attributes allowed)."""
    return r"<(?:%s)(?:\s[^>]*)?>(?P<v>[^<]*)<" % "|".join(elements)


# Grandstream/Htek P-values that hold passwords: admin/user web passwords,
# account 1-6 passwords, HT80x port 2, HT81x ports 1-8.
_P_SECRETS = ["P2", "P196", "P1360", "P34", "P406", "P506", "P606", "P1706", "P1806", "P734"] + ["P%d" % (4120 + i) for i in range(8)]

VENDORS = {
    "yealink": {
        "name": "Yealink",
        "oui_org": r"yealink",
        "user_agent": r"^Yealink\s+(?:SIP(?:\s*VP)?[-\s]?)?(?P<model>[\w-]+)\s+(?P<firmware>[\d.]+)\s+" + _MAC,
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
    },
    "fanvil": {
        "name": "Fanvil",
        "oui_org": r"fanvil",
        "user_agent": r"^Fanvil\s+(?P<model>[\w-]+)\s+(?P<firmware>[\d.]+)\s+" + _MAC,
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
    },
    "snom": {
        "name": "Snom",
        "oui_org": r"snom",
        # Mozilla/4.0 (compatible; snomD785-SIP 10.1.33.33 2010.12-00004-g9ba52f5 000413922D24 SXM:0 UXM:0)
        "user_agent": r"\bsnom(?P<model>\w+?)-SIP\s+(?P<firmware>[\d.]+)(?:\s+\S+\s+(?P<mac>[0-9A-Fa-f]{12})\b)?",
        "pnp_names": ["snom"],
        # Snom phones take the NOTIFY body as their setting URL; point it at the MAC's own file.
        "pnp_url": "{url}{MAC}.xml",
        "methods": ["pnp", "rps"],
        "rps": "snom",
        "secret_keys": [_xml_secret("user_pass", "admin_mode_password", "http_pass", "http_client_pass")],
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
    },
    "grandstream": {
        "name": "Grandstream",
        "oui_org": r"grandstream",
        "user_agent": r"^Grandstream\s+Model\s+HW\s+(?P<model>\w+)(?:\s+V\S+)?\s+SW\s+(?P<firmware>[\d.]+)\s+DevId\s+" + _MAC,
        "pnp_names": ["grandstream"],
        "pnp_url": "{url}",
        "methods": ["pnp", "dhcp"],
        "rps": None,
        "secret_keys": [_xml_secret(*_P_SECRETS)],
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
    },
    "htek": {
        "name": "Htek",
        "oui_org": r"hanlong|htek",
        "user_agent": r"^Htek\s+(?P<model>[\w-]+)\s+(?P<firmware>[\d.]+)\s+" + _MAC,
        "pnp_names": ["htek"],
        "pnp_url": "{url}",
        "methods": ["pnp", "dhcp", "rps"],
        "rps": "htek",
        "secret_keys": [_xml_secret(*_P_SECRETS[:9])],
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
    },
    "poly": {
        "name": "Poly",
        "oui_org": r"polycom|^poly\b|plantronics",
        # FileTransport PolycomVVX-VVX_450-UA/6.4.3.5018 Type/Application (no MAC)
        "user_agent": r"^FileTransport\s+Poly\w*-(?P<model>[A-Za-z]+_[A-Za-z]*\d+\w*)-UA/(?P<firmware>[\d.]+)",
        "pnp_names": [],
        "pnp_url": "{url}",
        "resync_event": "check-sync",
        "methods": ["dhcp", "rps"],
        "rps": "poly",
        "secret_keys": [r"(?i)\b[\w.]*(?:password|passwd|pwd)\w*=\"(?P<v>[^\"]*)\""],
        "files": [
            {"name": "000000000000.cfg", "template": "poly/master.xml.j2", "scope": "shared"},
            {"name": "autoprov-site.cfg", "template": "poly/site.xml.j2", "scope": "shared"},
            {"name": "{mac}.cfg", "template": "poly/master.xml.j2", "scope": "device"},
            {"name": "{mac}-autoprov.cfg", "template": "poly/device.xml.j2", "scope": "device", "secret": True},
        ],
        "languages": {
            "en": "English_United_States",
            "de": "German_Germany",
            "fr": "French_France",
            "it": "Italian_Italy",
            "es": "Spanish_Spain",
            "pt": "Portuguese_Portugal",
            "nl": "Dutch_Netherlands",
            "pl": "Polish_Poland",
            "tr": "Turkish_Turkey",
            "ru": "Russian_Russia",
        },
        "key_types": ["line", "blf", "park"],
    },
    "cisco": {
        "name": "Cisco",
        "oui_org": r"cisco",
        # Cisco-CP-6841-3PCC/11.3.7_MPP (00562b043615)
        "user_agent": r"^Cisco-CP-?(?P<model>\d{4}[A-Z]?)(?:-3PCC)?/(?P<firmware>[\w.-]+)(?:\s*\(" + _MAC + r"\))?",
        "pnp_names": [],
        "pnp_url": "{url}",
        "resync_event": "resync",
        "methods": ["dhcp"],
        "rps": None,
        "secret_keys": [
            _xml_secret(r"Password_\d+_", "Admin_Password", "User_Password"),
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
    },
    "yeastar": {
        "name": "Yeastar",
        "oui_org": r"yeastar",
        "user_agent": r"^Yeastar[-\s]+(?P<model>TA\d+)\S*\s+(?P<firmware>[\w.]+)(?:\s+" + _MAC + r")?",
        "pnp_names": ["yeastar"],
        "pnp_url": "{url}",
        "methods": ["pnp", "dhcp"],
        "rps": None,
        "secret_keys": [_xml_secret(r"\w*[Pp]ass(?:word|wd)?\w*")],
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
    },
}


def _edge(name, lines):
    return (name, "phone", lines, lines, {"aliases": ["Edge %s" % name]})


def _cisco(series, lines, keys, note=None):
    extra = {"code": series, "aliases": ["CP-%s" % series, "CP-%s-3PCC" % series]}
    if note:
        extra["note"] = note
    return (series, "phone", lines, keys, extra)


MODELS = {
    "yealink": [
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
    ],
    "fanvil": [
        ("X1S", "phone", 2, 0, {"aliases": ["X1SP", "X1SG"]}),
        ("X3U", "phone", 6, 6, {"aliases": ["X3U Pro", "X3UPro"]}),
        ("X4U", "phone", 12, 30, {}),
        ("X5U", "phone", 16, 30, {}),
        ("X6U", "phone", 20, 60, {}),
        ("X7", "phone", 20, 106, {}),
        ("X210", "phone", 20, 106, {}),
    ],
    "snom": [
        ("D715", "phone", 4, 4, {}),
        ("D717", "phone", 6, 3, {}),
        ("D735", "phone", 12, 32, {}),
        ("D785", "phone", 12, 24, {}),
        ("D865", "phone", 12, 40, {}),
    ],
    "grandstream": [
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
    ],
    "htek": [
        ("UC902", "phone", 2, 0, {"aliases": ["UC902SP"]}),
        ("UC903", "phone", 6, 20, {}),
        ("UC912", "phone", 6, 12, {"aliases": ["UC912E", "UC912G"]}),
        ("UC923", "phone", 6, 20, {}),
        ("UC924", "phone", 6, 28, {"aliases": ["UC924E"]}),
        ("UC926", "phone", 6, 36, {"aliases": ["UC926E"]}),
    ],
    "poly": [
        ("VVX150", "phone", 2, 2, {}),
        ("VVX250", "phone", 4, 4, {}),
        ("VVX350", "phone", 6, 6, {}),
        ("VVX450", "phone", 12, 12, {}),
        ("VVX501", "phone", 12, 12, {}),
        ("VVX601", "phone", 16, 16, {}),
        _edge("E100", 2),
        _edge("E220", 4),
        _edge("E320", 8),
        _edge("E350", 8),
        _edge("E400", 12),
        _edge("E450", 12),
        _edge("E500", 16),
        _edge("E550", 16),
    ],
    "cisco": [
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
    ],
    "yeastar": [
        ("TA100", "fxs", 1, 0, {}),
        ("TA200", "fxs", 2, 0, {}),
        ("TA400", "fxs", 4, 0, {}),
        ("TA800", "fxs", 8, 0, {}),
        ("TA1600", "fxs", 16, 0, {}),
        ("TA2400", "fxs", 24, 0, {}),
        ("TA3200", "fxs", 32, 0, {}),
    ],
}

# --- pnp_probe: how a booting phone of each vendor announces itself ---------
# Used only by the pnp_probe module (and its tests). Per vendor:
#   uri_user        user part of the SUBSCRIBE's Request-URI, From and To; {mac}/{MAC}
#                   bare lower/upper case (the spellings seen in the field differ by vendor)
#   uri_host        host part of those URIs (a multicast address or a DNS name)
#   contact_user    the Contact carries the same user part (else only host:port)
#   vendor_param    "vendor" or "vender" in the Event header
#   vendor_name     how the phone writes its vendor there
#   model, firmware a sample model and firmware for the probe's defaults
#   sip_user_agent  SIP User-Agent header or None; http_user_agent: the User-Agent the
#                   phone fetches its files with. {model} {firmware} {mac} {MAC}
#                   {mac_colon} {MAC_COLON}
# Sources: Snom service wiki PnP trace (MAC%3a, DNS host, no User-Agent), a Yealink
# W52P capture (bare MAC prefix, Contact with user), a Grandstream GRP2612W capture
# (MAC%3A), Fanvil's OEM PnP trace (MAC=, no From tag); Htek: MAC: and vender=.
PROBE = {
    "snom": {
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
    },
    "yealink": {
        "uri_user": "MAC{mac}",
        "uri_host": "224.0.1.75",
        "contact_user": True,
        "vendor_param": "vendor",
        "vendor_name": "Yealink",
        "model": "T46S",
        "firmware": "66.86.0.15",
        "sip_user_agent": "Yealink SIP-{model} {firmware}",
        "http_user_agent": "Yealink SIP-{model} {firmware} {mac_colon}",
    },
    "fanvil": {
        "uri_user": "MAC={mac}",
        "uri_host": "224.0.1.75",
        "contact_user": False,
        "vendor_param": "vendor",
        "vendor_name": "Fanvil",
        "model": "X4U",
        "firmware": "2.12.2",
        "sip_user_agent": "Fanvil {model} {firmware}",
        "http_user_agent": "Fanvil {model} {firmware} {mac}",
    },
    "grandstream": {
        "uri_user": "MAC%3A{MAC}",
        "uri_host": "224.0.1.75",
        "contact_user": False,
        "vendor_param": "vendor",
        "vendor_name": "Grandstream",
        "model": "GXP2135",
        "firmware": "1.0.11.79",
        "sip_user_agent": "Grandstream {model} {firmware}",
        "http_user_agent": "Grandstream Model HW {model} SW {firmware} DevId {mac}",
    },
    "htek": {
        "uri_user": "MAC:{mac}",
        "uri_host": "224.0.1.75",
        "contact_user": False,
        "vendor_param": "vender",
        "vendor_name": "Htek",
        "model": "UC903",
        "firmware": "2.0.4.6.33",
        "sip_user_agent": "Htek {model} {firmware}",
        "http_user_agent": "Htek {model} {firmware} {mac_colon}",
    },
}
