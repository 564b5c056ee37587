# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Htek: the catalog entry (vendor, models, PnP announcement), Htek's own P-numbers and lint.

Every fact is traced in templates/htek/reference.yml. Htek's numbering is not Grandstream's
beyond account 1 (account 2 P735/P736/P734/P703; Grandstream's P402 is Htek's OPUS payload type).
"""

from __future__ import annotations

from ansible_collections.pbxops.autoprov.plugins.module_utils._catalog.vendors.common import MAC, xml_secret

# Per-account P-values: active, profile (0 = profile 1), label, SIP user ID, auth ID, password,
# display name, voicemail.
_ACCOUNT_FIELDS = ("active", "profile", "label", "user", "auth", "password", "name", "voicemail")
_ACCOUNTS = [
    (271, 24082, 20000, 35, 36, 34, 3, 33),
    (401, 24083, 20001, 735, 736, 734, 703, 426),
    (501, 24084, 20002, 504, 505, 506, 507, 526),
    (601, 24085, 20003, 604, 605, 606, 607, 626),
    (20360, 24086, 20378, 1704, 1705, 1706, 1707, 1726),
    (20361, 24087, 20379, 1804, 1805, 1806, 1807, 1826),
]
ACCOUNTS = [dict(zip(_ACCOUNT_FIELDS, numbers)) for numbers in _ACCOUNTS]
# Older ("account model") firmware keeps a server and transport per account: accounts 2-4.
# Profile 1 (newer firmware) is account 1's P47/P130; every account uses profile 1.
ACCOUNT_SERVERS = [(47, 130), (747, 830), (502, 930), (602, 1030)]

# P-values that hold passwords: admin/user web passwords, provisioning HTTP password, account 1-6 passwords.
P_SECRETS = ["P2", "P196", "P1361"] + ["P%d" % a["password"] for a in ACCOUNTS]

# Htek's time zone codes (P64) by UTC offset in minutes: one city entry per offset.
TZ_CODES = {
    -660: 105, -600: 2, -540: 3, -480: 6, -420: 10, -360: 14, -300: 18, -270: 19, -240: 20, -210: 26, -180: 30,
    -120: 31, -60: 32, 0: 33, 60: 49, 120: 57, 180: 73, 210: 74, 240: 77, 300: 83, 330: 84, 360: 85, 420: 88,
    480: 89, 540: 93, 570: 94, 600: 96, 630: 100, 660: 101, 720: 102, 765: 103, 780: 104,
}  # fmt: skip
# Line key types (the key_types of VENDOR).
KEY_TYPES = {"line": 1, "speeddial": 2, "blf": 3, "park": 8}
KEY_MODE = 0
# P75 daylight saving: 0 off, 1 manual rule (P20076-P20081), 2 automatic (the city's rule).
DST_OFF, DST_AUTO = 0, 2

VENDOR = {
    "name": "Htek",
    "oui_org": r"hanlong|htek",
    "user_agent": r"^Htek\s+(?P<model>[\w-]+)\s+(?P<firmware>[\d.]+)\s+" + MAC,
    "pnp_names": ["htek"],
    "pnp_url": "{url}",
    "methods": ["pnp", "dhcp", "rps"],
    "rps": "htek",
    "resync_event": "resync",
    "secret_keys": [xml_secret(*P_SECRETS)],
    "files": [
        {"name": "cfg{mac}.xml", "template": "htek/device.xml.j2", "scope": "device", "secret": True},
    ],
    # The LCD language (P8621) takes numeric codes no source lists: not written.
    "languages": {},
    "key_types": ["line", "blf", "speeddial", "park"],  # KEY_TYPES below
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


def key_numbers(n):
    """(type, mode, value, label, account, extension) P-numbers of line key n (1-4 at P41200+, 5-36 at P20200+)."""
    mode = 20600 + n - 1
    if n < 5:
        base = 41200 + n - 1
        return base, mode, base + 100, base + 200, base + 300, base + 400
    base = 20200 + 5 * (n - 5)
    return base, mode, base + 1, base + 2, base + 3, base + 4


def _key_values(device):
    values = []
    for key in device["keys"]:
        numbers = key_numbers(key["index"])
        values += list(zip(numbers, (KEY_TYPES[key["type"]], KEY_MODE, key["value"], key["label"], key["line"] - 1, key["value"])))
    return values


def context(device, settings, model, tz):
    """derived.*: the time-zone code and DST mode, account and per-account server P-numbers, keys [(P, value)]."""
    return {
        "key_values": _key_values(device),
        "tz_code": TZ_CODES[tz["offset_minutes"]],
        "dst": DST_AUTO if tz["dst"] else DST_OFF,
        "accounts": ACCOUNTS,
        "account_servers": ACCOUNT_SERVERS,
    }


def lint(device, settings, model, tz):
    """A time zone whose offset has no Htek code; lines on different servers (every account uses profile 1)."""
    problems = []
    if tz["offset_minutes"] not in TZ_CODES:
        offsets = ", ".join("%+d:%02d" % (m // 60 if m >= 0 else -(-m // 60), abs(m) % 60) for m in sorted(TZ_CODES))
        problems.append(
            ("timezone", "%s (UTC%s) has no Htek time zone code; Htek knows the offsets %s" % (tz["name"], tz["offset"], offsets))
        )
    lines = device["lines"]
    for number, line in enumerate(lines[1:], start=1):
        if (line["server"], line["port"], line["transport"]) != (lines[0]["server"], lines[0]["port"], lines[0]["transport"]):
            problems.append(
                (
                    "lines[%d].server" % number,
                    "every Htek account registers through profile 1: use the server, port and transport of lines[0]",
                )
            )
    return problems
