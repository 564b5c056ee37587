# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""pbxops.autoprov.resync: argument spec and body (the module file holds the documentation)."""

from __future__ import annotations

import socket

from ansible_collections.pbxops.autoprov.plugins.module_utils import _responder_state as status
from ansible_collections.pbxops.autoprov.plugins.module_utils._sip import message as _sip
from ansible_collections.pbxops.autoprov.plugins.module_utils._sip import resync as _resync

ARGUMENT_SPEC = dict(
    devices=dict(type="list", elements="raw", required=True),
    responder_config=dict(type="path", default=status.RESPONDER_CONFIG),
    config_root=dict(type="path"),
    db=dict(type="path"),
    addresses=dict(type="dict", default={}),
    port=dict(type="int", default=_sip.SIP_PORT),
    timeout=dict(type="float", default=8.0),
    source_address=dict(type="str"),
    event=dict(type="str"),
    pbx_name=dict(type="str"),
)


class _Refused(Exception):
    """The run cannot go on; the text is for the user (the PBX name is put in front)."""


def run(module):
    """Plan a NOTIFY per device, send them (not in check mode), report per device."""
    p = module.params
    pbx = p["pbx_name"] or socket.gethostname()
    try:
        macs = _checked_input(p)
        if not macs:
            module.exit_json(changed=False, devices=[], summary={})
        manifest, manifest_path, seen, warnings = _state(p, macs, module.check_mode)
        entries, plan_warnings = _resync.plan(
            macs, manifest, manifest_path, seen, p["addresses"], p["port"], p["event"], check_mode=module.check_mode
        )
    except (_Refused, _resync.ResyncError) as exc:
        module.fail_json(msg="%s: %s" % (pbx, exc))
    if module.check_mode:
        _resync.skip(entries)
    else:
        _resync.send(entries, p["timeout"], p["source_address"])
    devices = [_public(entry) for entry in entries]
    summary = {}
    for device in devices:
        summary[device["outcome"]] = summary.get(device["outcome"], 0) + 1
    # A NOTIFY sent (in check mode: one that would be) is the change this module makes.
    changed = any(d["outcome"] == _resync.SKIPPED or d["transmissions"] for d in devices)
    for warning in warnings + plan_warnings:
        module.warn(warning)
    module.exit_json(changed=changed, devices=devices, summary=summary)


def _checked_input(p):
    """The MACs asked for; every problem of the input at once (source_address normalised in place)."""
    macs, errors = _resync.device_macs(p["devices"])
    if not 0 < p["port"] < 65536:
        errors.append("port: %d is not a UDP port (1-65535)" % p["port"])
    if p["timeout"] <= 0:
        errors.append("timeout: %s; give the seconds to wait, more than 0" % p["timeout"])
    if p["source_address"]:
        try:
            p["source_address"] = _sip.plain_address(p["source_address"])
        except ValueError:
            errors.append("source_address: %r is not an IP address of this host" % p["source_address"])
    if errors:
        raise _Refused("; ".join(errors))
    return macs


def _state(p, macs, check_mode):
    """(manifest, its path, {mac: last address seen}, warnings) from the responder's files."""
    try:
        db, root = status.locate(p["responder_config"], p["db"], p["config_root"])
    except status.StatusError as exc:
        raise _Refused(str(exc)) from None
    manifest_path = "%s/%s" % (root.rstrip("/"), status.MANIFEST)
    try:
        manifest = status.read_manifest(root)
    except status.StatusError as exc:
        raise _Refused("config_root: %s" % exc) from None
    if manifest is None and not check_mode:
        raise _Refused("config_root: no manifest at %s; device_configs writes it: run it for this PBX first" % manifest_path)
    try:
        store = status.Store(db)
    except FileNotFoundError:
        return (
            manifest,
            manifest_path,
            {},
            ["no status database at %s yet (the responder has not run): only devices in addresses have an address" % db],
        )
    except status.StatusError as exc:
        raise _Refused("db: %s" % exc) from None
    try:
        return manifest, manifest_path, store.last_addresses(macs), []
    except status.StatusError as exc:
        raise _Refused("db: %s" % exc) from None
    finally:
        store.close()


def _public(entry):
    return {
        "mac": entry["mac"],
        "vendor": entry["vendor"],
        "address": _sip.hostport(entry["host"], entry["port"]) if entry["host"] else None,
        "address_from": entry["address_from"],
        "last_seen": entry["last_seen"],
        "event": entry["event"],
        "request_uri": entry["request_uri"],
        "outcome": entry["outcome"],
        "sip_status": entry["sip_status"],
        "sip_reason": entry["sip_reason"],
        "transmissions": entry["transmissions"],
        "elapsed_ms": entry["elapsed_ms"],
        "error": entry["error"],
    }
