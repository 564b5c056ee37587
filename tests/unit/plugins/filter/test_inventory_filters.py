from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.pbxops.autoprov.plugins.filter import inventory


class HostVars(dict):
    """hostvars as filters see it: host -> its variables."""


def phone(mac, model="T46S", **extra):
    return dict({"mac": mac, "model": model, "lines": [{"extension": "1", "secret": "s"}]}, **extra)


def test_fleet_duplicates_names_every_pbx_that_claims_a_mac():
    hostvars = HostVars(
        pbx1={"autoprov_devices": [phone("00:15:65:aa:00:01"), phone("00:15:65:aa:00:02")]},
        pbx2={"autoprov_devices": [phone("001565AA0001")]},
        pbx3={"autoprov_devices": [phone("00:15:65:aa:00:03")]},
        other={},
    )
    errors = inventory.fleet_duplicates(hostvars, ["pbx1", "pbx2", "pbx3", "other"])
    rule = "a MAC may belong to one PBX only"
    assert errors == {
        "pbx1": ["pbx1: device 00:15:65:aa:00:01 (autoprov_devices[0]): mac: duplicate: also a device of PBX pbx2; " + rule],
        "pbx2": ["pbx2: device 001565AA0001 (autoprov_devices[0]): mac: duplicate: also a device of PBX pbx1; " + rule],
    }


def test_rps_groups_follow_the_catalog_and_the_devices_method():
    devices = [
        phone("00:15:65:aa:00:01"),
        phone("00:15:65:aa:00:02", method="pnp"),  # this one is not for RPS
        phone("0c:38:3e:aa:00:03", model="X4U"),
        {"mac": "f4:b5:49:aa:00:04", "model": "TA400", "lines": []},  # Yeastar TA: never RPS
        {"mac": "00:0b:82:aa:00:05", "model": "GRP2612", "lines": []},  # Grandstream: no RPS client
        phone("7c:2f:80:aa:00:06", model="nonsense"),  # invalid: device_configs reports it
    ]
    groups = inventory.rps_groups(devices)
    assert groups == {"yealink": [{"mac": "00:15:65:aa:00:01"}], "fanvil": [{"mac": "0c:38:3e:aa:00:03"}]}


def test_rps_groups_keep_serial_and_pin():
    groups = inventory.rps_groups([phone("00:15:65:aa:00:01", serial="SN1", pin="1234")])
    assert groups == {"yealink": [{"mac": "00:15:65:aa:00:01", "serial": "SN1", "pin": "1234"}]}


def test_rps_groups_use_the_client_chosen_for_a_vendor():
    devices = [phone("00:15:65:aa:00:01"), phone("0c:38:3e:aa:00:03", model="X4U")]
    groups = inventory.rps_groups(devices, {"yealink": "yealink_ymcs"})
    assert groups == {"yealink_ymcs": [{"mac": "00:15:65:aa:00:01"}], "fanvil": [{"mac": "0c:38:3e:aa:00:03"}]}
    assert inventory.rps_groups(devices, {"yealink": "yealink"}) == inventory.rps_groups(devices)
    with pytest.raises(AnsibleFilterError, match=r"autoprov_rps_clients.fanvil: 'yealink_ymcs'; valid: fanvil"):
        inventory.rps_groups(devices, {"fanvil": "yealink_ymcs"})
    with pytest.raises(AnsibleFilterError, match=r"autoprov_rps_clients.yealink_ymcs: not an RPS client of the catalog"):
        inventory.rps_groups(devices, {"yealink_ymcs": "yealink"})


def test_rps_groups_wants_a_list():
    with pytest.raises(AnsibleFilterError, match="expects the list of devices"):
        inventory.rps_groups({"mac": "x"})


def test_discovered_devices_become_inventory_entries():
    discovered = [
        {"mac": "0c383ecc0009", "vendor": "Fanvil", "vendor_key": "fanvil", "model": "X4U"},
        {"mac": "001565cc000a", "vendor": "Yealink", "vendor_key": "yealink", "model": "SIP-T46S"},
        {"mac": "020000cc000b", "vendor": "Acme", "vendor_key": None, "model": "Phone9"},
    ]
    assert inventory.discovered_devices(discovered) == [
        {"mac": "0c:38:3e:cc:00:09", "vendor": "fanvil", "model": "X4U", "lines": []},
        {"mac": "00:15:65:cc:00:0a", "vendor": "yealink", "model": "T46S", "lines": []},
        {"mac": "02:00:00:cc:00:0b", "model": "Phone9", "lines": []},
    ]


def test_split_devices_matches_any_notation_and_refuses_unknown_macs():
    devices = [phone("00:15:65:aa:00:01"), phone("00-15-65-AA-00-02"), {"mac": "broken"}]
    split = inventory.split_devices(devices, ["001565aa0002"])
    assert split == {"keep": [devices[0], devices[2]], "leave": [devices[1]]}
    with pytest.raises(AnsibleFilterError, match="00:15:65:aa:00:09 not among this PBX's devices"):
        inventory.split_devices(devices, ["00:15:65:aa:00:09"])
    with pytest.raises(AnsibleFilterError, match="is not a MAC address"):
        inventory.split_devices(devices, ["nonsense"])
