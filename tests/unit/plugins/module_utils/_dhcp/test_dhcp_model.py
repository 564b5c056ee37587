"""The scope model of dhcp_scope: what a task may ask for, and the bytes each option becomes."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.pbxops.autoprov.plugins.module_utils._dhcp.model import ScopeError, build_scope, check_host_or_url

URL = "http://192.0.2.10:8080/p/Zt4kq9/"


def scope(**params):
    params.setdefault("subnet", "192.0.2.0/24")
    return build_scope(params)


def problems(**params):
    with pytest.raises(ScopeError) as caught:
        scope(**params)
    return caught.value.problems


def test_third_party_scope_carries_only_the_options():
    polycom = {"code": 160, "value": URL + "poly/", "vendor_class": "Polycom"}
    result = scope(provisioning_url=URL, options=[polycom, {"code": 2, "value": -3600}])
    assert result["subnet"] == "192.0.2.0/24" and result["netmask"] == "255.255.255.0" and not result["create"]
    assert [(o["code"], o["vendor_class"]) for o in result["options"]] == [(2, None), (66, None), (160, "Polycom")]
    assert result["options"][0]["hex"] == "fffff1f0"
    assert bytes.fromhex(result["options"][1]["hex"]) == URL.encode()
    assert result["pbx_address"] == "192.0.2.10", "taken from the URL's host"


def test_created_scope_normalises_pools():
    result = scope(create=True, pools=["192.0.2.200/29", "192.0.2.100 - 192.0.2.150"], routers=["192.0.2.1"], lease_time=3600)
    assert result["pools"] == [["192.0.2.100", "192.0.2.150"], ["192.0.2.200", "192.0.2.207"]]


@pytest.mark.parametrize(
    "code, kind, value, data",
    [
        (42, None, ["192.0.2.1", "192.0.2.2"], "c0000201c0000202"),
        (150, None, "192.0.2.1, 192.0.2.2", "c0000201c0000202"),
        (43, None, "01:04:C0:A8:00:01", "0104c0a80001"),
        (67, None, "boot.cfg", b"boot.cfg".hex()),
        (224, "uint8", 7, "07"),
        (225, "uint16", "0x0102", "0102"),
        (226, "hex", "0a0b", "0a0b"),
    ],
)
def test_option_bytes(code, kind, value, data):
    option = dict(code=code, value=value)
    if kind:
        option["type"] = kind
    assert scope(options=[option])["options"][0]["hex"] == data


@pytest.mark.parametrize(
    "params, expected",
    [
        (dict(subnet="192.0.2.0"), "subnet: '192.0.2.0' is not an IPv4 subnet in CIDR form"),
        (dict(subnet="192.0.2.5/24", provisioning_url=URL), "has host bits set; did you mean 192.0.2.0/24?"),
        (dict(provisioning_url="http://user:pw@192.0.2.10/"), "provisioning_url: carries credentials"),
        (dict(provisioning_url="gopher://192.0.2.10/"), "provisioning_url: 'gopher://192.0.2.10/' has the scheme 'gopher'"),
        (dict(provisioning_url="http://192.0.2.10/a b"), "holds characters a URL may not contain"),
        (dict(provisioning_url="not a host"), "is neither a URL"),
        (dict(options=[{"code": 224, "value": "x"}]), "(option 224).type: dhcp_scope does not know option 224; give its type"),
        (dict(options=[{"code": 3, "value": "192.0.2.1"}]), "option 3 (routers) is set with routers"),
        (dict(options=[{"code": 42, "value": ["192.0.2.300"]}]), "is not a list of IPv4 addresses"),
        (dict(options=[{"code": 43, "value": "0g"}]), "is not hex bytes"),
        (dict(options=[{"code": 2, "value": 2**31}]), "is not a int32"),
        (dict(options=[{"code": 67, "value": 'a"b'}]), "must be printable ASCII without double quotes or backslashes"),
        (dict(options=[{"code": 66, "value": URL, "vendor_class": "Poly'com"}]), 'vendor_class: "Poly\'com" must be 1-64 characters'),
        (dict(provisioning_url=URL, options=[{"code": 66, "value": URL}]), "option 66 is given twice for every client"),
        (
            dict(provisioning_url=URL, options=[{"code": 66, "value": URL, "vendor_class": "Polycom"}]),
            "option 66 is given both for every client and for a vendor class",
        ),
        (dict(provisioning_url=URL, pools=["192.0.2.100-192.0.2.120"]), "pools: only with create: true"),
        (dict(create=True, provisioning_url=URL), "pools: the PBX as DHCP server (create: true) needs at least one pool"),
        (dict(create=True, pools=["192.0.2.0-192.0.2.10"]), "192.0.2.0/24; valid addresses are 192.0.2.1-192.0.2.254"),
        (dict(create=True, pools=["192.0.2.10-192.0.2.20", "192.0.2.20-192.0.2.30"]), "pools[0]: 192.0.2.10-192.0.2.20 overlaps pools[1]"),
        (dict(create=True, pools=["192.0.2.1-192.0.2.20"], routers=["192.0.2.1"]), "contains the router 192.0.2.1"),
        (dict(create=True, pools=["192.0.2.5-192.0.2.20"], provisioning_url="http://192.0.2.7/"), "contains the PBX address 192.0.2.7"),
        (dict(create=True, pools=["192.0.2.20-192.0.2.10"]), "starts after it ends"),
        (dict(create=True, pools=["192.0.2.10-192.0.2.20"], routers=["198.51.100.1"]), "routers[0]: 198.51.100.1 is not a host address"),
        (dict(create=True, pools=["192.0.2.10-192.0.2.20"], lease_time=60), "lease_time: 60 seconds; give 120.."),
        (dict(state="present"), "nothing to add to the subnet"),
    ],
)
def test_bad_input_is_named_with_what_would_be_valid(params, expected):
    found = problems(**params)
    assert any(expected in p for p in found), found


def test_every_problem_is_reported_at_once():
    found = problems(create=True, pools=["192.0.2.0-192.0.2.10", "10.0.0.1-10.0.0.2"], routers=["nope"], provisioning_url="x y")
    assert len(found) >= 4, found


def test_absent_needs_no_options():
    assert scope(state="absent")["state"] == "absent"


@pytest.mark.parametrize(
    "value", ["http://pbx.example.net/p/", "https://[2001:db8::1]:8443/x", "tftp://192.0.2.10", "pbx.example.net", "192.0.2.10"]
)
def test_host_or_url_accepts(value):
    assert check_host_or_url(value) is None


@given(st.lists(st.integers(min_value=1, max_value=2**32 - 2), min_size=1, max_size=63))
def test_address_lists_encode_to_their_bytes(numbers):
    addresses = [str(ipaddress.IPv4Address(n)) for n in numbers]
    data = scope(options=[{"code": 150, "value": addresses}])["options"][0]["hex"]
    assert [str(ipaddress.IPv4Address(bytes.fromhex(data)[i : i + 4])) for i in range(0, len(data) // 2, 4)] == addresses


@given(st.integers(min_value=-(2**31), max_value=2**31 - 1))
def test_int32_encodes_in_network_order(number):
    data = scope(options=[{"code": 2, "value": number}])["options"][0]["hex"]
    assert int.from_bytes(bytes.fromhex(data), "big", signed=True) == number
