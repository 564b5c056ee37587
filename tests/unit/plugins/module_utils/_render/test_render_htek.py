"""Htek UC9xx: what the reference rows cannot express: the file set, secrets, key ranges, lint errors.

The keys and encodings themselves are asserted by templates/htek/reference.yml (test_reference.py).
"""

from __future__ import annotations

import pytest
from vendor_helpers import PROVISIONING_PASSWORD, bare, line, p_values, render, render_errors, ua_match

from ansible_collections.pbxops.autoprov.plugins.module_utils._catalog import catalog
from ansible_collections.pbxops.autoprov.plugins.module_utils._catalog.vendors import htek

MAC = "00:1f:c1:1c:22:a9"


@pytest.fixture(scope="module")
def uc924():
    device = {
        "mac": MAC,
        "model": "UC924",
        "lines": [line(n, transport="tls") for n in range(1, 7)],
        "keys": [
            {"type": "line", "line": 2},
            {"type": "blf", "value": "201", "label": "Anna"},
            {"type": "speeddial", "value": "555", "index": 5},
            {"type": "park", "value": "700", "index": 28},
        ],
    }
    return render([device], timezone="Asia/Kolkata")


def test_one_secret_file_per_device(uc924):
    files, _secrets = uc924
    assert list(files) == ["cfg001fc11c22a9.xml"] and files["cfg001fc11c22a9.xml"].secret


def test_secret_values_are_masked(uc924):
    content = uc924[0]["cfg001fc11c22a9.xml"].content
    masked = {m.group("v") for pattern in catalog.VENDORS["htek"].secret_keys for m in pattern.finditer(content)}
    assert {PROVISIONING_PASSWORD} | {"Line%d-s3cret" % n for n in range(1, 7)} <= masked
    assert "prov" not in masked


def test_six_accounts_and_the_key_ranges(uc924):
    p = p_values(uc924[0]["cfg001fc11c22a9.xml"].content, "hl_provision")
    accounts = [htek.ACCOUNTS[n] for n in range(6)]
    assert [p["P%d" % a["user"]] for a in accounts] == ["201", "202", "203", "204", "205", "206"]
    assert [p["P%d" % a["active"]] for a in accounts] == ["1"] * 6
    # Accounts 5-6 have no per-account server on any firmware: profile 1 only.
    assert [k for k in ("P47", "P747", "P502", "P602") if k in p] == ["P47", "P747", "P502", "P602"]
    assert (p["P41200"], p["P41500"]) == ("1", "1")
    assert (p["P20200"], p["P20201"], p["P20604"]) == ("2", "555", "0")
    assert (p["P20315"], p["P20316"], p["P20627"]) == ("8", "700", "0")


def test_offset_without_htek_code_is_an_error():
    errors = render_errors([{"mac": MAC, "model": "UC903", "lines": [line(1)]}], timezone="Asia/Kathmandu")
    assert len(errors) == 1 and "Asia/Kathmandu" in errors[0] and "timezone" in errors[0] and "+5:30" in errors[0], errors


def test_lines_on_another_server_are_refused():
    errors = render_errors([{"mac": MAC, "model": "UC926", "lines": [line(1), line(2, server="other.example.net")]}])
    assert len(errors) == 1 and MAC in errors[0] and "lines[1].server" in errors[0] and "profile 1" in errors[0], errors


def test_every_model_has_at_most_the_accounts_and_keys_htek_numbers():
    for model in catalog.models_of("htek"):
        assert model.lines <= len(htek.ACCOUNTS) and model.keys <= 36, model.name


def test_user_agent():
    match = ua_match("htek", "Htek UC903 2.0.4.2 00:1f:c1:1c:22:a9")
    assert match.group("model") == "UC903" and bare(match.group("mac")) == "001fc11c22a9"


def test_resync_event():
    assert catalog.VENDORS["htek"].resync_event == "resync"
