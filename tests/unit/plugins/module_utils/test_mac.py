from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.pbxops.autoprov.plugins.filter import mac as mac_filters
from ansible_collections.pbxops.autoprov.plugins.module_utils import _mac

SPELLINGS = ["00:15:65:4a:a9:37", "00-15-65-4A-A9-37", "0015.654a.a937", "001565 4aa937".replace(" ", ""), " 00:15:65:4A:a9:37 "]


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_every_common_notation_normalises_to_one_form(spelling):
    assert _mac.normalize(spelling) == "0015654aa937"


@pytest.mark.parametrize(
    "style, expected",
    [
        ("bare", "0015654aa937"),
        ("bare_upper", "0015654AA937"),
        ("colon", "00:15:65:4a:a9:37"),
        ("colon_upper", "00:15:65:4A:A9:37"),
        ("dash", "00-15-65-4a-a9-37"),
        ("dash_upper", "00-15-65-4A-A9-37"),
        ("cisco", "0015.654a.a937"),
    ],
)
def test_formats(style, expected):
    assert _mac.fmt("00-15-65-4A-A9-37", style) == expected


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "00:15:65:4a:a9",
        "00:15:65:4a:a9:37:11",
        "zz:15:65:4a:a9:37",
        "00:00:00:00:00:00",
        "01:00:5e:00:00:01",
        "ff:ff:ff:ff:ff:ff",
        12,
        None,
    ],
)
def test_rejects_what_is_not_a_device_mac(bad):
    with pytest.raises(_mac.MacError):
        _mac.normalize(bad)


def test_unknown_format_names_the_valid_ones():
    with pytest.raises(_mac.MacError, match="valid: bare, bare_upper, colon"):
        _mac.fmt("001565aabbcc", "dots")


@pytest.mark.parametrize(
    "mac, vendor",
    [
        ("00:15:65:4a:a9:37", "yealink"),
        ("24:9a:d8:00:00:01", "yealink"),
        ("00:11:22:33:44:55", None),
    ],
)
def test_mac_vendor_filter_from_oui(mac, vendor):
    assert mac_filters.mac_vendor(mac) == vendor


def test_mac_vendor_filter_can_return_the_organisation():
    assert "YEALINK" in mac_filters.mac_vendor("00:15:65:4a:a9:37", organisation=True).upper()


def test_filters_raise_ansible_errors_naming_the_filter():
    with pytest.raises(AnsibleFilterError, match="pbxops.autoprov.mac:"):
        mac_filters.mac("nonsense")
    with pytest.raises(AnsibleFilterError, match="pbxops.autoprov.mac_vendor:"):
        mac_filters.mac_vendor("nonsense")


def test_filter_plugin_exports_both_filters():
    assert set(mac_filters.FilterModule().filters()) == {"mac", "mac_vendor"}
