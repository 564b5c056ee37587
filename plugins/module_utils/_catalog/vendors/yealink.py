# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Yealink: the catalog entry (vendor, models, PnP announcement) and the checks of what its firmware takes.

Where each fact comes from: templates/yealink/reference.yml (docs/catalog-sources.md).
"""

from __future__ import annotations

import re

from ansible_collections.pbxops.autoprov.plugins.module_utils._catalog.vendors.common import (
    KEY_TYPES,
    MAC,
    dst_hours_problem,
    dst_rule,
    offset_text,
)

VENDOR = {
    "name": "Yealink",
    "oui_org": r"yealink",
    "user_agent": r"^Yealink\s+(?:SIP(?:\s*VP)?[-\s]?)?(?P<model>[\w-]+)\s+(?P<firmware>[\d.]+)\s+" + MAC,
    "pnp_names": ["yealink"],
    "pnp_url": "{url}",
    "methods": ["pnp", "dhcp", "rps"],
    "rps": "yealink",
    "resync_event": "check-sync;reboot=false",
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
    # model, kind, lines (SIP accounts), keys (line keys / DSS keys, all pages), extra
    ("T30", "phone", 1, 0, {"code": "127"}),
    ("T30P", "phone", 1, 0, {"code": "127"}),
    ("T31", "phone", 2, 2, {"code": "123"}),
    ("T31P", "phone", 2, 2, {"code": "123"}),
    ("T31G", "phone", 2, 2, {"code": "123"}),
    ("T31W", "phone", 2, 2, {"code": "172"}),
    ("T33P", "phone", 4, 12, {"code": "124", "note": "4 line keys on 3 pages"}),
    ("T33G", "phone", 4, 12, {"code": "124", "note": "4 line keys on 3 pages"}),
    ("T34W", "phone", 4, 12, {"code": "171", "note": "4 line keys on 3 pages"}),
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
    (
        "W80B",
        "dect",
        100,
        0,
        {"code": "103", "aliases": ["W80DM"], "note": "the DECT manager (W80DM or a W80B acting as one); accounts on server templates"},
    ),
    (
        "W90B",
        "dect",
        250,
        0,
        {"code": "130", "aliases": ["W90DM"], "note": "the DECT manager (W90DM or a W90B acting as one); accounts on server templates"},
    ),
]

# The first field of the firmware version: a ROM installs only on its own hardware family.
FIRMWARE_FAMILY = {
    "T30": "124",
    "T30P": "124",
    "T31": "124",
    "T31P": "124",
    "T31G": "124",
    "T31W": "124",
    "T33P": "124",
    "T33G": "124",
    "T34W": "124",
    "T41S": "66",
    "T42S": "66",
    "T46S": "66",
    "T48S": "66",
    "T41U": "108",
    "T42U": "108",
    "T43U": "108",
    "T46U": "108",
    "T48U": "108",
    "T52S": "70",
    "T54S": "70",
    "T53": "96",
    "T53W": "96",
    "T54W": "96",
    "T57W": "96",
    "T58W": "150",
    "W60B": "77",
    "W70B": "146",
    "W80B": "103",
    "W90B": "130",
}

# The multi-cell DECT managers give their accounts a SIP server template (template.T.*), 1-10.
SERVER_TEMPLATE_MODELS = ("W80B", "W90B")
SERVER_TEMPLATES = 10

# Our codec names -> the firmware's account.N.codec.<name> (payload names, lowercase).
CODECS = {
    "PCMU": "pcmu",
    "PCMA": "pcma",
    "G722": "g722",
    "G729": "g729",
    "OPUS": "opus",
    "G726": "g726_32",
    "G726-16": "g726_16",
    "G726-24": "g726_24",
    "G726-32": "g726_32",
    "G726-40": "g726_40",
    "G723": "g723_53",
    "ILBC": "ilbc_13_33kbps",
}

# Every value local_time.time_zone takes (the firmware's time-zone list).
TIME_ZONES = frozenset(
    "-12 -11 -10 -9:30 -9 -8 -7 -6 -5 -4:30 -4 -3:30 -3 -2:30 -2 -1 0 +1 +2 +3 +3:30 +4 +4:30 +5 +5:30 +5:45 "
    "+6 +6:30 +7 +8 +8:45 +9 +9:30 +10 +10:30 +11 +11:30 +12 +12:45 +13 +13:30 +14".split()
)

# Zones whose rule changes at hours a week rule cannot say (Israel: Friday before the last Sunday):
# the firmware's own rule for its zone name instead (local_time.summer_time = 2).
AUTO_DST_NAMES = {
    "Asia/Jerusalem": "Israel(Tel Aviv)",
    "Asia/Tel_Aviv": "Israel(Tel Aviv)",
    "Israel": "Israel(Tel Aviv)",
    "America/Santiago": "Chile(Santiago)",
    "Chile/Continental": "Chile(Santiago)",
    "Asia/Gaza": "Gaza Strip(Gaza)",
    "Asia/Hebron": "Gaza Strip(Gaza)",
}

REPEAT_MINUTES = (1, 43200)
_VERSION = re.compile(r"(?<![\d.])(\d+)\.\d+\.\d+\.\d+(?!\.?\d)")


def _time(tz):
    """{time_zone, summer_time, rule...} as local_time.* wants them."""
    rule = dst_rule(tz)
    if rule is None:
        return {"time_zone": offset_text(tz["offset_minutes"]), "summer_time": 0}
    if tz["name"] in AUTO_DST_NAMES:
        return {"time_zone": offset_text(tz["offset_minutes"]), "summer_time": 2, "time_zone_name": AUTO_DST_NAMES[tz["name"]]}

    def week_rule(change):
        # month/week (5 = last)/day (1 = Monday ... 7 = Sunday)/hour
        return "%d/%d/%d/%d" % (change["month"], change["week"], change["weekday"] or 7, change["minutes"] // 60)

    return {
        "time_zone": offset_text(rule["offset_minutes"]),
        "summer_time": 1,
        "start_time": week_rule(rule["start"]),
        "end_time": week_rule(rule["end"]),
        "offset_time": rule["saving_minutes"],
    }


def _templates(device):
    """Server templates of a W80B/W90B: [{id, server, port, transport}] and {line index: template id}."""
    templates, of_line = [], {}
    for line in device["lines"]:
        wanted = (line["server"], line["port"], line["transport"])
        found = next((t for t in templates if (t["server"], t["port"], t["transport"]) == wanted), None)
        if found is None:
            found = {"id": len(templates) + 1, "server": wanted[0], "port": wanted[1], "transport": wanted[2]}
            templates.append(found)
        of_line[line["index"]] = found["id"]
    return templates, of_line


def context(device, settings, model, tz):
    templates, of_line = _templates(device) if model.name in SERVER_TEMPLATE_MODELS else ([], {})
    wanted = []
    for codec in settings["codecs"]:
        if CODECS[codec.upper()] not in wanted:
            wanted.append(CODECS[codec.upper()])
    others = sorted(set(CODECS.values()) - set(wanted))
    return {
        "time": _time(tz),
        "codecs": [(name, 1, number) for number, name in enumerate(wanted, start=1)] + [(name, 0, None) for name in others],
        "server_templates": templates,
        "line_template": of_line,
    }


def _time_problems(tz):
    offset = offset_text(tz["offset_minutes"])
    rule = dst_rule(tz)
    if rule is not None and tz["name"] not in AUTO_DST_NAMES:
        offset = offset_text(rule["offset_minutes"])
        problem = dst_hours_problem(tz, rule, "Yealink")
        if problem:
            return [("timezone", problem)]
    if offset not in TIME_ZONES:
        return [("timezone", "%s is UTC%s, which Yealink's local_time.time_zone has no value for" % (tz["name"], offset))]
    return []


def _firmware_problems(settings, model):
    image = (settings.get("firmware") or {}).get(model.name)
    version = _VERSION.search(image["file"]) if image else None
    if version and version.group(1) != FIRMWARE_FAMILY[model.name]:
        return [
            (
                "firmware",
                "%s: %s is a firmware %s.x image; the %s runs %s.x firmware (a ROM of another hardware family is refused)"
                % (model.name, image["file"], version.group(1), model.name, FIRMWARE_FAMILY[model.name]),
            )
        ]
    return []


def lint(device, settings, model, tz):
    problems = _time_problems(tz) + _firmware_problems(settings, model)
    interval = settings.get("resync_interval") or 0
    if interval and not REPEAT_MINUTES[0] <= interval <= REPEAT_MINUTES[1]:
        problems.append(("resync_interval", "%d minutes; Yealink repeats auto provisioning every 1-43200 minutes (0: never)" % interval))
    unknown = [c for c in settings.get("codecs") or () if str(c).upper() not in CODECS]
    if unknown:
        problems.append(("codecs", "%s: not a Yealink codec; valid: %s" % (", ".join(map(str, unknown)), ", ".join(sorted(CODECS)))))
    if model.name in SERVER_TEMPLATE_MODELS:
        templates, _of_line = _templates(device)
        if len(templates) > SERVER_TEMPLATES:
            message = "%d different SIP servers; the %s has %d server templates" % (len(templates), model.name, SERVER_TEMPLATES)
            problems.append(("lines", message))
    return problems


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
