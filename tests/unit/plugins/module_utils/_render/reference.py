"""The per-vendor references (templates/<vendor>/reference.yml) and the fixture their values are stated for.

A reference row says: for the fixture below (with the row's `given` changes), the
vendor's file `file` carries `value` under `key`. test_reference.py renders the
fixture through the real templates for every model the row names, reads the file
the way the vendor's firmware does (format flat, xml or attrs) and compares. So a
row fails when the key or its encoding is wrong, whatever our template writes.

The fixture (docs/catalog-sources.md repeats it for readers of the tables):
  settings   sip_server 192.0.2.20, sip_port 5060, sip_transport udp,
             server_url http://192.0.2.10:8080/p/Tok3n/ with provisioning user prov and
             password Pr0v-s3cret, ntp_server 192.0.2.30, timezone Europe/Berlin,
             language de, admin_password Adm1n-s3cret, resync_interval 720 (minutes),
             vlan 42, codecs G722 PCMA PCMU, voicemail *97,
             firmware: every model {url: http://192.0.2.40/fw/<MODEL>.bin, version 1.2.3}
  device     MAC 00:00:5e:00:53:01 (file names: 00005e005301), the row's vendor and model
  lines      min(2, the model's lines); line n: extension 10n, auth_user a10n, secret Line<n>-s3cret,
             display_name "User <n>", label L<n>
  keys       one BLF key when the model has keys: value 201, label Anna, line 1
`given` changes it: {"settings.<name>": v, "lines": count, "lines.<n>.<field>": v,
"keys": [...], "vars": {...}}. `value` may use {model}, {mac}, {MAC} and {code}.
"""

from __future__ import annotations

import copy
import fnmatch
import re
from pathlib import Path

import yaml
from defusedxml import ElementTree

from ansible_collections.pbxops.autoprov.plugins.module_utils import _devices
from ansible_collections.pbxops.autoprov.plugins.module_utils._catalog import catalog
from ansible_collections.pbxops.autoprov.plugins.module_utils._render import render as _render

TEMPLATES = Path(__file__).resolve().parents[5] / "templates"
FORMATS = ("flat", "xml", "attrs")
FEATURES = ("lines", "credentials", "provisioning", "time", "keys", "security", "network", "firmware", "language", "codecs", "other")
ROW_FIELDS = ("setting", "feature", "file", "key", "value", "absent", "given", "models", "encoding", "sources", "note", "covers")
MAC = "00:00:5e:00:53:01"
BARE_MAC = "00005e005301"


def references():
    """{vendor: reference} for every templates/<vendor>/reference.yml."""
    found = {}
    for path in sorted(TEMPLATES.glob("*/reference.yml")):
        found[path.parent.name] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return found


def fixture_settings():
    return dict(
        sip_server="192.0.2.20",
        sip_port=5060,
        sip_transport="udp",
        server_url="http://192.0.2.10:8080/p/Tok3n/",
        provisioning_username="prov",
        provisioning_password="Pr0v-s3cret",
        ntp_server="192.0.2.30",
        timezone="Europe/Berlin",
        language="de",
        admin_password="Adm1n-s3cret",
        resync_interval=720,
        firmware_url=None,
        firmware={m.name: fixture_firmware(m.name) for m in catalog.MODELS},
        vlan=42,
        codecs=["G722", "PCMA", "PCMU"],
        voicemail="*97",
        vars={},
    )


def fixture_firmware(model_name):
    return {"url": "http://192.0.2.40/fw/%s.bin" % model_name, "version": "1.2.3", "file": "%s.bin" % model_name}


def fixture_line(n):
    secret = "Line%d-s3cret" % n
    return {"extension": "10%d" % n, "auth_user": "a10%d" % n, "secret": secret, "display_name": "User %d" % n, "label": "L%d" % n}


def fixture_device(vendor, model, given):
    """(device item as an inventory writes it, settings) for a model with a row's `given` applied."""
    settings = fixture_settings()
    count = min(2, model.lines)
    keys = [{"type": "blf", "value": "201", "label": "Anna", "line": 1}] if model.keys else []
    changes = dict(given or {})
    count = changes.pop("lines", count)
    lines = [fixture_line(n) for n in range(1, count + 1)]
    device = {"mac": MAC, "vendor": vendor, "model": model.name, "lines": lines, "keys": changes.pop("keys", keys)}
    if "vars" in changes:
        device["vars"] = changes.pop("vars")
    for path, value in changes.items():
        head, _sep, rest = path.partition(".")
        if head == "settings":
            settings[rest] = value
        elif head == "lines":
            number, _sep, field = rest.partition(".")
            assert int(number) <= len(lines), "given %s: the model has %d line(s)" % (path, len(lines))
            lines[int(number) - 1][field] = value
        else:
            raise AssertionError("given: %r is not settings.<name>, lines, lines.<n>.<field>, keys or vars" % path)
    return device, settings


_CACHE = {}


def render(vendor, model, given, device_key=None):
    """{file name: content} of the fixture device of a model (cached per model, given and device key)."""
    key = (vendor, model.name, repr(sorted((given or {}).items())), device_key)
    if key not in _CACHE:
        item, settings = fixture_device(vendor, model, copy.deepcopy(given))
        checked, problems = _devices.check_devices("pbx1", [item], settings)
        assert problems.errors == [], problems.errors
        files, _secrets, errors = _render.Renderer([str(TEMPLATES)]).render("pbx1", checked, settings, device_key)
        assert errors == [], errors
        _CACHE[key] = {name: f.content for name, f in files.items()}
    return _CACHE[key]


def models_of(vendor, patterns):
    """Catalog models of a vendor matching a row's `models` globs (all when absent)."""
    patterns = patterns or ["*"]
    return [m for m in catalog.models_of(vendor) if any(fnmatch.fnmatchcase(m.name.upper(), p.upper()) for p in patterns)]


def file_name(pattern, model):
    return catalog.file_name(pattern, model, BARE_MAC)


def expected(text, model):
    return str(text).format(model=model.name, mac=BARE_MAC, MAC=BARE_MAC.upper(), code=model.code or "")


# --- reading a file the way the firmware does ----------------------------------

_FLAT = re.compile(r"^\s*(?P<k>[^#=\s][^=]*?)\s*=\s*(?P<v>.*?)\s*$")


def flat_values(content):
    """{key: value} of a `key = value` file (Yealink); comment lines start with #."""
    values = {}
    for text in content.splitlines():
        match = _FLAT.match(text)
        if match and not text.lstrip().startswith("#"):
            values[match.group("k")] = match.group("v")
    return values


def xml_root(content):
    return ElementTree.fromstring(content.encode("utf-8"))


def read(fmt, content, key):
    """The value under key, or None when the file does not carry it."""
    if fmt == "flat":
        return flat_values(content).get(key)
    root = xml_root(content)
    if fmt == "xml":
        path, _sep, attribute = key.partition("/@") if "/@" in key else (key, "", "")
        element = root if path in (".", "") else root.find(path)
        if element is None:
            return None
        return element.get(attribute) if attribute else (element.text or "").strip()
    values = {element.get(key) for element in root.iter() if key in element.attrib}
    assert len(values) <= 1, "%s is set to different values in one file: %s" % (key, sorted(values))
    return values.pop() if values else None


_PREDICATE = re.compile(r"\[[^\]]*\]")


def emitted_keys(fmt, content):
    """Every setting a file carries, as coverage names: flat keys, XML leaf paths (no predicates), attribute names."""
    if fmt == "flat":
        return set(flat_values(content))
    root = xml_root(content)
    if fmt == "attrs":
        return {name for element in root.iter() for name in element.attrib}
    names = set()

    def walk(element, path):
        children = list(element)
        if not children:
            names.add("/".join(path) or ".")
        for child in children:
            walk(child, path + [child.tag])
        for attribute in element.attrib:
            names.add("/".join(path + ["@" + attribute]))

    walk(root, [])
    return names


def covers(row):
    """Regexes of the coverage names a row accounts for: its key (predicates dropped) and its `covers`."""
    found = [re.escape(_PREDICATE.sub("", row["key"]))] if row.get("key") else []
    return [re.compile("^(?:%s)$" % p) for p in found + list(row.get("covers") or [])]


def status(reference, row):
    """verified (two independent origins), unverified (one), or our model (none)."""
    origins = {reference["sources"][s]["origin"] for s in row.get("sources") or ()}
    return "verified" if len(origins) >= 2 else "unverified" if origins else "our model"
