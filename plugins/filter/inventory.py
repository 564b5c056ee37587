# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters over whole inventories: fleet_duplicates, rps_groups, discovered_devices, split_devices (docs in .yml files)."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

# The module_utils are imported where they are used. A task's worker process imports every filter file
# of the collection as soon as it templates any of our filters, and the RPS clients alone bring
# requests and urllib3: imported here, every task on every PBX of a fleet paid for them (bench/fleet).


def fleet_duplicates(hostvars, hosts, var="autoprov_devices"):
    """{host: [error]} for MACs that are devices of more than one of hosts."""
    from ansible_collections.pbxops.autoprov.plugins.module_utils import _devices

    fleet = {}
    for host in hosts:
        try:
            devices = hostvars[host].get(var)
        except Exception as exc:  # a host whose variable does not template: say which
            raise AnsibleFilterError("pbxops.autoprov.fleet_duplicates: %s: %s: %s" % (host, var, exc))
        if isinstance(devices, list):
            fleet[host] = devices
    return _devices.fleet_duplicates(fleet)


def rps_groups(devices, clients=None):
    """{rps client: [{mac, serial, pin}]} of the devices the vendors' RPS provisions.

    clients: {catalog RPS client: the client to use instead} (autoprov_rps_clients), for a
    vendor with more than one API, e.g. {"yealink": "yealink_ymcs"}.
    """
    if not isinstance(devices, list):
        raise AnsibleFilterError("pbxops.autoprov.rps_groups: expects the list of devices (autoprov_devices)")
    from ansible_collections.pbxops.autoprov.plugins.module_utils import _devices

    chosen = _chosen_clients(clients or {})
    groups = {}
    for client, entries in _devices.rps_groups(devices).items():
        groups.setdefault(chosen.get(client, client), []).extend(entries)
    return groups


def _chosen_clients(clients):
    """clients, checked: each key is a catalog RPS client, each value a client that can stand in for it."""
    if not isinstance(clients, dict):
        raise AnsibleFilterError("pbxops.autoprov.rps_groups: clients (autoprov_rps_clients) must be a dict, not %r" % (clients,))
    if not clients:
        return clients
    from ansible_collections.pbxops.autoprov.plugins.module_utils._catalog import catalog
    from ansible_collections.pbxops.autoprov.plugins.module_utils._rps.clients import CLIENTS

    known = sorted({v.rps for v in catalog.VENDORS.values() if v.rps})
    for key, value in clients.items():
        valid = sorted([key] + [c.vendor for c in CLIENTS.values() if c.alternative_to == key])
        if key not in known:
            raise AnsibleFilterError(
                "pbxops.autoprov.rps_groups: autoprov_rps_clients.%s: not an RPS client of the catalog; valid: %s" % (key, ", ".join(known))
            )
        if value not in valid:
            raise AnsibleFilterError("pbxops.autoprov.rps_groups: autoprov_rps_clients.%s: %r; valid: %s" % (key, value, ", ".join(valid)))
    return clients


def discovered_devices(discovered):
    """provision_status's discovered devices as autoprov_devices entries (mac, vendor, model, lines: [])."""
    from ansible_collections.pbxops.autoprov.plugins.module_utils import _mac
    from ansible_collections.pbxops.autoprov.plugins.module_utils._catalog import catalog

    entries = []
    for seen in discovered or []:
        vendor = seen.get("vendor_key")
        models = catalog.find_models(seen.get("model") or "", vendor) if vendor else []
        entry = {"mac": _mac.fmt(seen["mac"], "colon")}
        if vendor:
            entry["vendor"] = vendor
        entry["model"] = models[0].name if models else (seen.get("model") or "FILL IN")
        entry["lines"] = []
        entries.append(entry)
    return entries


def split_devices(devices, macs):
    """{'keep': [...], 'leave': [...]}: the devices whose MAC is in macs leave (any notation on either side)."""
    from ansible_collections.pbxops.autoprov.plugins.module_utils import _mac

    try:
        leaving = {_mac.normalize(m) for m in macs or []}
    except _mac.MacError as exc:
        raise AnsibleFilterError("pbxops.autoprov.split_devices: %s" % exc)
    keep, leave = [], []
    for device in devices or []:
        try:
            mac = _mac.normalize(device.get("mac"))
        except (_mac.MacError, AttributeError):
            keep.append(device)  # not a device we could match: device_configs reports it
            continue
        (leave if mac in leaving else keep).append(device)
    unknown = leaving - {_mac.normalize(d["mac"]) for d in leave}
    if unknown:
        raise AnsibleFilterError(
            "pbxops.autoprov.split_devices: %s not among this PBX's devices" % ", ".join(sorted(_mac.fmt(m, "colon") for m in unknown))
        )
    return {"keep": keep, "leave": leave}


class FilterModule:
    def filters(self):
        return {
            "fleet_duplicates": fleet_duplicates,
            "rps_groups": rps_groups,
            "discovered_devices": discovered_devices,
            "split_devices": split_devices,
        }
