# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Yeastar TA FXS gateways: the catalog entry, the lint and the values cfg<mac>.xml needs.

Sources of every fact: templates/yeastar/reference.yml.
"""

from __future__ import annotations

from ansible_collections.pbxops.autoprov.plugins.module_utils._catalog.vendors.common import xml_secret

VENDOR = {
    "name": "Yeastar",
    "oui_org": r"yeastar",
    # No source shows the TA's HTTP User-Agent: no mac group, so the responder's User-Agent gate
    # (which compares a MAC only where the pattern captures one) cannot refuse a real TA.
    "user_agent": r"^Yeastar[-\s]+(?P<model>TA\d+)\S*\s+(?P<firmware>[\w.]+)",
    "pnp_names": ["yeastar"],
    "pnp_url": "{url}",
    "methods": ["pnp", "dhcp"],
    "rps": None,
    "secret_keys": [xml_secret(r"\w*[Pp]ass(?:word|wd)?\w*")],
    "files": [
        {"name": "cfg{mac}.xml", "template": "yeastar/device.xml.j2", "scope": "device", "secret": True},
    ],
    # The TA's file has no language element: the value is never written.
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
}

MODELS = [
    ("TA100", "fxs", 1, 0, {}),
    ("TA200", "fxs", 2, 0, {}),
    ("TA400", "fxs", 4, 0, {}),
    ("TA800", "fxs", 8, 0, {}),
    ("TA1600", "fxs", 16, 0, {}),
    ("TA2400", "fxs", 24, 0, {}),
    ("TA3200", "fxs", 32, 0, {}),
]

# Our codec names -> the TA's (voiptrunktemplate codec1..codec5, in priority order).
CODECS = {"PCMU": "ulaw", "PCMA": "alaw", "G729": "g729", "G722": "g722", "G726": "g726", "GSM": "gsm"}
CODEC_SLOTS = 5


def _trunks(device):
    """The distinct (host, port, transport) of the lines, in order of first use, and each line's 1-based template."""
    trunks, of_line = [], []
    for line in device["lines"]:
        trunk = {"host": line["server"], "port": line["port"], "transport": line["transport"]}
        if trunk not in trunks:
            trunks.append(trunk)
        of_line.append(trunks.index(trunk) + 1)
    return trunks, of_line


def trunk_capacity(model):
    """VoIP server templates of a model: half its ports (Yeastar's TA1600-3200 guide), at least one."""
    return max(1, model.lines // 2)


def _codecs(settings):
    return [CODECS[c] for c in (str(c).upper() for c in settings.get("codecs") or []) if c in CODECS][:CODEC_SLOTS]


def lint(device, settings, model, tz):
    problems = []
    trunks, of_line = _trunks(device)
    capacity = trunk_capacity(model)
    if len(trunks) > capacity:
        first_over = of_line.index(capacity + 1)
        problems.append(
            (
                "lines[%d].server" % first_over,
                "the %s has %d VoIP server template(s) and these lines use %d distinct server/port/transport; "
                "give at most %d" % (model.name, capacity, len(trunks), capacity),
            )
        )
    if not _codecs(settings):
        problems.append(("codecs", "%r: the TA knows none of them; valid: %s" % (settings.get("codecs"), ", ".join(CODECS))))
    if not settings.get("resync_interval"):
        problems.append(("resync_interval", "0: the TA has no value for 'never'; give minutes from 1"))
    return problems


def context(device, settings, model, tz):
    trunks, of_line = _trunks(device)
    # selectnode: exactly the nodes this file writes (the administrator only with a password).
    admin = ["administratorsettings"] if settings.get("admin_password") else []
    nodes = ["autopsettings"] + admin + ["dateandtime", "fxsport", "voiptrunktemplate"]
    return {"trunks": trunks, "trunk_of_line": of_line, "codecs": _codecs(settings), "nodes": nodes}
