"""The responder reads what device_configs writes: the catalog's vendor table, as it lands in a manifest."""

from __future__ import annotations

import pytest

from ansible_collections.pbxops.autoprov.plugins.module_utils._catalog import catalog
from autoprov_responder import manifest
from autoprov_responder.access import FileAccess

TABLE = catalog.responder_table()
MAC = "001565aabb01"

# User-Agents as the devices send them (DESIGN.md "Config files"), -> (vendor, MAC or None, model)
USER_AGENTS = {
    "Yealink SIP-T46G 28.72.0.1 00:15:65:aa:bb:01": ("yealink", MAC, "T46G"),
    "Fanvil X4 2.10.2.6887 001565aabb01": ("fanvil", MAC, "X4"),
    "Grandstream Model HW GXP2135 SW 1.0.7.97 DevId 001565aabb01": ("grandstream", MAC, "GXP2135"),
    "Htek UC903 2.0.4.2 00:15:65:aa:bb:01": ("htek", MAC, "UC903"),
    "Mozilla/4.0 (compatible; snomD385-SIP 10.1.54.13 1.1.3-s)": ("snom", None, "D385"),
}


def test_the_catalog_table_is_a_valid_manifest_vendor_table():
    m = manifest.parse({"format": 2, "vendors": TABLE})
    assert set(m.vendors) == set(TABLE)
    for key, vendor in m.vendors.items():
        vendor.pnp_url.format(url="http://x/", mac=MAC, MAC=MAC.upper())
        for name in vendor.pnp_names:
            assert m.vendor_for_pnp_name(name) == key


@pytest.mark.parametrize("ua, expected", sorted(USER_AGENTS.items()))
def test_device_user_agents(ua, expected):
    info = manifest.parse({"format": 2, "vendors": TABLE}).user_agent(ua)
    assert (info.vendor, info.mac, info.model) == expected


@pytest.mark.parametrize(
    "vendor, ua, allowed",
    [
        ("yealink", "Yealink SIP-T46S 66.86.0.15 00:15:65:aa:bb:01", True),
        ("yealink", "Yealink SIP-T46S 66.86.0.15 00:15:65:aa:bb:02", False),
        ("yealink", "Yealink SIP-T46S 66.86.0.15", False),  # the pattern requires the MAC
        ("yealink", "curl/7.88.1", False),
        ("yealink", None, False),
        ("snom", "Mozilla/4.0 (compatible; snomD385-SIP 10.1.54.13 1.1.3-s)", True),  # optional MAC, none sent
        ("snom", "Mozilla/4.0 (compatible; snomD385-SIP 10.1.54.13 1.1.3-s 001565aabb02)", False),
        ("snom", "Mozilla/4.0 (compatible; snomD385-SIP 10.1.54.13 1.1.3-s 001565AABB01)", True),
        ("snom", "curl/7.88.1", False),
        ("poly", "anything", True),  # no MAC in Poly's User-Agent: the gate does not apply
    ],
)
def test_user_agent_gate(vendor, ua, allowed):
    m = manifest.parse({"format": 2, "vendors": TABLE, "files": {"f": {"sha256": "0" * 64, "mac": MAC, "vendor": vendor, "secret": True}}})
    assert FileAccess.ua_matches_file(m, m.files["f"], ua) is allowed
