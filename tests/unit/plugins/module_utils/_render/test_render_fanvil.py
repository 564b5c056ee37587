"""Fanvil X series: one <mac>.cfg, XML <sysConf>."""

from __future__ import annotations

import pytest
from vendor_helpers import ADMIN_PASSWORD, PROVISIONING_PASSWORD, bare, check_errors, line, render_files, ua_match, xml_root

MAC = "0C-38-3E-07-E1-6C"


@pytest.fixture(scope="module")
def x4u():
    device = {
        "mac": MAC,
        "model": "x4u",
        "lines": [line(1), line(2, transport="tls", port=5061)],
        "keys": [
            {"type": "line", "line": 2, "label": "Second"},
            {"type": "blf", "value": "201", "label": "Anna"},
            {"type": "park", "value": "700", "index": 8},
        ],
    }
    files = render_files([device], timezone="Europe/Berlin")
    return files


def test_file_name_is_the_lowercase_mac(x4u):
    assert list(x4u) == ["0c383e07e16c.cfg"] and x4u["0c383e07e16c.cfg"].secret


def test_accounts_keys_and_settings(x4u):
    root = xml_root(x4u["0c383e07e16c.cfg"].content, "sysConf")
    second = root.find("sip/line[@index='2']")
    assert second.findtext("RegisterPswd") == "Line2-s3cret"
    assert second.findtext("Transport") == "3" and second.findtext("RegisterPort") == "5061"
    assert second.findtext("DisplayName") == "User 2 & Co <2>"
    assert root.findtext("sip/line[@index='1']/RegisterUser") == "201"
    assert root.findtext("sip/line[@index='1']/VoiceCodecMap") == "G722,PCMA,PCMU"
    page1 = root.find("dsskey/internal[@index='1']")
    assert page1.findtext("Fkey[@index='1']/Type") == "2" and page1.findtext("Fkey[@index='1']/Value") == "SIP2"
    assert page1.findtext("Fkey[@index='2']/Value") == "201@1/ba"
    assert root.findtext("dsskey/internal[@index='2']/Fkey[@index='2']/Value") == "700@1/c"
    assert root.findtext("phone/date/SNTPServer") == "ntp.example.net"
    assert root.findtext("phone/date/TimeZone") == "4"
    assert root.findtext("phone/date/DSTStartMon") == "3" and root.findtext("phone/date/DSTEndHour") == "3"
    assert root.findtext("phone/display/DefaultLanguage") == "de"
    assert root.findtext("web/account[@index='1']/Password") == ADMIN_PASSWORD
    assert root.findtext("ap/DefaultPassword") == PROVISIONING_PASSWORD
    assert root.findtext("ap/FlashServerIP") == "http://192.0.2.10:8080/p/Zt4token/"
    assert root.findtext("ap/FlashInterval") == "12"
    assert root.findtext("qos/VLANID") == "42"
    assert root.findtext("fwCheck/UpgradeServer1") == "http://192.0.2.10/fw/"


def test_unsupported_key_type_is_an_error_naming_device_and_key():
    device = {"mac": MAC, "model": "X4U", "lines": [line(1)], "keys": [{"type": "url", "value": "http://x/"}]}
    errors = check_errors([device])
    assert errors == ["pbx1: device %s (autoprov_devices[0]): keys[0].type: 'url'; valid for Fanvil: line, blf, speeddial, park" % MAC]


def test_user_agent():
    match = ua_match("fanvil", "Fanvil X4 2.10.2.6887 0c383e07e16c")
    assert match.group("model") == "X4" and bare(match.group("mac")) == "0c383e07e16c"
    assert ua_match("fanvil", "Fanvil X6U 2.12.1 0c383e123456").group("model") == "X6U"
