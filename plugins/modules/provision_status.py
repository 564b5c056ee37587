#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: provision_status
short_description: What each device of a PBX fetched and when, and the devices seen that the inventory does not know
version_added: 0.1.0
description:
  - Runs on the PBX host. Reads the PnP responder's status database (SQLite, opened read-only) and the
    config root's manifest (C(.autoprov-manifest.json)).
  - For every device of O(devices) reports the last fetch (time, source address, protocol), each file it
    fetched and whether that is the current file (its SHA-256 against the manifest), the files it never
    fetched, its firmware (from its User-Agent, else from its PnP SUBSCRIBE), the last refused request
    and the last PnP exchange, and a C(state).
  - Also lists the devices the responder saw (PnP or file requests) that O(devices) does not have, with
    vendor, model and firmware as they announced themselves.
  - Returns a plain-text table (RV(table)) for people, as C(playbooks/status.yml) prints it.
  - Python standard library only on the PBX.
author: pbxops maintainers (@pbxops)
extends_documentation_fragment:
  - pbxops.autoprov.responder_state
  - ansible.builtin.action_common_attributes
  - pbxops.autoprov.attributes
  - pbxops.autoprov.attributes.READ_ONLY
options:
  devices:
    description:
      - The devices of this PBX - their MACs (any common notation), or items with V(mac), optional V(vendor),
        V(model). Give MACs rather than C(autoprov_devices) itself, whose lines hold SIP passwords (module
        arguments show in verbose output).
      - Default are the devices of the manifest.
    type: list
    elements: raw
  pbx_name:
    description: Name of the PBX in the table's first line (C(playbooks/status.yml) passes the inventory hostname).
    default: this PBX
    type: str
notes:
  - The responder writes its records within about a second of each event.
  - Reading the database needs read access to the responder's state directory (root or the service user).
seealso:
  - module: pbxops.autoprov.pnp_probe
  - module: pbxops.autoprov.device_configs
"""

EXAMPLES = r"""
- name: What the phones of this PBX fetched
  pbxops.autoprov.provision_status:
    devices: "{{ autoprov_devices | map(attribute='mac') | list }}"
  register: status

- name: Print it
  ansible.builtin.debug:
    msg: "{{ status.table }}"

- name: Fail when a device has not fetched its current configuration
  ansible.builtin.assert:
    that: status.devices | rejectattr('current') | list | length == 0
    fail_msg: "{{ status.devices | rejectattr('current') | map(attribute='mac') | join(', ') }} not current"
"""

RETURN = r"""
devices:
  description: One entry per device of O(devices), in that order.
  returned: always
  type: list
  elements: dict
  contains:
    mac:
      description: The MAC, 12 lowercase hex digits.
      type: str
    vendor:
      description: Vendor key (inventory, else manifest).
      type: str
    vendor_name:
      description: The vendor as printed (from the manifest).
      type: str
    model:
      description: Model (inventory, else manifest).
      type: str
    state:
      description:
        - V(current) (every file fetched, each the current one), V(outdated) (a fetched file has changed
          since), V(partial) (some files never fetched), V(refused) (only refused requests since the last
          fetch, see RV(devices[].last_refused)), V(pnp only) (sent PnP, fetched nothing), V(never seen).
      type: str
    current:
      description: Whether the state is V(current).
      type: bool
    last_fetch:
      description: Time of the last successful fetch (UTC, ISO 8601), or null.
      type: str
    source:
      description: Address the device fetched from (or, without fetches, sent PnP from).
      type: str
    firmware:
      description: Firmware version the device reported.
      type: str
    firmware_from:
      description: Where the firmware came from, V(user-agent) or V(pnp).
      type: str
    files:
      description: Per file (C(file), C(fetched) time, C(source), C(current) true/false, or null when not fetched).
      type: list
      elements: dict
    missing:
      description: Files of the device (manifest) it never fetched.
      type: list
      elements: str
    outdated:
      description: Fetched files that changed since.
      type: list
      elements: str
    last_refused:
      description: The newest refused request after the last fetch (C(time), C(path), C(status), C(reason)), or null.
      type: dict
    last_pnp:
      description: The newest PnP SUBSCRIBE (C(time), C(source), C(answered), C(reason), C(notify)), or null.
      type: dict
    credential:
      description:
        - The kind of credentials the device's newest authenticated fetch proved, or null (none needed).
        - V(shared) (the PBX-wide pair), V(device) (its own pair), V(previous) (the PBX-wide pair a rotation
          replaced, accepted until the grace window ends; see C(docs/inventory.md), "Rotating the config host's password").
      type: str
    dhcp_fetch:
      description:
        - UTC, ISO 8601, of the device's newest served fetch through the URL DHCP option 66 hands out (the
          provisioning URL with C(dhcp/) after the token, P(pbxops.autoprov.provisioning_url#filter)), or null - the
          device did not arrive by DHCP as far as the status database remembers (PnP, RPS, or a URL set by hand).
        - With a DHCP server we do not manage (C(autoprov_dhcp.backend=none)), this is how to see that the value
          was set there.
      type: str
discovered:
  description: Devices seen by the responder that O(devices) does not have, newest first.
  returned: always
  type: list
  elements: dict
  contains:
    mac:
      description: The MAC.
      type: str
    vendor:
      description: Vendor as the device announced it.
      type: str
    vendor_key:
      description: The catalog's vendor key (for example V(yealink)), or null when the catalog has no such vendor.
      type: str
    model:
      description: Model as the device announced it.
      type: str
    firmware:
      description: Firmware as the device announced it.
      type: str
    last_seen:
      description: UTC, ISO 8601.
      type: str
    source:
      description: Address it was last seen from.
      type: str
summary:
  description:
    - Number of devices per state and C(discovered); during a rotation also C(previous password), the devices
      whose newest fetch used the replaced pair; C(by DHCP), the devices with a RV(devices[].dhcp_fetch).
  returned: always
  type: dict
  sample: {current: 2, "never seen": 1, discovered: 1}
table:
  description: The same as a plain-text table.
  returned: always
  type: str
db:
  description: The status database read.
  returned: always
  type: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.pbxops.autoprov.plugins.module_utils import _mac
from ansible_collections.pbxops.autoprov.plugins.module_utils import _responder_state as status


def inventory_devices(module, items):
    """[{mac, vendor, model}] from autoprov_devices items or bare MACs; every bad entry is reported at once."""
    devices, errors, seen = [], [], set()
    host = module.params["pbx_name"]
    for position, item in enumerate(items):
        raw = item.get("mac") if isinstance(item, dict) else item
        try:
            mac = _mac.normalize(raw)
        except _mac.MacError as exc:
            errors.append("%s: devices[%d]: mac: %s" % (host, position, exc))
            continue
        if mac in seen:
            continue
        seen.add(mac)
        extra = item if isinstance(item, dict) else {}
        devices.append({"mac": mac, "vendor": extra.get("vendor"), "model": extra.get("model")})
    if errors:
        module.fail_json(msg="; ".join(errors), errors=errors)
    return devices


def main():
    module = AnsibleModule(
        argument_spec=dict(
            devices=dict(type="list", elements="raw"),
            **status.argument_spec(),
            pbx_name=dict(type="str", default="this PBX"),
        ),
        supports_check_mode=True,
    )
    p = module.params
    warnings = []
    try:
        db, root = status.locate(p["responder_config"], p["db"], p["config_root"])
        manifest = status.read_manifest(root)
        if manifest is None:
            warnings.append("no manifest in %s: device_configs has not written this config root yet" % root)
        if p["devices"] is None:
            p["devices"] = [dict(mac=mac, **info) for mac, info in sorted(((manifest or {}).get("devices") or {}).items())]
        devices = inventory_devices(module, p["devices"])
        try:
            store = status.Store(db)
        except FileNotFoundError:
            store = None
            warnings.append("no status database at %s yet: the responder has not run, so no device was seen" % db)
        try:
            devices, discovered = status.report(devices, manifest, store)
        finally:
            if store:
                store.close()
    except status.StatusError as exc:
        module.fail_json(msg="%s: %s" % (p["pbx_name"], exc))

    summary = {}
    for device in devices:
        summary[device["state"]] = summary.get(device["state"], 0) + 1
    summary["discovered"] = len(discovered)
    on_previous = sum(1 for d in devices if d["credential"] == "previous")
    if on_previous:  # a rotation's grace window: who still authenticates with the replaced pair
        summary["previous password"] = on_previous
    by_dhcp = sum(1 for d in devices if d["dhcp_fetch"])
    if by_dhcp:
        summary["by DHCP"] = by_dhcp
    for warning in warnings:
        module.warn(warning)
    module.exit_json(
        changed=False,
        devices=devices,
        discovered=discovered,
        summary=summary,
        table=status.table(p["pbx_name"], devices, discovered),
        db=db,
    )


if __name__ == "__main__":
    main()
