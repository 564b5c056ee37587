"""Poly VVX / Edge E: 000000000000.cfg and <mac>.cfg master files, a shared site file, <mac>-autoprov.cfg with the secrets."""

from __future__ import annotations

import pytest
from vendor_helpers import (
    assert_no_secrets,
    check_errors,
    line,
    render,
    render_errors,
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
        assert root.get("APP_FILE_PATH") == (None if name.startswith("0000") else "http://192.0.2.10/fw/VVX450.img")
        assert_no_secrets(files[name].content, secrets)


def test_device_file_escapes_and_lays_out_the_keys(vvx450):
    files = vvx450[0]
    content = files["0004f2e2e753-autoprov.cfg"].content
    assert attributes(content, "polycomConfig", "reg")["reg.1.displayName"] == "User 1 & Co <1>"
    keys = attributes(content, "polycomConfig", "lineKey")
    layout = [(keys["lineKey.%d.category" % n], keys.get("lineKey.%d.index" % n)) for n in range(1, 13)]
    # Key 1 is line 1's (the inventory says so), keys 2-3 BLF and park; line 2 has no key of
    # its own in the inventory, so it takes the first free one rather than losing its key.
    assert layout[:5] == [("line", "1"), ("BLF", "0"), ("BLF", "0"), ("line", "2"), ("unassigned", None)]
    attendant = attributes(content, "polycomConfig", "attendant")
    assert attendant["attendant.resourceList.1.address"] == "201" and attendant["attendant.resourceList.2.type"] == "automata"


def test_edge_without_keys_leaves_the_layout_to_the_phone(vvx450):
    content = vvx450[0]["482567000001-autoprov.cfg"].content
    assert "lineKey.reassignment" not in content and attributes(content, "polycomConfig", "reg")["reg.1.lineKeys"] == "1"


def test_site_file_has_no_secret_and_southern_dst(vvx450):
    files, secrets = vvx450
    content = files["autoprov-site.cfg"].content
    assert_no_secrets(content, secrets)
    sntp = attributes(content, "polycomConfig", "tcpIpApp")
    # Australia/Sydney: first Sunday of October to first Sunday of April (Poly: 1 = Sunday)
    assert (sntp["tcpIpApp.sntp.daylightSavings.start.month"], sntp["tcpIpApp.sntp.daylightSavings.start.dayOfWeek"]) == ("10", "1")
    assert sntp["tcpIpApp.sntp.daylightSavings.stop.month"] == "4"


def test_blf_keys_that_would_take_a_lines_key_are_refused():
    device = {"mac": MAC, "model": "VVX150", "lines": [line(1), line(2)], "keys": [{"type": "blf", "value": "201"}]}
    errors = render_errors([device])
    assert errors == [
        "pbx1: device 00:04:f2:e2:e7:53 (autoprov_devices[0]): keys: line 2 would have no line key: the VVX150 has 2 keys, "
        "2 lines need one each and 1 are BLF/park keys; valid: at most 0 BLF/park keys beside 2 lines"
    ]


def test_polling_more_often_than_hourly_is_refused():
    errors = render_errors([{"mac": MAC, "model": "VVX450", "lines": [line(1)]}], resync_interval=30)
    assert errors == [
        "pbx1: resync_interval (autoprov_resync_interval): 30 minutes: Poly phones poll at most hourly "
        "(prov.polling.period >= 3600 s); valid: 0 (no polling) or 60 and more"
    ]


def test_speed_dial_is_refused():
    errors = check_errors([{"mac": MAC, "model": "VVX450", "lines": [line(1)], "keys": [{"type": "speeddial", "value": "1"}]}])
    assert len(errors) == 1 and "keys[0].type: 'speeddial'; valid for Poly: line, blf, park" in errors[0]


def test_user_agent_names_the_model():
    match = ua_match("poly", "FileTransport PolycomVVX-VVX_450-UA/6.4.3.5018 Type/Application")
    assert match.group("model") == "VVX_450" and match.group("firmware") == "6.4.3.5018"
    assert "mac" not in match.groupdict()
