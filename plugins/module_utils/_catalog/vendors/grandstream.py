# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Grandstream: the catalog entry (vendor, models, PnP announcement), P-value layouts and lint.

Every fact is traced in templates/grandstream/reference.yml.
"""

from __future__ import annotations

from ansible_collections.pbxops.autoprov.plugins.module_utils._catalog.vendors.common import MAC, xml_secret

# Per-account P-values of the phones: active, account name (label), SIP server, user ID,
# auth ID, password, display name, voicemail, transport, first vocoder choice.
_ACCOUNT_FIELDS = ("active", "label", "server", "user", "auth", "password", "name", "voicemail", "transport", "codec")
_ACCOUNTS = [
    (271, 270, 47, 35, 36, 34, 3, 33, 130, 57),
    (401, 417, 402, 404, 405, 406, 407, 426, 448, 451),
    (501, 517, 502, 504, 505, 506, 507, 526, 548, 551),
    (601, 617, 602, 604, 605, 606, 607, 626, 648, 651),
    # Accounts 5 and 6 of the GXP21xx (the GRP26xx numbers them differently: it gets 4 accounts).
    (1701, 1717, 1702, 1704, 1705, 1706, 1707, 1726, 1748, 1751),
    (1801, 1817, 1802, 1804, 1805, 1806, 1807, 1826, 1848, 1851),
]
ACCOUNTS = [dict(zip(_ACCOUNT_FIELDS, numbers)) for numbers in _ACCOUNTS]

# HT801/HT802 ports (port 2 has its own server and transport) and HT81x FXS ports (profile 1 server).
HT80_PORTS = [
    {"active": 271, "server": 47, "transport": 130, "user": 35, "auth": 36, "password": 34, "name": 3},
    {"active": 401, "server": 747, "transport": 830, "user": 735, "auth": 736, "password": 734, "name": 703},
]
HT81_PORT_BASE = {"user": 4060, "auth": 4090, "password": 4120, "name": 4180, "profile": 4150}

# P-values that hold passwords: admin/user web passwords, provisioning HTTP password, XML
# config file password, firmware HTTP password, account 1-6 passwords, HT80x port 2, HT81x ports 1-8.
P_SECRETS = ["P2", "P196", "P1361", "P1359", "P6769"] + ["P%d" % a["password"] for a in ACCOUNTS] + ["P734"]
P_SECRETS += ["P%d" % (HT81_PORT_BASE["password"] + i) for i in range(8)]

# Families: where the P-value encodings differ.
FAMILIES = {"GXP1": "gxp16", "GXP2": "gxp21", "GRP2": "grp", "HT80": "ht80", "HT81": "ht81"}

# Programmable keys per model: (VPKs we provision, MPKs). Key n of the inventory is VPK n,
# then MPK n - VPKs. GXP21xx VPKs 7+ have no second source for their numbers: not provisioned.
KEY_LAYOUT = {
    "GXP1630": (0, 8),
    "GXP2130": (6, 8),
    "GXP2135": (6, 0),
    "GXP2160": (6, 24),
    "GXP2170": (6, 0),
    "GRP2612": (16, 0),
    "GRP2613": (24, 0),
    "GRP2614": (16, 24),
    "GRP2615": (40, 0),
    "GRP2616": (16, 24),
}
# Key mode codes: GXP line keys / fixed VPKs; MPKs (and every GRP VPK).
GXP_VPK_MODES = {"speeddial": 10, "blf": 11, "dtmf": 15, "park": 19, "intercom": 20}
MPK_MODES = {"speeddial": 0, "blf": 1, "dtmf": 5, "park": 9, "intercom": 10}
GRP_VPK_LINE, VPK_NONE = 31, -1

# P193 (check interval, minutes): the firmware's range per family.
RESYNC_RANGE = {"gxp16": (60, 86400), "gxp21": (60, 86400), "grp": (60, 86400), "ht80": (60, 5256000), "ht81": (60, 5256000)}
# P194 value for "check every P193 minutes": phones 1, HT80x/HT81x 3 (there 1 is daily).
RESYNC_EVERY_MINUTES = {"gxp16": 1, "gxp21": 1, "grp": 1, "ht80": 3, "ht81": 3}
# HT ATAs: voice prompt language P342 (they have no display language P1362).
ATA_LANGUAGES = {"en": 0, "zh": 4, "ru": 6, "es": 10}
TZ_RULE_MAX = 64
KEY_LABEL_MAX = 32

VENDOR = {
    "name": "Grandstream",
    "oui_org": r"grandstream",
    "user_agent": r"^Grandstream\s+Model\s+HW\s+(?P<model>\w+)(?:\s+V\S+)?\s+SW\s+(?P<firmware>[\d.]+)\s+DevId\s+" + MAC,
    "pnp_names": ["grandstream"],
    "pnp_url": "{url}",
    "methods": ["pnp", "dhcp"],
    "rps": None,
    "resync_event": "resync",
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

_GRP_NOTE = "the GRP26xx numbers accounts 5+ differently; the first 4 are provisioned"
MODELS = [
    ("GXP1610", "phone", 1, 0, {}),
    ("GXP1625", "phone", 2, 0, {}),
    ("GXP1630", "phone", 3, 8, {"note": "keys are its 8 MPKs"}),
    ("GXP2130", "phone", 3, 14, {"note": "keys 1-6 are VPKs, 7-14 its MPKs"}),
    ("GXP2135", "phone", 6, 6, {"note": "8 accounts on the device; the first 6 are provisioned; VPKs 1-6"}),
    ("GXP2160", "phone", 6, 30, {"note": "keys 1-6 are VPKs, 7-30 its MPKs"}),
    ("GXP2170", "phone", 6, 6, {"note": "12 accounts on the device; the first 6 are provisioned; VPKs 1-6"}),
    ("GRP2612", "phone", 2, 16, {"note": "keys are VPKs"}),
    ("GRP2613", "phone", 3, 24, {"note": "keys are VPKs"}),
    ("GRP2614", "phone", 4, 40, {"note": "keys 1-16 are VPKs, 17-40 its MPKs"}),
    ("GRP2615", "phone", 4, 40, {"note": "10 accounts on the device: " + _GRP_NOTE + "; keys are VPKs"}),
    ("GRP2616", "phone", 4, 40, {"note": "6 accounts on the device: " + _GRP_NOTE + "; keys 1-16 VPKs, 17-40 MPKs"}),
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


def family(model):
    return FAMILIES[model.name[:4]]


def _vpk_numbers(n):
    """(mode, account, label, value) P-numbers of VPK n: 1-6 in pairs from P1363, 7+ in fours from P23800."""
    if n <= 6:
        mode = 1363 + 2 * (n - 1)
        return mode, mode + 1, mode + 102, mode + 103
    mode = 23800 + 4 * (n - 7)
    return mode, mode + 1, mode + 2, mode + 3


def _mpk_numbers(n):
    """(mode, account, label, value) P-numbers of MPK n: 1-7, 8-18 and 19-24 are three ranges."""
    if n <= 7:
        return 323 + n - 1, 301 + 3 * (n - 1), 302 + 3 * (n - 1), 303 + 3 * (n - 1)
    base = 353 + 4 * (n - 8) if n <= 18 else 1440 + 4 * (n - 19)
    return base, base + 1, base + 2, base + 3


def _key_values(device, model):
    """[(P-number, value)] of the device's keys, VPK gaps filled on the GRP (a skipped VPK drops the ones after it)."""
    vpks, _mpks = KEY_LAYOUT.get(model.name, (0, 0))
    grp = family(model) == "grp"
    by_index = {key["index"]: key for key in device["keys"]}
    values = []
    last_vpk = max([i for i in by_index if i <= vpks] or [0])
    for n in range(1, vpks + 1):
        key = by_index.get(n)
        if key is None and not (grp and n < last_vpk):
            continue
        numbers = _vpk_numbers(n)
        if key is None:  # a GRP gap: the line key of line n, else None
            has_line = n <= len(device["lines"])
            values += [(numbers[0], GRP_VPK_LINE if has_line else VPK_NONE)] + ([(numbers[1], n - 1)] if has_line else [])
            continue
        mode = (MPK_MODES if grp else GXP_VPK_MODES)[key["type"]]
        values += list(zip(numbers, (mode, key["line"] - 1, key["label"], key["value"])))
    for index in sorted(i for i in by_index if i > vpks):
        key = by_index[index]
        values += list(zip(_mpk_numbers(index - vpks), (MPK_MODES[key["type"]], key["line"] - 1, key["label"], key["value"])))
    return values


def context(device, settings, model, tz):
    """derived.*: family, accounts (P-numbers per line), keys [(P, value)], resync mode, ATA language."""
    fam = family(model)
    return {
        "family": fam,
        "accounts": ACCOUNTS,
        "ht80_ports": HT80_PORTS,
        "ht81_port_base": HT81_PORT_BASE,
        "key_values": _key_values(device, model),
        "resync_every_minutes": RESYNC_EVERY_MINUTES[fam],
        "ata_language": ATA_LANGUAGES.get(settings["language"]),
    }


def _scheme(url):
    return url.partition("://")[0].lower()


def _shared_server_problems(lines, model):
    """HT81x FXS ports all register through profile 1: one server, port and transport."""
    first = lines[0] if lines else None
    return [
        ("lines[%d].server" % number, "every FXS port of the %s uses profile 1: the server, port and transport of lines[0]" % model.name)
        for number, line in enumerate(lines[1:], start=1)
        if (line["server"], line["port"], line["transport"]) != (first["server"], first["port"], first["transport"])
    ]


def lint(device, settings, model, tz):
    """Values the firmware refuses: a P246 rule over 64 characters, P193 out of range, over-long key labels,
    HT81x ports on different servers, HT ATAs fetching firmware and config over different protocols (one P212 for both)."""
    fam = family(model)
    problems = []
    if len(tz["posix"]) > TZ_RULE_MAX:
        problems.append(
            (
                "timezone",
                "%s: its rule %r is longer than the %d characters Grandstream's P246 holds" % (tz["name"], tz["posix"], TZ_RULE_MAX),
            )
        )
    low, high = RESYNC_RANGE[fam]
    interval = settings.get("resync_interval") or 0
    if interval and not low <= interval <= high:
        problems.append(
            ("resync_interval", "%d minutes; the %s checks every %d-%d minutes (0 disables it)" % (interval, model.name, low, high))
        )
    for number, key in enumerate(device["keys"]):
        if len(key["label"]) > KEY_LABEL_MAX:
            problems.append(
                ("keys[%d].label" % number, "%d characters; Grandstream key labels hold %d" % (len(key["label"]), KEY_LABEL_MAX))
            )
    if fam == "ht81":
        problems += _shared_server_problems(device["lines"], model)
    firmware = (settings.get("firmware") or {}).get(model.name)
    if firmware and fam in ("ht80", "ht81") and _scheme(firmware["url"]) != _scheme(settings["server_url"]):
        problems.append(
            (
                "firmware",
                "%s: the %s fetches firmware and config with one protocol (P212); the image URL %s is not %s"
                % (model.name, model.name, firmware["url"], _scheme(settings["server_url"])),
            )
        )
    return problems
