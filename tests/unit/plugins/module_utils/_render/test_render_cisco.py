"""Cisco MPP (3PCC): $PSN.xml per model sends the phone to $MA.xml, its own flat profile."""

from __future__ import annotations

import pytest
from vendor_helpers import ADMIN_PASSWORD, PROVISIONING_PASSWORD, assert_no_secrets, bare, line, render, ua_match, xml_root

MAC = "00:56:2b:04:36:15"


@pytest.fixture(scope="module")
def cp8841():
    device = {
        "mac": MAC,
        "model": "CP-8841-3PCC",
        "lines": [line(1), line(2, transport="tls", port=5061)],
        "keys": [{"type": "blf", "value": "201", "label": "Anna", "index": 3}, {"type": "speeddial", "value": "555", "index": 4}],
    }
    return render([device], timezone="America/New_York")


def values(content):
    return {item.tag: item.text or "" for item in xml_root(content, "flat-profile")}


def test_file_names(cp8841):
    files = cp8841[0]
    assert sorted(files) == ["00562b043615.xml", "8841.xml"]


def test_model_file_points_at_the_mac_file_without_secrets(cp8841):
    files, secrets = cp8841
    assert_no_secrets(files["8841.xml"].content, secrets)
    assert values(files["8841.xml"].content)["Profile_Rule"] == "http://192.0.2.10:8080/p/Zt4token/$MA.xml"


def test_device_profile(cp8841):
    files = cp8841[0]
    v = values(files["00562b043615.xml"].content)
    assert (v["Password_2_"], v["SIP_Transport_2_"], v["Proxy_2_"]) == ("Line2-s3cret", "TLS", "pbx.example.net:5061")
    assert (v["User_ID_1_"], v["Auth_ID_1_"], v["Display_Name_1_"]) == ("201", "201", "User 1 & Co <1>")
    assert v["Extension_1_"] == "1" and v["Extension_3_"] == "Disabled"
    assert v["Extended_Function_3_"] == "fnc=blf+sd+cp;sub=201@pbx.example.net;nme=Anna"
    assert v["Extended_Function_4_"] == "fnc=sd;ext=555@$PROXY;nme=555"
    assert v["Preferred_Codec_1_"] == "G722" and v["Second_Preferred_Codec_1_"] == "G711a"
    assert v["Time_Zone"] == "GMT-05:00"
    assert v["Daylight_Saving_Time_Rule"] == "start=3/8/7/2;end=11/1/7/2;save=1"
    assert v["Admin_Password"] == ADMIN_PASSWORD
    assert v["Profile_Rule"] == "[--uid prov --pwd %s]http://192.0.2.10:8080/p/Zt4token/$MA.xml" % PROVISIONING_PASSWORD
    assert v["Resync_Periodic"] == "43200" and v["VLAN_ID"] == "42" and v["Upgrade_Rule"] == "http://192.0.2.10/fw/8841.img"


def test_user_agent():
    match = ua_match("cisco", "Cisco-CP-6841-3PCC/11.3.7_MPP (00562b043615)")
    assert match.group("model") == "6841" and bare(match.group("mac")) == "00562b043615"
    assert ua_match("cisco", "Cisco-CP-8845-3PCC/12.0.1").group("mac") is None
