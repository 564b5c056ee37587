"""Fanvil X series: one <mac>.cfg, XML <sysConf>."""

from __future__ import annotations

import pytest
from vendor_helpers import ADMIN_PASSWORD, PROVISIONING_PASSWORD, bare, check_errors, line, render_errors, render_files, ua_match, xml_root

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


def test_keys_fill_the_side_block_then_the_pages(x4u):
    root = xml_root(x4u["0c383e07e16c.cfg"].content, "sysConf")
    side = root.find("dsskey/dssSide[@index='1']")
    assert [(k.get("index"), k.findtext("Value")) for k in side] == [("1", "SIP2"), ("2", "201@1/ba")]
    # key 8 of an X4U: 3 side keys, then pages of 6 -> page 1, position 5
    assert root.findtext("dsskey/internal[@index='1']/Fkey[@index='5']/Value") == "700@1/c"
    assert root.findtext("dsskey/FuncKeyPageNum") == "1"
    assert root.findtext("sip/line[@index='2']/DisplayName") == "User 2 & Co <2>"


def test_secrets_are_only_in_the_device_file(x4u):
    content = x4u["0c383e07e16c.cfg"].content
    for secret in (ADMIN_PASSWORD, PROVISIONING_PASSWORD, "Line1-s3cret", "Line2-s3cret"):
        assert secret in content


def test_a_key_beyond_the_model_layout_is_refused():
    device = {"mac": MAC, "model": "X3U", "lines": [line(1)], "keys": [{"type": "blf", "value": "201", "index": 4}]}
    errors = check_errors([device])
    assert errors == ["pbx1: device %s (autoprov_devices[0]): keys[0].index: 4; the X3U has keys 1-3" % MAC]


@pytest.mark.parametrize(
    "overrides, valid",
    [
        ({"timezone": "America/Nuuk"}, "whole hours 0-23"),
        ({"codecs": ["G722", "AMR"]}, "valid: G722, G723, G726, G729, ILBC, OPUS, PCMA, PCMU"),
    ],
)
def test_lint_refuses_what_the_firmware_rejects(overrides, valid):
    device = {"mac": MAC, "model": "X4U", "lines": [line(1)]}
    errors = render_errors([device], **overrides)
    field = next(iter(overrides))
    assert len(errors) == 1 and errors[0].startswith("pbx1: %s (autoprov_%s): " % (field, field)) and valid in errors[0], errors


def test_unsupported_key_type_is_an_error_naming_device_and_key():
    device = {"mac": MAC, "model": "X4U", "lines": [line(1)], "keys": [{"type": "url", "value": "http://x/"}]}
    errors = check_errors([device])
    assert errors == ["pbx1: device %s (autoprov_devices[0]): keys[0].type: 'url'; valid for Fanvil: line, blf, speeddial, park" % MAC]


def test_user_agent():
    match = ua_match("fanvil", "Fanvil X4 2.10.2.6887 0c383e07e16c")
    assert match.group("model") == "X4" and bare(match.group("mac")) == "0c383e07e16c"
    assert ua_match("fanvil", "Fanvil X6U 2.12.1 0c383e123456").group("model") == "X6U"
    assert ua_match("fanvil", "Fanvil X6U Pro 0.0.10 0c383e2cd782").group("model") == "X6U Pro"
    assert ua_match("fanvil", "Fanvil X5U-V2 2.12.16.17 0c383e557eb1").group("model") == "X5U-V2"
