"""Grandstream: cfg<mac>.xml, <gs_provision> P-values; phones (accounts, MPKs) and HT80x/HT81x ATAs (FXS ports)."""

from __future__ import annotations

import pytest
from vendor_helpers import ADMIN_PASSWORD, PROVISIONING_PASSWORD, bare, line, p_values, render_errors, render_files, ua_match

MAC = "c0:74:ad:0b:63:ee"


@pytest.fixture(scope="module")
def grp2614():
    device = {
        "mac": MAC,
        "model": "GRP2614",
        "lines": [line(1), line(2, transport="tcp"), line(3)],
        "keys": [{"type": "blf", "value": "201", "label": "Anna"}, {"type": "park", "value": "700", "line": 2, "index": 3}],
    }
    files = render_files([device], timezone="Europe/Berlin")
    return files


def test_file_name(grp2614):
    assert list(grp2614) == ["cfgc074ad0b63ee.xml"] and grp2614["cfgc074ad0b63ee.xml"].secret


def test_accounts_and_keys(grp2614):
    p = p_values(grp2614["cfgc074ad0b63ee.xml"].content, "gs_provision")
    assert (p["P271"], p["P47"], p["P35"], p["P34"], p["P3"]) == ("1", "pbx.example.net:5060", "201", "Line1-s3cret", "User 1 & Co <1>")
    assert (p["P401"], p["P404"], p["P406"], p["P448"]) == ("1", "202", "Line2-s3cret", "1")
    assert p["P506"] == "Line3-s3cret"
    assert (p["P57"], p["P58"], p["P59"]) == ("9", "8", "0")
    assert (p["P23000"], p["P23001"], p["P23002"], p["P23003"]) == ("1", "0", "Anna", "201")
    assert (p["P23010"], p["P23011"], p["P23013"]) == ("9", "1", "700")


def test_device_settings(grp2614):
    p = p_values(grp2614["cfgc074ad0b63ee.xml"].content, "gs_provision")
    assert p["P2"] == ADMIN_PASSWORD and p["P1360"] == PROVISIONING_PASSWORD
    assert p["P30"] == "ntp.example.net" and p["P64"] == "CET-1CEST,M3.5.0,M10.5.0/3"
    assert p["P1362"] == "de" and p["P51"] == "42"
    assert (p["P212"], p["P237"], p["P193"]) == ("1", "192.0.2.10:8080/p/Zt4token/", "720")
    assert p["P192"] == "192.0.2.10/fw"


def test_ht802_second_port_has_its_own_values():
    files = render_files([{"mac": "c0:74:ad:27:3a:10", "model": "HT802", "lines": [line(1), line(2)]}])
    p = p_values(files["cfgc074ad273a10.xml"].content, "gs_provision")
    assert (p["P35"], p["P34"]) == ("201", "Line1-s3cret")
    assert (p["P735"], p["P734"], p["P703"], p["P747"]) == ("202", "Line2-s3cret", "User 2 & Co <2>", "pbx.example.net:5060")


def test_ht818_ports():
    files = render_files([{"mac": "c0:74:ad:27:3a:11", "model": "HT818", "lines": [line(n) for n in range(1, 9)]}])
    p = p_values(files["cfgc074ad273a11.xml"].content, "gs_provision")
    assert (p["P4060"], p["P4067"], p["P4127"], p["P4187"]) == ("201", "208", "Line8-s3cret", "User 8 & Co <8>")
    assert p["P47"] == "pbx.example.net:5060"


def test_ht81x_ports_must_share_one_server():
    errors = render_errors([{"mac": "c0:74:ad:27:3a:12", "model": "HT814", "lines": [line(1), line(2, server="other.example.net")]}])
    assert len(errors) == 1 and "c0:74:ad:27:3a:12" in errors[0] and "lines[1]" in errors[0]


def test_user_agent():
    match = ua_match("grandstream", "Grandstream Model HW GXP2135 SW 1.0.7.97 DevId 000b828aa872")
    assert match.group("model") == "GXP2135" and bare(match.group("mac")) == "000b828aa872"
    assert ua_match("grandstream", "Grandstream Model HW HT801 V1.1A SW 1.0.17.5 DevId c074ad273a10").group("model") == "HT801"
