# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Cisco MPP (3PCC): the catalog entry, the lint and the values the flat profiles need.

Sources of every fact: templates/cisco/reference.yml.
"""

from __future__ import annotations

from ansible_collections.pbxops.autoprov.plugins.module_utils._catalog.vendors.common import MAC, xml_secret


def _cisco(series, lines, keys, note=None):
    # code: the product series number $PSN of the factory Profile_Rule /$PSN.xml ("6841-3PCC").
    extra = {"code": "%s-3PCC" % series, "aliases": ["CP-%s" % series, "CP-%s-3PCC" % series]}
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
        # $PSN.xml is fetched by a factory phone without credentials: it hands on the PBX's HTTP
        # credentials in its Profile_Rule, or the phone's next fetch ($MA.xml) is refused with 401.
        {"name": "{code}.xml", "template": "cisco/model.xml.j2", "scope": "shared", "holds_credentials": True},
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
    # Extended_Function forms with a source: line (Extension_n_), blf, speeddial; park's prk token.
    "key_types": ["line", "blf", "speeddial", "park"],
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

# Time_Zone values of the firmware (MPP cfg.xml export): offsets in minutes east of UTC; zero is "GMT".
TIME_ZONES = [-720, -660, -600, -540, -480, -420, -360, -300, -240, -210, -180, -120, -60, 0] + [
    60,
    120,
    180,
    210,
    240,
    270,
    300,
    330,
    345,
    360,
    390,
    420,
    480,
    540,
    570,
    600,
    660,
    720,
    780,
    840,
]


def time_zone(offset_minutes):
    """The Time_Zone value of a UTC offset: GMT, GMT+01:00, GMT-03:30 ..."""
    if not offset_minutes:
        return "GMT"
    hours, minutes = divmod(abs(offset_minutes), 60)
    return "GMT%s%02d:%02d" % ("-" if offset_minutes < 0 else "+", hours, minutes)


def dst_change(change):
    """month/day/weekday/HH[:mm] of a Daylight_Saving_Time_Rule: day -1 is the last such weekday, weekday 1 = Monday .. 7 = Sunday."""
    day = -1 if change["week"] == 5 else (change["week"] - 1) * 7 + 1
    hours, minutes = divmod(change["minutes"], 60)
    return "%d/%d/%d/%d%s" % (change["month"], day, change["weekday"] or 7, hours, ":%02d" % minutes if minutes else "")


def _dst_rule(tz):
    hours, minutes = divmod(tz["dst_saving_minutes"], 60)
    save = "%d%s" % (hours, ":%02d" % minutes if minutes else "")
    return "start=%s;end=%s;save=%s" % (dst_change(tz["dst_start"]), dst_change(tz["dst_end"]), save)


def lint(device, settings, model, tz):
    problems = []
    if tz["offset_minutes"] not in TIME_ZONES:
        valid = ", ".join(time_zone(m) for m in TIME_ZONES)
        here = "%s (%s)" % (tz["name"], time_zone(tz["offset_minutes"]))
        problems.append(("timezone", "%s has no Time_Zone value on Cisco MPP phones; valid offsets: %s" % (here, valid)))
    for change in (tz["dst_start"], tz["dst_end"]) if tz["dst_start"] else ():
        if not 0 <= change["minutes"] < 24 * 60:
            message = "%s changes daylight saving time at %d minutes from midnight; a Cisco DST rule takes 0:00-23:59"
            problems.append(("timezone", message % (tz["name"], change["minutes"])))
    for name in ("provisioning_username", "provisioning_password"):
        if any(c in str(settings.get(name) or "") for c in ' \t]"'):
            problems.append((name, "holds a space, tab, ] or \"; Cisco's Profile_Rule [--uid ... --pwd ...] cannot carry it"))
    return problems


def context(device, settings, model, tz):
    return {"time_zone": time_zone(tz["offset_minutes"]), "dst_rule": _dst_rule(tz) if tz["dst_start"] else None}
