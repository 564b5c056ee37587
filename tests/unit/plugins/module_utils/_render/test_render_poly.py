"""Poly VVX / Edge E: 000000000000.cfg and <mac>.cfg master files, a shared site file, <mac>-autoprov.cfg with the secrets."""

from __future__ import annotations

import pytest
from vendor_helpers import (
    ADMIN_PASSWORD,
    PROVISIONING_PASSWORD,
    assert_no_secrets,
    check_errors,
    line,
    render,
    ua_match,
    xml_root,
)

MAC = "00:04:f2:e2:e7:53"


@pytest.fixture(scope="module")
def vvx450():
    devices = [
        {
            "mac": MAC,
            "model": "VVX 450",
            "lines": [line(1), line(2, transport="tcp")],
            "keys": [{"type": "line", "line": 1}, {"type": "blf", "value": "201", "label": "Anna"}, {"type": "park", "value": "700"}],
        },
        {"mac": "48:25:67:00:00:01", "model": "Poly Edge E450", "lines": [line(1)]},
    ]
    return render(devices, timezone="Australia/Sydney", language="fr")


def attributes(content, root_tag, element):
    return xml_root(content, root_tag).find(element).attrib


def test_file_names(vvx450):
    files = vvx450[0]
    assert sorted(files) == [
        "000000000000.cfg",
        "0004f2e2e753-autoprov.cfg",
        "0004f2e2e753.cfg",
        "482567000001-autoprov.cfg",
        "482567000001.cfg",
        "autoprov-site.cfg",
    ]
    assert [n for n, f in sorted(files.items()) if f.secret] == ["0004f2e2e753-autoprov.cfg", "482567000001-autoprov.cfg"]


def test_master_files_name_the_config_files(vvx450):
    files, secrets = vvx450
    for name in ("000000000000.cfg", "0004f2e2e753.cfg"):
        root = xml_root(files[name].content, "APPLICATION")
        assert root.get("CONFIG_FILES") == "[PHONE_MAC_ADDRESS]-autoprov.cfg, autoprov-site.cfg"
        # The model-wide file names no image; the phone's own file names its model's.
        assert root.get("APP_FILE_PATH") == ("" if name.startswith("0000") else "http://192.0.2.10/fw/VVX450.img")
        assert_no_secrets(files[name].content, secrets)


def test_device_file(vvx450):
    files = vvx450[0]
    content = files["0004f2e2e753-autoprov.cfg"].content
    reg = attributes(content, "polycomConfig", "reg")
    assert reg["reg.2.auth.password"] == "Line2-s3cret" and reg["reg.2.server.1.transport"] == "TCPOnly"
    assert reg["reg.1.address"] == "201" and reg["reg.1.displayName"] == "User 1 & Co <1>"
    keys = attributes(content, "polycomConfig", "lineKey")
    assert (keys["lineKey.2.category"], keys["lineKey.2.index"], keys["lineKey.3.index"]) == ("BLF", "1", "2")
    attendant = attributes(content, "polycomConfig", "attendant")
    assert attendant["attendant.resourceList.1.address"] == "201" and attendant["attendant.resourceList.2.type"] == "automata"
    device = attributes(content, "polycomConfig", "device")
    assert device["device.auth.localAdminPassword"] == ADMIN_PASSWORD and device["device.prov.password"] == PROVISIONING_PASSWORD
    assert device["device.net.vlanId"] == "42"
    assert attributes(content, "polycomConfig", "msg")["msg.mwi.1.callBack"] == "*97"


def test_site_file_has_time_language_and_no_secret(vvx450):
    files, secrets = vvx450
    content = files["autoprov-site.cfg"].content
    assert_no_secrets(content, secrets)
    sntp = attributes(content, "polycomConfig", "tcpIpApp")
    assert sntp["tcpIpApp.sntp.gmtOffset"] == "36000" and sntp["tcpIpApp.sntp.address"] == "ntp.example.net"
    # Australia/Sydney: first Sunday of October to first Sunday of April (Poly: 1 = Sunday)
    assert (sntp["tcpIpApp.sntp.daylightSavings.start.month"], sntp["tcpIpApp.sntp.daylightSavings.start.dayOfWeek"]) == ("10", "1")
    assert sntp["tcpIpApp.sntp.daylightSavings.stop.month"] == "4"
    assert attributes(content, "polycomConfig", "lcl")["lcl.ml.lang"] == "French_France"
    assert attributes(content, "polycomConfig", "prov")["prov.polling.period"] == "43200"
    assert attributes(content, "polycomConfig", "voice")["voice.codecPref.G711_A"] == "2"


def test_speed_dial_is_refused():
    errors = check_errors([{"mac": MAC, "model": "VVX450", "lines": [line(1)], "keys": [{"type": "speeddial", "value": "1"}]}])
    assert len(errors) == 1 and "keys[0].type: 'speeddial'; valid for Poly: line, blf, park" in errors[0]


def test_user_agent_names_the_model():
    match = ua_match("poly", "FileTransport PolycomVVX-VVX_450-UA/6.4.3.5018 Type/Application")
    assert match.group("model") == "VVX_450" and match.group("firmware") == "6.4.3.5018"
    assert "mac" not in match.groupdict()
