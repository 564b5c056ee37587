# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The supported-device catalog: look-ups over the vendor files (vendors/<vendor>.py, listed by index.py)."""

from __future__ import annotations

import re
from collections import namedtuple

from ansible_collections.pbxops.autoprov.plugins.module_utils._catalog import index as data
from ansible_collections.pbxops.autoprov.plugins.module_utils._catalog.vendors import common

METHODS = ("pnp", "dhcp", "rps")

# Every programmable-key type a template can be asked for; each vendor lists the ones it supports.
KEY_TYPES = tuple(common.KEY_TYPES)

# What each PBX-level autoprov_method makes available (the reference PBX's rule).
METHODS_AVAILABLE = {
    "pnp": ("pnp", "dhcp"),
    "dhcp": ("pnp", "dhcp"),
    "rps": ("pnp", "dhcp", "rps"),
}

Vendor = namedtuple(
    "Vendor",
    "key name oui_org user_agent pnp_names pnp_url resync_event methods rps secret_keys files languages key_types lint context",
)
Model = namedtuple("Model", "vendor name kind lines keys code methods aliases note")

# Words that may precede a model name as printed or as a device reports it.
_PREFIXES = ("SIP", "CP")
_SUFFIXES = ("3PCC", "MPP")


def _compile_vendor(key, raw):
    return Vendor(
        key=key,
        name=raw["name"],
        oui_org=re.compile(raw["oui_org"], re.I),
        user_agent=re.compile(raw["user_agent"], re.I) if raw.get("user_agent") else None,
        pnp_names=tuple(raw.get("pnp_names", ())),
        pnp_url=raw.get("pnp_url", "{url}"),
        resync_event=raw.get("resync_event", "check-sync;reboot=false"),
        methods=tuple(raw["methods"]),
        rps=raw.get("rps"),
        secret_keys=tuple(re.compile(p) for p in raw.get("secret_keys", ())),
        files=tuple(dict({"scope": "device", "secret": False, "optional": False}, **f) for f in raw["files"]),
        languages=dict(raw.get("languages", {})),
        key_types=tuple(raw.get("key_types", KEY_TYPES)),
        lint=data.HOOKS.get(key, {}).get("lint"),
        context=data.HOOKS.get(key, {}).get("context"),
    )


VENDORS = {key: _compile_vendor(key, raw) for key, raw in data.VENDORS.items()}

MODELS = tuple(
    Model(
        vendor=vendor,
        name=name,
        kind=kind,
        lines=lines,
        keys=keys,
        code=extra.get("code"),
        methods=tuple(extra.get("methods", VENDORS[vendor].methods)),
        aliases=tuple(extra.get("aliases", ())),
        note=extra.get("note"),
    )
    for vendor, rows in data.MODELS.items()
    for name, kind, lines, keys, extra in rows
)


def _squash(text):
    return re.sub(r"[^A-Z0-9]", "", str(text).upper())


def _name_forms(text, vendor_names):
    """The spellings of a model name to look up, most literal first."""
    squashed = _squash(text)
    forms = [squashed]
    for word in vendor_names + _PREFIXES:
        for form in list(forms):
            if form.startswith(word) and len(form) > len(word):
                forms.append(form[len(word) :])
    for form in list(forms):
        for suffix in _SUFFIXES:
            if form.endswith(suffix) and len(form) > len(suffix):
                forms.append(form[: -len(suffix)])
    return forms


_VENDOR_WORDS = tuple(sorted({_squash(v.name) for v in VENDORS.values()} | {_squash(k) for k in VENDORS}, key=len, reverse=True))

_MODEL_INDEX = {}
for _model in MODELS:
    for _spelling in (_model.name,) + _model.aliases:
        _MODEL_INDEX.setdefault(_squash(_spelling), []).append(_model)


def find_models(name, vendor=None):
    """Catalog models matching a model name as printed (case, 'SIP-' and vendor prefixes ignored)."""
    for form in _name_forms(name, _VENDOR_WORDS):
        found = [m for m in _MODEL_INDEX.get(form, ()) if vendor is None or m.vendor == vendor]
        if found:
            return found
    return []


def models_of(vendor):
    return [m for m in MODELS if m.vendor == vendor]


def vendor_by_name(name):
    """The vendor key for a vendor as a user or a device spells it, or None."""
    squashed = _squash(name)
    for key, vendor in VENDORS.items():
        if squashed in (_squash(key), _squash(vendor.name)) or squashed.lower() in vendor.pnp_names:
            return key
    return None


def vendor_by_organisation(organisation):
    """The vendor key whose OUI organisation pattern matches, or None."""
    if not organisation:
        return None
    for key, vendor in VENDORS.items():
        if vendor.oui_org.search(organisation):
            return key
    return None


def file_name(pattern, model, mac=None):
    """A file name from a catalog pattern: {mac}/{MAC} bare lower/upper, {code}, {model}."""
    return pattern.format(
        mac=mac or "",
        MAC=(mac or "").upper(),
        code=model.code or "",
        model=model.name,
        model_lower=model.name.lower(),
    )


def responder_table():
    """What the responder needs to know about each vendor, for the manifest (JSON-able)."""
    return {
        key: {
            "name": v.name,
            "user_agent": v.user_agent.pattern if v.user_agent else None,
            "pnp_names": list(v.pnp_names),
            "pnp_url": v.pnp_url,
        }
        for key, v in VENDORS.items()
    }
