# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Devices that left this PBX for another PBX of the inventory (docs/inventory.md, "Moving phones between PBXes").

Controller side of device_configs. A device the target's manifest lists but this PBX's devices no
longer have has either left the fleet (its files are pruned) or moved: another inventory host lists
its MAC now. Until it has fetched at its new PBX, a moved device keeps files here rendered with the
new PBX's settings (SIP server, provisioning URL and credentials), so a phone that still asks this
PBX is handed a configuration that points it at the new one. The provision role puts each PBX's
render settings in SETTINGS_VAR (validate.yml), which is how another PBX's run can render for it.
"""

from __future__ import annotations

from ansible_collections.pbxops.autoprov.plugins.module_utils import _mac
from ansible_collections.pbxops.autoprov.plugins.module_utils._render.spec import SETTINGS

SETTINGS_VAR = "autoprov__render_settings"

# The device_configs options a PBX's settings dict may carry (the rest belong to the PBX that writes):
# what templates see as settings, and what else shapes a device's files.
RENDER_OPTIONS = SETTINGS + ("method", "template_dir", "device_key", "derive_device_key", "vars")


def devices_of(hostvars, host):
    """Another inventory host's autoprov_devices, or None when it has no usable list."""
    try:
        devices = hostvars[host].get("autoprov_devices")
    except Exception:  # an undefined or broken variable of another host is that host's problem
        return None
    return devices if isinstance(devices, list) else None


def owners(macs, hostvars, hosts, me):
    """{mac: (host, device)} for the MACs of `macs` that another host's autoprov_devices lists."""
    wanted, found = set(macs), {}
    for other in hosts:
        if not wanted:
            break
        if other == me:
            continue
        for device in devices_of(hostvars, other) or ():
            try:
                mac = _mac.normalize(device.get("mac"))
            except (AttributeError, _mac.MacError):
                continue
            if mac in wanted:
                found[mac] = (other, device)
                wanted.discard(mac)
    return found


def settings_of(hostvars, host):
    """The render settings the provision role set for `host` in this run, or None (the host is not in it)."""
    try:
        settings = hostvars[host].get(SETTINGS_VAR)
    except Exception:
        return None
    if not isinstance(settings, dict):
        return None
    return {k: settings[k] for k in RENDER_OPTIONS if k in settings and settings[k] is not None}
