# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Check an inventory's device list against the catalog and normalise it.

Every problem is collected (never only the first), each naming the PBX host,
the device (its MAC as written, and its position) and the field, with what
would be valid. Nothing here touches a file or the network.
"""

from __future__ import annotations

import re

from ansible_collections.pbxops.autoprov.plugins.module_utils import _mac, _types
from ansible_collections.pbxops.autoprov.plugins.module_utils._catalog import catalog

DEVICE_FIELDS = ("mac", "model", "vendor", "method", "lines", "keys", "vars", "description", "serial", "pin", "auth")
LINE_FIELDS = ("extension", "secret", "display_name", "label", "auth_user", "server", "port", "transport", "voicemail")
KEY_FIELDS = ("type", "value", "label", "line", "index")
TRANSPORTS = ("udp", "tcp", "tls")

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_EXTENSION = re.compile(r"^[A-Za-z0-9_.+*#-]{1,64}$")


class Problems:
    """Collects errors and warnings about one PBX's devices."""

    def __init__(self, host):
        self.host = host
        self.errors = []
        self.warnings = []

    def where(self, position, mac):
        label = ("device %s" % mac) if mac else "device"
        return "%s: %s (autoprov_devices[%d])" % (self.host, label, position)

    def error(self, position, mac, field, text):
        self.errors.append("%s: %s: %s" % (self.where(position, mac), field, text))

    def warn(self, position, mac, field, text):
        self.warnings.append("%s: %s: %s" % (self.where(position, mac), field, text))


def _text(value):
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return value
    return None


def _check_text(problems, pos, mac, field, value, required=False, secret=False):
    """A printable one-line string (numbers accepted), or None with an error recorded."""
    if value is None or value == "":
        if required:
            problems.error(pos, mac, field, "missing; it is required")
        return None
    text = _text(value)
    if text is None:
        problems.error(pos, mac, field, "must be a string, not %s" % _types.type_name(value))
        return None
    if _CONTROL.search(text):
        # Never echo a secret, even a broken one.
        shown = "the value" if secret else repr(text)
        problems.error(pos, mac, field, "%s contains a control character (newline, tab, ...); not allowed" % shown)
        return None
    return text


def _unknown_fields(problems, pos, mac, prefix, item, allowed):
    for field in sorted(set(item) - set(allowed)):
        problems.error(pos, mac, prefix + field, "unknown field; valid: %s" % ", ".join(allowed))


def _resolve_vendor(problems, pos, mac, item, canonical):
    """Vendor key from the inventory, the OUI, or the model name, in that order."""
    organisation = _mac.oui_organisation(canonical) if canonical else None
    oui_vendor = catalog.vendor_by_organisation(organisation)
    if item.get("vendor") not in (None, ""):
        vendor = catalog.vendor_by_name(str(item["vendor"]))
        if vendor is None:
            problems.error(pos, mac, "vendor", "unknown vendor %r; valid: %s" % (item["vendor"], ", ".join(sorted(catalog.VENDORS))))
            return None
        if oui_vendor and oui_vendor != vendor:
            problems.warn(
                pos,
                mac,
                "vendor",
                "says %s but the MAC's OUI is registered to %s (%s); using %s as written"
                % (catalog.VENDORS[vendor].name, organisation, catalog.VENDORS[oui_vendor].name, catalog.VENDORS[vendor].name),
            )
        return vendor
    if oui_vendor:
        return oui_vendor
    candidates = {m.vendor for m in catalog.find_models(item.get("model") or "")}
    if len(candidates) == 1:
        return candidates.pop()
    problems.error(
        pos,
        mac,
        "vendor",
        "missing, and neither the MAC's OUI (%s) nor the model tells it; valid: %s"
        % (organisation or "not registered", ", ".join(sorted(catalog.VENDORS))),
    )
    return None


def _resolve_model(problems, pos, mac, item, vendor):
    name = item.get("model")
    if name in (None, ""):
        problems.error(pos, mac, "model", "missing; valid for %s: %s" % (catalog.VENDORS[vendor].name, _model_names(vendor)))
        return None
    found = catalog.find_models(str(name), vendor)
    if found:
        return found[0]
    elsewhere = sorted({catalog.VENDORS[m.vendor].name for m in catalog.find_models(str(name))})
    if elsewhere and item.get("vendor") in (None, ""):
        # The vendor came from the OUI: the MAC and the model disagree, and either may be the typo.
        organisation = _mac.oui_organisation(_mac.normalize(item.get("mac")))
        problems.error(
            pos,
            mac,
            "mac/model",
            "conflict: the MAC's OUI is registered to %s (%s), but %s is a %s model; check the MAC, or the model, "
            "or set vendor if the device really is a %s"
            % (catalog.VENDORS[vendor].name, organisation, name, " or ".join(elsewhere), elsewhere[0]),
        )
        return None
    also = " (%s is a %s model)" % (name, " or ".join(elsewhere)) if elsewhere else ""
    problems.error(pos, mac, "model", "unknown %s model %r%s; valid: %s" % (catalog.VENDORS[vendor].name, name, also, _model_names(vendor)))
    return None


def _model_names(vendor):
    return ", ".join(m.name for m in catalog.models_of(vendor))


def _check_method(problems, pos, mac, item, model, pbx_method):
    available = catalog.METHODS_AVAILABLE[pbx_method] if pbx_method else catalog.METHODS
    method = item.get("method")
    label = "%s %s" % (catalog.VENDORS[model.vendor].name, model.name)
    if method not in (None, ""):
        if method not in catalog.METHODS:
            problems.error(pos, mac, "method", "unknown method %r; valid: %s" % (method, ", ".join(catalog.METHODS)))
        elif method not in model.methods:
            problems.error(
                pos, mac, "method", "%s cannot be provisioned by %s; it supports: %s" % (label, method, ", ".join(model.methods))
            )
        elif method not in available:
            problems.error(
                pos,
                mac,
                "method",
                "%s is not available when the PBX's autoprov_method is %s; available: %s" % (method, pbx_method, ", ".join(available)),
            )
        return method
    usable = [m for m in model.methods if m in available]
    if not usable:
        problems.error(
            pos,
            mac,
            "model",
            "%s supports only %s, none of which autoprov_method %s makes available (%s)"
            % (label, ", ".join(model.methods), pbx_method, ", ".join(available)),
        )
    return None


def _check_lines(problems, pos, mac, item, model, defaults):
    raw = item.get("lines")
    if raw is None:
        raw = []
    if not isinstance(raw, list):
        problems.error(pos, mac, "lines", "must be a list of accounts (extension, secret, ...)")
        return []
    if len(raw) > model.lines:
        problems.error(
            pos,
            mac,
            "lines",
            "%d lines, but the %s has %d %s" % (len(raw), model.name, model.lines, "ports" if model.kind in ("ata", "fxs") else "accounts"),
        )
    lines = []
    for number, line in enumerate(raw, start=1):
        where = "lines[%d]." % (number - 1)
        if not isinstance(line, dict):
            problems.error(pos, mac, where[:-1], "must be a mapping with extension and secret")
            continue
        _unknown_fields(problems, pos, mac, where, line, LINE_FIELDS)
        extension = _check_text(problems, pos, mac, where + "extension", line.get("extension"), required=True)
        if extension is not None and not _EXTENSION.match(extension):
            problems.error(pos, mac, where + "extension", "%r is not a SIP user; use letters, digits and _ . + * # -" % extension)
        secret = _check_text(problems, pos, mac, where + "secret", line.get("secret"), secret=True)
        if line.get("secret") in (None, ""):
            problems.error(pos, mac, where + "secret", "missing; every line needs its SIP password (keep it in Vault)")
        transport = (line.get("transport") or defaults["sip_transport"]).lower()
        if transport not in TRANSPORTS:
            problems.error(pos, mac, where + "transport", "%r; valid: %s" % (line.get("transport"), ", ".join(TRANSPORTS)))
        port = line.get("port", defaults["sip_port"])
        if not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536:
            problems.error(pos, mac, where + "port", "%r is not a port number (1-65535)" % (port,))
        display = _check_text(problems, pos, mac, where + "display_name", line.get("display_name"))
        label = _check_text(problems, pos, mac, where + "label", line.get("label"))
        lines.append(
            {
                "index": number,
                "extension": extension,
                "user": extension,
                "secret": secret,
                "auth_user": _check_text(problems, pos, mac, where + "auth_user", line.get("auth_user")) or extension,
                "display_name": display or extension,
                "label": label or display or extension,
                "server": _check_text(problems, pos, mac, where + "server", line.get("server")) or defaults["sip_server"],
                "port": port,
                "transport": transport,
                "voicemail": _check_text(problems, pos, mac, where + "voicemail", line.get("voicemail")) or defaults.get("voicemail"),
            }
        )
    return lines


def _check_keys(problems, pos, mac, item, model, line_count):
    raw = item.get("keys")
    if raw is None:
        raw = []
    if not isinstance(raw, list):
        problems.error(pos, mac, "keys", "must be a list of keys (type, value, label)")
        return []
    if len(raw) > model.keys:
        problems.error(pos, mac, "keys", "%d keys, but the %s has %d programmable keys" % (len(raw), model.name, model.keys))
    keys, used = [], set()
    for number, key in enumerate(raw, start=1):
        where = "keys[%d]." % (number - 1)
        if not isinstance(key, dict):
            problems.error(pos, mac, where[:-1], "must be a mapping with type and value")
            continue
        _unknown_fields(problems, pos, mac, where, key, KEY_FIELDS)
        kind = key.get("type", "blf")
        supported = catalog.VENDORS[model.vendor].key_types
        if kind not in supported:
            problems.error(
                pos, mac, where + "type", "%r; valid for %s: %s" % (kind, catalog.VENDORS[model.vendor].name, ", ".join(supported))
            )
        value = _check_text(problems, pos, mac, where + "value", key.get("value"), required=kind != "line")
        index = key.get("index", number)
        if not isinstance(index, int) or isinstance(index, bool) or not 1 <= index <= max(model.keys, 1):
            problems.error(pos, mac, where + "index", "%r; the %s has keys 1-%d" % (index, model.name, model.keys))
        elif index in used:
            problems.error(pos, mac, where + "index", "key %d is set twice" % index)
        used.add(index)
        line = key.get("line", 1)
        if not isinstance(line, int) or isinstance(line, bool) or not 1 <= line <= max(line_count, 1):
            problems.error(pos, mac, where + "line", "%r; this device has lines 1-%d" % (line, max(line_count, 1)))
        label = _check_text(problems, pos, mac, where + "label", key.get("label"))
        keys.append({"index": index, "type": kind, "value": value or "", "label": label or value or "", "line": line})
    return keys


def check_devices(host, devices, settings, pbx_method=None, fleet=None):
    """Validate one PBX's device list.

    settings: the PBX-wide values lines default to (sip_server, sip_port,
    sip_transport, voicemail) and language. fleet: {other_host: [device, ...]} for the
    duplicate check across PBXes. Returns (devices, problems); devices are
    normalised records the templates see, valid only when problems.errors is empty.
    """
    problems = Problems(host)
    if not isinstance(devices, list):
        problems.errors.append("%s: autoprov_devices: must be a list of devices, not %s" % (host, _types.type_name(devices)))
        return [], problems
    seen, out = {}, []
    for pos, item in enumerate(devices):
        if not isinstance(item, dict):
            problems.errors.append("%s: autoprov_devices[%d]: must be a mapping with mac and model" % (host, pos))
            continue
        device = _check_device(problems, pos, item, seen, settings, pbx_method)
        if device is not None:
            out.append(device)
    check_languages(problems, out, settings.get("language"))
    if fleet:
        problems.errors.extend(fleet_duplicates(dict(fleet, **{host: devices})).get(host, []))
    return out, problems


def _check_device(problems, pos, item, seen, settings, pbx_method):
    """The normalised record of one device, or None; every problem recorded."""
    mac = str(item.get("mac", "")) or None
    _unknown_fields(problems, pos, mac, "", item, DEVICE_FIELDS)
    try:
        canonical = _mac.normalize(item.get("mac"))
    except _mac.MacError as exc:
        problems.error(pos, mac, "mac", str(exc) if item.get("mac") is not None else "missing")
        canonical = None
    if canonical:
        if canonical in seen:
            problems.error(pos, mac, "mac", "duplicate: also autoprov_devices[%d] on this PBX" % seen[canonical])
        seen[canonical] = pos
    vendor = _resolve_vendor(problems, pos, mac, item, canonical)
    model = _resolve_model(problems, pos, mac, item, vendor) if vendor else None
    if model is None:
        return None
    method = _check_method(problems, pos, mac, item, model, pbx_method)
    lines = _check_lines(problems, pos, mac, item, model, settings)
    keys = _check_keys(problems, pos, mac, item, model, len(lines))
    dvars = item.get("vars") or {}
    if not isinstance(dvars, dict):
        problems.error(pos, mac, "vars", "must be a mapping of template variables")
        dvars = {}
    if canonical is None:
        return None
    record = dict(mac=canonical, vendor=vendor, model=model.name, kind=model.kind, method=method, lines=lines, keys=keys, vars=dvars)
    record.update(description=item.get("description") or "", position=pos)
    record.update({k: item.get(k) for k in ("auth", "serial", "pin")})
    return record


def check_languages(problems, devices, language):
    """The language each device gets, against its vendor's list (catalog `languages`: our code -> the
    vendor's value; either is accepted). The PBX's autoprov_language is reported once per vendor,
    a device's own vars.language per device. A vendor without a list is not checked."""
    reported = set()
    for device in devices:
        vendor = catalog.VENDORS[device["vendor"]]
        own = "language" in device["vars"]
        value = device["vars"]["language"] if own else language
        known = vendor.languages
        if value in (None, "") or not known or value in known or value in known.values():
            continue
        valid = "%s (or %s's own names: %s)" % (", ".join(sorted(known)), vendor.name, ", ".join(sorted(set(known.values()))))
        text = "%r is not a language for %s; valid: %s" % (value, vendor.name, valid)
        if own:
            problems.error(device["position"], _mac.fmt(device["mac"], "colon"), "vars.language", text)
        elif vendor.key not in reported:
            reported.add(vendor.key)
            problems.errors.append("%s: language (autoprov_language): %s" % (problems.host, text))


def _macs(devices):
    """{canonical MAC: (position, MAC as written)} of a device list; what is not a device is skipped."""
    found = {}
    for pos, item in enumerate(devices if isinstance(devices, list) else []):
        try:
            mac = _mac.normalize(item.get("mac")) if isinstance(item, dict) else None
        except _mac.MacError:
            continue
        found.setdefault(mac, (pos, item.get("mac")))
    return found


def fleet_duplicates(fleet):
    """{host: [error, ...]} for each MAC that is a device of more than one host; fleet: {host: devices}."""
    owners = {}
    for host, devices in sorted(fleet.items()):
        for mac, (pos, written) in _macs(devices).items():
            owners.setdefault(mac, []).append((host, pos, written))
    errors = {}
    for places in owners.values():
        for host, pos, written in places if len(places) > 1 else ():
            others = ", ".join(h for h, _pos, _written in places if h != host)
            problems = Problems(host)
            problems.error(pos, written, "mac", "duplicate: also a device of PBX %s; a MAC may belong to one PBX only" % others)
            errors.setdefault(host, []).extend(problems.errors)
    return errors


def rps_groups(devices, settings=None):
    """{rps client: [{mac, serial, pin}]} of the devices whose model the vendor's RPS provisions.

    A device with its own method other than rps is left out. Devices that do not
    validate are left out too: device_configs reports them.
    """
    checked, _problems = check_devices("rps", devices, settings or {"sip_server": "-", "sip_port": 5060, "sip_transport": "udp"})
    groups = {}
    for device in checked:
        model = catalog.find_models(device["model"], device["vendor"])[0]
        client = catalog.VENDORS[device["vendor"]].rps
        if client and "rps" in model.methods and device["method"] in (None, "rps"):
            entry = {"mac": _mac.fmt(device["mac"], "colon")}
            entry.update({k: device[k] for k in ("serial", "pin") if device.get(k)})
            groups.setdefault(client, []).append(entry)
    return groups
