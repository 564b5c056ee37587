"""Grandstream: what the reference rows cannot express: the file set, secrets, key layout across ranges, lint errors.

The keys and encodings themselves are asserted by templates/grandstream/reference.yml (test_reference.py).
"""

from __future__ import annotations

import re

import pytest
from vendor_helpers import FIRMWARE, PROVISIONING_PASSWORD, bare, line, p_values, render, render_errors, render_files, ua_match

from ansible_collections.pbxops.autoprov.plugins.module_utils._catalog import catalog
from ansible_collections.pbxops.autoprov.plugins.module_utils._catalog.vendors import grandstream

MAC = "c0:74:ad:0b:63:ee"


@pytest.fixture(scope="module")
def grp2614():
    device = {
        "mac": MAC,
        "model": "GRP2614",
        "lines": [line(1), line(2, transport="tcp"), line(3)],
        "keys": [{"type": "blf", "value": "201", "label": "Anna", "index": 3}, {"type": "park", "value": "700", "line": 2, "index": 18}],
    }
    return render([device], timezone="Europe/Berlin")


def test_one_secret_file_per_device(grp2614):
    files, _secrets = grp2614
    assert list(files) == ["cfgc074ad0b63ee.xml"] and files["cfgc074ad0b63ee.xml"].secret


def test_secret_values_are_masked(grp2614):
    files, _secrets = grp2614
    content = files["cfgc074ad0b63ee.xml"].content
    masked = {m.group("v") for pattern in catalog.VENDORS["grandstream"].secret_keys for m in pattern.finditer(content)}
    assert {PROVISIONING_PASSWORD, "Line1-s3cret", "Line2-s3cret", "Line3-s3cret"} <= masked
    assert "prov" not in masked  # P1360 is the user name, not a secret


def test_vpk_sequence_has_no_gap_and_mpks_follow(grp2614):
    """VPKs 1-2 (before the used VPK 3) are written: 1 and 2 as the line keys of lines 1 and 2; key 18 is MPK 2."""
    p = p_values(grp2614[0]["cfgc074ad0b63ee.xml"].content, "gs_provision")
    assert [p["P1363"], p["P1364"], p["P1365"], p["P1366"]] == ["31", "0", "31", "1"]
    assert (p["P1367"], p["P1469"], p["P1470"]) == ("1", "Anna", "201")
    assert (p["P324"], p["P304"], p["P306"]) == ("9", "1", "700")
    assert not [k for k in p if k.startswith("P238") or k.startswith("P230")]


def test_ht81x_ports_must_share_one_server():
    errors = render_errors([{"mac": "c0:74:ad:27:3a:12", "model": "HT814", "lines": [line(1), line(2, server="other.example.net")]}])
    assert len(errors) == 1 and "c0:74:ad:27:3a:12" in errors[0] and "lines[1]" in errors[0]


@pytest.mark.parametrize(
    "model, interval, valid", [("GRP2612", 30, "60-86400"), ("GXP2160", 100000, "60-86400"), ("HT802", 5256001, "60-5256000")]
)
def test_resync_interval_outside_the_firmware_range_is_refused(model, interval, valid):
    errors = render_errors([{"mac": "c0:74:ad:27:3a:13", "model": model, "lines": [line(1)]}], resync_interval=interval)
    assert len(errors) == 1 and "resync_interval" in errors[0] and valid in errors[0], errors


def test_ht_accepts_the_whole_ata_range():
    files = render_files([{"mac": "c0:74:ad:27:3a:14", "model": "HT801", "lines": [line(1)]}], resync_interval=200000)
    assert p_values(files["cfgc074ad273a14.xml"].content, "gs_provision")["P193"] == "200000"


def test_key_label_over_32_characters_is_refused():
    device = {"mac": MAC, "model": "GRP2612", "lines": [line(1)], "keys": [{"type": "blf", "value": "201", "label": "A" * 33}]}
    errors = render_errors([device])
    assert len(errors) == 1 and MAC in errors[0] and "keys[0].label" in errors[0], errors


def test_ht_firmware_over_another_protocol_than_the_config_is_refused():
    https_firmware = {name: dict(image, url=image["url"].replace("http:", "https:")) for name, image in FIRMWARE.items()}
    errors = render_errors([{"mac": "c0:74:ad:27:3a:15", "model": "HT802", "lines": [line(1)]}], firmware=https_firmware)
    assert len(errors) == 1 and "firmware" in errors[0] and "P212" in errors[0], errors


def test_time_zone_rule_longer_than_p246_is_refused():
    model = catalog.find_models("GRP2612", "grandstream")[0]
    device = {"mac": MAC, "keys": [], "lines": []}
    tz = {"name": "Test/Long", "posix": "ABC-1DEF" + ",M3.5.0/02:00:00" * 4}
    problems = grandstream.lint(device, {"resync_interval": 720, "server_url": "http://x/"}, model, tz)
    assert [field for field, _message in problems] == ["timezone"] and "64" in problems[0][1]


def test_every_model_has_a_family_and_its_keys_fit_the_layout():
    for model in catalog.models_of("grandstream"):
        vpks, mpks = grandstream.KEY_LAYOUT.get(model.name, (0, 0))
        assert grandstream.family(model) and model.keys == vpks + mpks, model.name
        assert mpks <= 24 and (vpks <= 6 or model.name.startswith("GRP")), model.name


def test_user_agent():
    match = ua_match("grandstream", "Grandstream Model HW GXP2135 SW 1.0.7.97 DevId 000b828aa872")
    assert match.group("model") == "GXP2135" and bare(match.group("mac")) == "000b828aa872"
    assert ua_match("grandstream", "Grandstream Model HW HT801 V1.1A SW 1.0.17.5 DevId c074ad273a10").group("model") == "HT801"


def test_resync_event():
    assert catalog.VENDORS["grandstream"].resync_event == "resync"
    assert re.fullmatch(r"[a-z-]+", catalog.VENDORS["grandstream"].resync_event)
