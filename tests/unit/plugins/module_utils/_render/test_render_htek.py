"""Htek UC9xx: cfg<mac>.xml, <hl_provision> P-values."""

from __future__ import annotations

import pytest
from vendor_helpers import ADMIN_PASSWORD, bare, line, p_values, render_errors, render_files, ua_match

MAC = "00:1f:c1:1c:22:a9"


@pytest.fixture(scope="module")
def uc924():
    device = {
        "mac": MAC,
        "model": "UC924",
        "lines": [line(1), line(2, transport="tls")],
        "keys": [
            {"type": "line", "line": 2},
            {"type": "blf", "value": "201", "label": "Anna"},
            {"type": "speeddial", "value": "555", "index": 6},
            {"type": "park", "value": "700", "index": 28},
        ],
    }
    files = render_files([device], timezone="Asia/Kolkata")
    return files


def test_file_name(uc924):
    assert list(uc924) == ["cfg001fc11c22a9.xml"]


def test_values(uc924):
    p = p_values(uc924["cfg001fc11c22a9.xml"].content, "hl_provision")
    assert (p["P35"], p["P34"], p["P47"]) == ("201", "Line1-s3cret", "pbx.example.net:5060")
    assert (p["P404"], p["P406"], p["P448"]) == ("202", "Line2-s3cret", "2")
    # keys 1-4 and 5-36 are numbered in two ranges
    assert (p["P41200"], p["P41500"]) == ("1", "1")
    assert (p["P41201"], p["P41301"], p["P41401"]) == ("3", "201", "Anna")
    assert (p["P20205"], p["P20206"]) == ("2", "555")
    assert (p["P20315"], p["P20316"]) == ("8", "700")
    assert p["P64"] == "84" and p["P30"] == "ntp.example.net"
    assert p["P2"] == ADMIN_PASSWORD


def test_offset_without_htek_code_is_an_error():
    errors = render_errors([{"mac": MAC, "model": "UC903", "lines": [line(1)]}], timezone="Asia/Kathmandu")
    assert len(errors) == 1 and "Asia/Kathmandu" in errors[0] and "00:1f:c1:1c:22:a9" in errors[0]


def test_user_agent():
    match = ua_match("htek", "Htek UC903 2.0.4.2 00:1f:c1:1c:22:a9")
    assert match.group("model") == "UC903" and bare(match.group("mac")) == "001fc11c22a9"
