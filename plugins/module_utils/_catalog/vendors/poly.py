# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Poly: the catalog entry (vendor, models) and its hooks. Sources: templates/poly/reference.yml."""

from __future__ import annotations

from urllib.parse import urlsplit

# prov.polling.period: "an integer >= 3600" (FusionPBX), "greater than 3600" (Poly UC Software guide).
MIN_POLLING_MINUTES = 60


def _edge(name, lines):
    return (name, "phone", lines, lines, {"aliases": ["Edge %s" % name]})


VENDOR = {
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
}

MODELS = [
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
]


def _key_layout(device, model):
    """([(position, category, index)] for every key of the model, [registrations without a key]).

    A registration keeps the keys the inventory gives it as `line` keys; one without any
    takes the lowest key nobody else uses, so that a BLF key never takes a registration's
    only key. BLF and park keys take the attendant list in key order (index 0: the next entry).
    """
    taken = {key["index"]: key for key in device["keys"]}
    owners = {key["line"] for key in device["keys"] if key["type"] == "line"}
    free = [position for position in range(1, model.keys + 1) if position not in taken]
    lines, homeless = {}, []
    for line in device["lines"]:
        if line["index"] in owners:
            continue
        if free:
            lines[free.pop(0)] = line["index"]
        else:
            homeless.append(line["index"])
    layout = []
    for position in range(1, model.keys + 1):
        key = taken.get(position)
        if position in lines:
            layout.append((position, "line", lines[position]))
        elif key is None:
            layout.append((position, "unassigned", None))
        elif key["type"] == "line":
            layout.append((position, "line", key["line"]))
        else:
            layout.append((position, "BLF", 0))
    return layout, homeless


def lint(device, settings, model, tz):
    """Values a Poly would not take: polling more often than hourly, registrations left without a line key."""
    problems = []
    minutes = settings["resync_interval"]
    if 0 < minutes < MIN_POLLING_MINUTES:
        problems.append(
            (
                "resync_interval",
                "%d minutes: Poly phones poll at most hourly (prov.polling.period >= 3600 s); valid: 0 (no polling) or %d and more"
                % (minutes, MIN_POLLING_MINUTES),
            )
        )
    if device["keys"]:
        _layout, homeless = _key_layout(device, model)
        if homeless:
            others = sum(1 for key in device["keys"] if key["type"] != "line")
            problems.append(
                (
                    "keys",
                    "line %s would have no line key: the %s has %d keys, %d lines need one each and %d are BLF/park keys; "
                    "valid: at most %d BLF/park keys beside %d lines"
                    % (
                        ", ".join(str(n) for n in homeless),
                        model.name,
                        model.keys,
                        len(device["lines"]),
                        others,
                        max(model.keys - len(device["lines"]), 0),
                        len(device["lines"]),
                    ),
                )
            )
    return problems


def context(device, settings, model, tz):
    """The key layout (lineKey.X.*, reg.N.lineKeys) and the provisioning protocol (device.prov.serverType)."""
    layout, _homeless = _key_layout(device, model) if device["keys"] else ([], [])
    line_keys = {line["index"]: 0 for line in device["lines"]}
    for _position, category, index in layout:
        if category == "line":
            line_keys[index] += 1
    return {
        "key_layout": layout,
        # Without a layout the phone gives each registration reg.N.lineKeys keys (default 1) first.
        "line_keys": {n: count or 1 for n, count in line_keys.items()},
        "attendants": sorted((key for key in device["keys"] if key["type"] != "line"), key=lambda key: key["index"]),
        "server_type": urlsplit(settings["server_url"]).scheme.upper(),
    }
