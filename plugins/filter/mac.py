# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters pbxops.autoprov.mac and pbxops.autoprov.mac_vendor (docs in mac.yml, mac_vendor.yml)."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

# Imported where used: see inventory.py (every filter file is imported by every task that templates one).


def _require_netaddr(_mac):
    if not _mac.HAS_NETADDR:
        raise AnsibleFilterError("the pbxops.autoprov MAC filters need the Python library netaddr on the controller (pip install netaddr)")


def mac(value, style="bare"):
    """A MAC address in one of the notations devices use."""
    from ansible_collections.pbxops.autoprov.plugins.module_utils import _mac

    _require_netaddr(_mac)
    try:
        return _mac.fmt(value, style)
    except _mac.MacError as exc:
        raise AnsibleFilterError("pbxops.autoprov.mac: %s" % exc)


def mac_vendor(value, organisation=False):
    """The catalog vendor (e.g. yealink) of a MAC by its OUI, or None; the IEEE organisation if asked."""
    from ansible_collections.pbxops.autoprov.plugins.module_utils import _mac

    _require_netaddr(_mac)
    try:
        org = _mac.oui_organisation(value)
    except _mac.MacError as exc:
        raise AnsibleFilterError("pbxops.autoprov.mac_vendor: %s" % exc)
    from ansible_collections.pbxops.autoprov.plugins.module_utils._catalog import catalog

    return org if organisation else catalog.vendor_by_organisation(org)


class FilterModule:
    def filters(self):
        return {"mac": mac, "mac_vendor": mac_vendor}
