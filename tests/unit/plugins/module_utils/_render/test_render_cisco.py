"""Cisco MPP (3PCC): what templates/cisco/reference.yml cannot say (file set, the credential chain, escaping, lint)."""

from __future__ import annotations

import pytest
from vendor_helpers import PROVISIONING_PASSWORD, bare, line, render, render_errors, ua_match, xml_root

from ansible_collections.pbxops.autoprov.plugins.module_utils._catalog import catalog as _catalog

MAC = "00:56:2b:04:36:15"


@pytest.fixture(scope="module")
def cp8841():
    device = {
        "mac": MAC,
        "model": "CP-8841-3PCC",
        "lines": [line(1), line(2, transport="tls", port=5061)],
        "keys": [{"type": "blf", "value": "201", "label": "Anna & Co", "index": 3}],
    }
    return render([device], timezone="America/New_York")


def values(content):
    return {item.tag: item.text or "" for item in xml_root(content, "flat-profile")}


def test_file_names_are_psn_and_ma(cp8841):
    """The factory rule /$PSN.xml asks for <series>-3PCC.xml; that file sends the phone to $MA.xml."""
    files = cp8841[0]
    assert sorted(files) == ["00562b043615.xml", "8841-3PCC.xml"]
    assert files["00562b043615.xml"].secret and not files["8841-3PCC.xml"].secret


def test_model_file_hands_on_the_config_hosts_credentials_and_nothing_else(cp8841):
    """A factory phone fetches $PSN.xml without credentials; without them in the rule, $MA.xml answers 401."""
    files, secrets = cp8841
    content = files["8841-3PCC.xml"].content
    rule = values(content)["Profile_Rule"]
    assert rule == "[--uid prov --pwd %s]http://192.0.2.10:8080/p/Zt4token/$MA.xml" % PROVISIONING_PASSWORD
    for secret in secrets - {PROVISIONING_PASSWORD}:
        assert secret not in content
    assert _catalog.VENDORS["cisco"].files[0]["holds_credentials"]


def test_device_profile_escapes_and_keeps_line_keys(cp8841):
    v = values(cp8841[0]["00562b043615.xml"].content)
    assert (v["SIP_Transport_2_"], v["Proxy_2_"]) == ("TLS", "pbx.example.net:5061")
    assert v["Display_Name_1_"] == "User 1 & Co <1>"
    assert v["Extended_Function_3_"] == "fnc=blf+sd+cp;sub=201@$PROXY;nme=Anna & Co"
    assert (v["Extension_1_"], v["Extension_2_"], v["Extension_3_"]) == ("1", "2", "Disabled")
    assert v["Auth_Resync-Reboot_1_"] == v["Auth_Resync-Reboot_2_"] == "No"


@pytest.mark.parametrize(
    "zone, problem",
    [
        ("Australia/Eucla", "Australia/Eucla (GMT+08:45) has no Time_Zone value on Cisco MPP phones; valid offsets: GMT-12:00"),
        ("America/Nuuk", "America/Nuuk changes daylight saving time at -60 minutes from midnight; a Cisco DST rule takes 0:00-23:59"),
    ],
)
def test_time_zones_the_firmware_cannot_take_are_refused(zone, problem):
    errors = render_errors([{"mac": MAC, "model": "8841", "lines": [line(1)]}], timezone=zone)
    assert len(errors) == 1 and errors[0].startswith("pbx1: timezone (autoprov_timezone): " + problem), errors


def test_credentials_a_profile_rule_cannot_carry_are_refused_without_showing_them():
    errors = render_errors([{"mac": MAC, "model": "8841", "lines": [line(1)]}], provisioning_password="two words")
    assert errors == [
        'pbx1: provisioning_password (autoprov_provisioning_password): holds a space, tab, ] or "; '
        "Cisco's Profile_Rule [--uid ... --pwd ...] cannot carry it"
    ]


def test_key_types_without_an_mpp_source_are_not_offered():
    assert _catalog.VENDORS["cisco"].key_types == ("line", "blf", "speeddial", "park")


def test_user_agent():
    match = ua_match("cisco", "Cisco-CP-6841-3PCC/11.3.7_MPP (00562b043615)")
    assert match.group("model") == "6841" and bare(match.group("mac")) == "00562b043615"
    assert ua_match("cisco", "Cisco-CP-8845-3PCC/12.0.1").group("mac") is None
