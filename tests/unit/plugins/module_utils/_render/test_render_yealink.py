"""Yealink: y000000000XXX.cfg per model, <mac>.boot and <mac>.cfg per phone, key = value lines."""

from __future__ import annotations

import re

import pytest
from vendor_helpers import (
    ADMIN_PASSWORD,
    PROVISIONING_PASSWORD,
    assert_no_secrets,
    bare,
    line,
    render,
    render_errors,
    render_files,
    ua_match,
)

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


def test_device_file_carries_the_secrets_and_the_model_image(t46s):
    files = t46s[0]
    values = parse(files["0015654aa937.cfg"].content)
    assert values["static.security.user_password"] == "admin:" + ADMIN_PASSWORD
    assert values["static.auto_provision.server.password"] == PROVISIONING_PASSWORD
    # keys 1, 2, 4 take the free positions; the park key keeps its index
    assert [values["linekey.%d.type" % n] for n in (1, 2, 4, 5)] == ["16", "13", "17", "10"]
    assert values["static.firmware.url"] == "http://192.0.2.10/fw/T46S.img"


def test_boot_file_includes_the_model_file_then_the_mac_file(t46s):
    files = t46s[0]
    assert parse(files["0015654aa937.boot"].content)["include"] == ["y000000000066.cfg", "0015654aa937.cfg"]


def test_model_file_has_no_secret_and_nothing_of_one_phone(t46s):
    files, secrets = t46s
    shared = files["y000000000066.cfg"].content
    assert_no_secrets(shared, secrets)
    assert set(parse(shared)) == {
        "static.auto_provision.server.url",
        "static.auto_provision.pnp_enable",
        "static.auto_provision.dhcp_option.enable",
        "static.auto_provision.power_on",
        "static.auto_provision.repeat.enable",
        "static.auto_provision.repeat.minutes",
        "sip.notify_reboot_enable",
        "sip.trust_ctrl",
    }


def test_models_sharing_a_common_file_each_get_their_own_image():
    devices = [
        {"mac": "00:15:65:00:00:01", "model": "T46S", "lines": [line(1)]},
        {"mac": "00:15:65:00:00:02", "model": "T48S", "lines": [line(1)]},
    ]
    files = render_files(devices)
    assert parse(files["001565000001.cfg"].content)["static.firmware.url"].endswith("/T46S.img")
    assert parse(files["001565000002.cfg"].content)["static.firmware.url"].endswith("/T48S.img")


@pytest.mark.parametrize(
    "model, name",
    [("T31G", "y000000000123.cfg"), ("T33G", "y000000000124.cfg"), ("T54W", "y000000000096.cfg"), ("W70B", "y000000000146.cfg")],
)
def test_three_digit_codes_give_twelve_digits(model, name):
    files = render_files([{"mac": "80:5e:c0:00:00:01", "model": model, "lines": [line(1)]}])
    assert name in files
    assert parse(files["805ec0000001.boot"].content)["include"][0] == name


def lint_errors(model="T46S", lines=1, **overrides):
    device = {"mac": MAC, "model": model, "lines": [line(n) for n in range(1, lines + 1)]}
    return render_errors([device], **overrides)


@pytest.mark.parametrize(
    "overrides, field, valid",
    [
        ({"resync_interval": 50000}, "resync_interval (autoprov_resync_interval)", "1-43200"),
        ({"timezone": "America/Nuuk"}, "timezone (autoprov_timezone)", "whole hours 0-23"),
        ({"timezone": "Africa/Cairo"}, "timezone (autoprov_timezone)", "whole hours 0-23"),
        ({"timezone": "Pacific/Kiritimati", "resync_interval": 60}, None, None),
        ({"codecs": ["G722", "AMR"]}, "codecs (autoprov_codecs)", "valid: "),
    ],
)
def test_lint_refuses_what_the_firmware_rejects(overrides, field, valid):
    errors = lint_errors(**overrides)
    if field is None:
        assert errors == []
        return
    assert len(errors) == 1 and errors[0].startswith("pbx1: %s: " % field) and valid in errors[0], errors


def test_lint_refuses_a_rom_of_another_hardware_family():
    firmware = {"T46S": {"url": "http://192.0.2.10/fw/T46U-108.86.0.90.rom", "version": "108.86.0.90", "file": "T46U-108.86.0.90.rom"}}
    errors = lint_errors(firmware=firmware)
    assert len(errors) == 1 and "firmware (autoprov_firmware)" in errors[0] and "66.x" in errors[0], errors
    assert lint_errors(firmware={"T46S": dict(firmware["T46S"], file="T46S(T48S,T42S,T41S)-66.86.0.15.rom")}) == []


def test_lint_refuses_more_servers_than_a_dect_manager_has_templates():
    device = {"mac": MAC, "model": "W80B", "lines": [line(n, server="192.0.2.%d" % n) for n in range(1, 12)]}
    errors = render_errors([device])
    assert len(errors) == 1 and "device 00:15:65:4a:a9:37" in errors[0] and "lines: 11 different SIP servers" in errors[0], errors


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
