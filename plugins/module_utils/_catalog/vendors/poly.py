# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Poly: the catalog entry (vendor, models). Sources: docs/catalog-sources.md."""

from __future__ import annotations


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
