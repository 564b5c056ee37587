"""Yealink: y000000000XXX.cfg per model, <mac>.boot and <mac>.cfg per phone, key = value lines."""

from __future__ import annotations

import re

import pytest
from vendor_helpers import ADMIN_PASSWORD, PROVISIONING_PASSWORD, assert_no_secrets, bare, line, render, render_files, ua_match

MAC = "00:15:65:4a:a9:37"


def parse(content):
    lines = content.splitlines()
    assert lines[0] == "#!version:1.0.0.1"
    values = {}
    for text in lines[1:]:
        if not text.strip() or text.startswith("#"):
            continue
        if text.startswith("include:config "):
            values.setdefault("include", []).append(text.split(" ", 1)[1].strip('"'))
            continue
        match = re.match(r"^([\w.]+) = (.*)$", text)
        assert match, "not key = value: %r" % text
        values[match.group(1)] = match.group(2)
    return values


@pytest.fixture(scope="module")
def t46s():
    device = {
        "mac": MAC,
        "model": "SIP-T46S",
        "lines": [line(1), line(2, transport="tls", port=5061, voicemail="8000")],
        "keys": [
            {"type": "blf", "value": "201", "label": "Anna"},
            {"type": "speeddial", "value": "0049301234", "label": "Office", "line": 2},
            {"type": "park", "value": "700", "index": 5},
            {"type": "url", "value": "http://192.0.2.10/x.xml", "label": "App"},
        ],
    }
    return render([device], timezone="America/New_York", language="fr")


def test_file_names_are_the_ones_the_phone_requests(t46s):
    files = t46s[0]
    assert sorted(files) == ["001565" + "4aa937.boot", "0015654aa937.cfg", "y000000000066.cfg"]
    assert files["0015654aa937.cfg"].secret and not files["y000000000066.cfg"].secret


def test_device_file_carries_accounts_keys_and_secrets(t46s):
    files = t46s[0]
    values = parse(files["0015654aa937.cfg"].content)
    assert values["account.2.password"] == "Line2-s3cret"
    assert values["account.2.sip_server.1.transport_type"] == "2"
    assert values["account.2.sip_server.1.port"] == "5061"
    assert values["account.1.user_name"] == values["account.1.auth_name"] == "201"
    assert values["account.1.display_name"] == "User 1 & Co <1>"
    assert values["account.1.label"] == "L1"
    assert values["voice_mail.number.1"] == "*97" and values["voice_mail.number.2"] == "8000"
    assert values["account.1.codec.g722.priority"] == "1" and values["account.1.codec.pcmu.priority"] == "3"
    assert (values["linekey.1.type"], values["linekey.1.value"], values["linekey.1.label"]) == ("16", "201", "Anna")
    assert (values["linekey.2.type"], values["linekey.2.line"]) == ("13", "2")
    assert (values["linekey.5.type"], values["linekey.5.value"]) == ("10", "700")
    assert values["linekey.4.type"] == "17"
    assert values["static.security.user_password"] == "admin:" + ADMIN_PASSWORD
    assert values["static.auto_provision.server.password"] == PROVISIONING_PASSWORD


def test_boot_file_includes_the_model_file_then_the_mac_file(t46s):
    files = t46s[0]
    assert parse(files["0015654aa937.boot"].content)["include"] == ["y000000000066.cfg", "0015654aa937.cfg"]


def test_model_file_has_settings_and_no_secret(t46s):
    files, secrets = t46s
    shared = files["y000000000066.cfg"].content
    assert_no_secrets(shared, secrets)
    values = parse(shared)
    assert values["static.auto_provision.server.url"] == "http://192.0.2.10:8080/p/Zt4token/"
    assert values["static.auto_provision.repeat.minutes"] == "720"
    assert values["local_time.ntp_server1"] == "ntp.example.net"
    assert values["local_time.time_zone"] == "-5"
    # America/New_York: second Sunday of March 2:00 to first Sunday of November 2:00 (Yealink: 7 = Sunday)
    assert values["local_time.start_time"] == "3/2/7/2" and values["local_time.end_time"] == "11/1/7/2"
    assert values["lang.gui"] == "French"
    assert values["static.network.vlan.internet_port_vid"] == "42"
    assert values["static.firmware.url"] == "http://192.0.2.10/fw/T46S.img"


@pytest.mark.parametrize(
    "model, name",
    [("T31G", "y000000000123.cfg"), ("T33G", "y000000000124.cfg"), ("T54W", "y000000000096.cfg"), ("W70B", "y000000000146.cfg")],
)
def test_three_digit_codes_give_twelve_digits(model, name):
    files = render_files([{"mac": "80:5e:c0:00:00:01", "model": model, "lines": [line(1)]}])
    assert name in files
    assert parse(files["805ec0000001.boot"].content)["include"][0] == name


def test_zone_without_daylight_saving():
    files = render_files([{"mac": MAC, "model": "T42S", "lines": [line(1)]}], timezone="Asia/Kolkata")
    values = parse(files["y000000000067.cfg"].content)
    assert values["local_time.time_zone"] == "+5:30" and values["local_time.summer_time"] == "0"


@pytest.mark.parametrize(
    "user_agent, model, mac",
    [
        ("Yealink SIP-T46G 28.72.0.1 00:15:65:4a:a9:37", "T46G", "0015654aa937"),
        ("Yealink SIP-T31G 124.85.257.55 80:5e:c0:d5:7d:72", "T31G", "805ec0d57d72"),
        ("Yealink W70B 146.85.0.20 80:5e:c0:12:34:56", "W70B", "805ec0123456"),
        ("Yealink SIP VP-T49G 51.80.0.100 00:15:65:11:22:33", "T49G", "001565112233"),
    ],
)
def test_user_agent(user_agent, model, mac):
    match = ua_match("yealink", user_agent)
    assert match.group("model").upper().endswith(model) and bare(match.group("mac")) == mac and match.group("firmware")
