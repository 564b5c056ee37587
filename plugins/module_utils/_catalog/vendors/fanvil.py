# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fanvil: the catalog entry (vendor, models, PnP announcement), the DSS key layout and the checks of what its firmware takes.

Where each fact comes from: templates/fanvil/reference.yml (docs/catalog-sources.md).
"""

from __future__ import annotations

from ansible_collections.pbxops.autoprov.plugins.module_utils._catalog.vendors.common import (
    MAC,
    dst_hours_problem,
    dst_rule,
    offset_text,
)

VENDOR = {
    "name": "Fanvil",
    "oui_org": r"fanvil",
    # The model may carry " Pro" (Fanvil X6U Pro 0.0.10 0c383e2cd782).
    "user_agent": r"^Fanvil\s+(?P<model>[\w-]+(?:\s+Pro)?)\s+(?P<firmware>[\d.]+)\s+" + MAC,
    "pnp_names": ["fanvil"],
    "pnp_url": "{url}",
    "methods": ["pnp", "dhcp", "rps"],
    "rps": "fanvil",
    # What Wazo's provd sends Fanvil phones (with <NotifyReboot>0, the phone re-provisions).
    "resync_event": "check-sync",
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
}

MODELS = [
    # model, kind, lines (SIP accounts), keys (DSS keys: side keys, then the pages beside the screen), extra
    ("X1S", "phone", 2, 2, {"aliases": ["X1SP", "X1SG"]}),
    ("X3U", "phone", 6, 3, {"aliases": ["X3U Pro", "X3UPro"], "note": "X3U Pro: 4 accounts in FusionPBX's template"}),
    ("X4U", "phone", 12, 33, {}),
    ("X5U", "phone", 16, 34, {}),
    ("X6U", "phone", 20, 65, {}),
    ("X7", "phone", 20, 116, {}),
    ("X210", "phone", 20, 106, {}),
]

# Where key N goes: keys 1..side in the side block (tag, one page), the rest on pages of
# page_keys in <internal index=page> (FusionPBX x1s..x210 templates; Wazo serie_x LINE/FUNCTION_KEYS).
LAYOUT = {
    "X1S": {"side": 0, "side_tag": None, "page_keys": 2},
    "X3U": {"side": 3, "side_tag": "SidekeyConfig1", "page_keys": 0},
    "X4U": {"side": 3, "side_tag": "dssSide", "page_keys": 6},
    "X5U": {"side": 4, "side_tag": "dssSide", "page_keys": 6},
    "X6U": {"side": 5, "side_tag": "dssSide", "page_keys": 12},
    "X7": {"side": 0, "side_tag": None, "page_keys": 29},
    "X210": {"side": 10, "side_tag": "dssSide", "page_keys": 32},
}

# Our codec names -> VoiceCodecMap names.
CODECS = {"PCMU": "PCMU", "PCMA": "PCMA", "G722": "G722", "G729": "G729", "OPUS": "opus", "G726": "G726-32", "G723": "G723", "ILBC": "iLBC"}
TIME_ZONE_QUARTERS = (-48, 56)


def _key_layout(device, model):
    """{side: [(k, key)], side_tag, pages: [(page, [(k, key)])]} of a device's keys."""
    layout = LAYOUT[model.name]
    side, pages = [], {}
    for key in sorted(device["keys"], key=lambda k: k["index"]):
        if key["index"] <= layout["side"]:
            side.append((key["index"], key))
        else:
            page, position = divmod(key["index"] - layout["side"] - 1, layout["page_keys"])
            pages.setdefault(page + 1, []).append((position + 1, key))
    return {"side": side, "side_tag": layout["side_tag"], "pages": sorted(pages.items())}


def _time(tz):
    """<date> values: TimeZone in quarter hours east of UTC, its name, the DST rule (or None)."""
    rule = dst_rule(tz)
    offset = rule["offset_minutes"] if rule else tz["offset_minutes"]
    time = {"zone": offset // 15, "zone_name": "UTC" + offset_text(offset, zero=""), "dst": None}
    if rule:

        def change(at):
            # month, week 1-5 (5 = last), weekday 0 = Sunday ... 6, hour
            return {"month": at["month"], "week": at["week"], "weekday": at["weekday"], "hour": at["minutes"] // 60}

        time["dst"] = {"saving": rule["saving_minutes"], "start": change(rule["start"]), "end": change(rule["end"])}
    return time


def context(device, settings, model, tz):
    return {
        "keys": _key_layout(device, model),
        "time": _time(tz),
        "codecs": ",".join(CODECS[c.upper()] for c in settings["codecs"]),
        "flash_hours": max((settings.get("resync_interval") or 0) + 59, 60) // 60,
    }


def lint(device, settings, model, tz):
    problems = []
    rule = dst_rule(tz)
    offset = rule["offset_minutes"] if rule else tz["offset_minutes"]
    if offset % 15 or not TIME_ZONE_QUARTERS[0] <= offset // 15 <= TIME_ZONE_QUARTERS[1]:
        problems.append(
            ("timezone", "%s is UTC%s; Fanvil's TimeZone takes quarter hours from UTC-12 to UTC+14" % (tz["name"], offset_text(offset)))
        )
    problem = dst_hours_problem(tz, rule, "Fanvil") if rule else None
    if problem:
        problems.append(("timezone", problem))
    unknown = [c for c in settings.get("codecs") or () if str(c).upper() not in CODECS]
    if unknown:
        problems.append(("codecs", "%s: not a Fanvil codec; valid: %s" % (", ".join(map(str, unknown)), ", ".join(sorted(CODECS)))))
    return problems


# How a booting phone announces itself (pnp_probe): see _catalog/index.py for the fields.
PROBE = {
    "uri_user": "MAC={mac}",
    "uri_host": "224.0.1.75",
    "contact_user": False,
    "vendor_param": "vendor",
    "vendor_name": "Fanvil",
    "model": "X4U",
    "firmware": "2.12.2",
    "sip_user_agent": "Fanvil {model} {firmware}",
    "http_user_agent": "Fanvil {model} {firmware} {mac}",
}
