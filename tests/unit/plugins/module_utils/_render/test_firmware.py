"""autoprov_firmware: checked per model, turned into the image URL; models not named get no firmware setting."""

from __future__ import annotations

import pytest
from vendor_helpers import line, render_files

from ansible_collections.pbxops.autoprov.plugins.module_utils._render import firmware

SERVER = "http://prov:Pr0v-s3cret@192.0.2.10:8080/p/Tok3n/"


def test_file_comes_from_the_config_hosts_firmware_directory_without_credentials():
    resolved, errors = firmware.resolve("pbx1", {"T46S": {"file": "T46S-66.86.0.15.rom", "version": "66.86.0.15"}}, None, SERVER)
    assert errors == []
    assert resolved == {
        "T46S": {
            "url": "http://192.0.2.10:8080/p/Tok3n/firmware/T46S-66.86.0.15.rom",
            "version": "66.86.0.15",
            "file": "T46S-66.86.0.15.rom",
        }
    }


def test_url_and_firmware_url_and_vendor_prefixed_names():
    resolved, errors = firmware.resolve(
        "pbx1",
        {
            "Cisco 8851": {"url": "http://192.0.2.30/img/sip88xx.12-0-1MPP.loads", "version": "12.0.1"},
            "SIP-T46S": {"file": "a.rom", "version": "1"},
        },
        "https://192.0.2.30/fw/",
        SERVER,
    )
    assert errors == []
    assert resolved["8851"]["url"] == "http://192.0.2.30/img/sip88xx.12-0-1MPP.loads"
    assert resolved["T46S"]["url"] == "https://192.0.2.30/fw/a.rom"


@pytest.mark.parametrize(
    "item, expected",
    [
        ({"file": "../x.rom", "version": "1"}, r"firmware\['T46S'\] \(autoprov_firmware\)\.file: '\.\./x\.rom' is not a file name"),
        ({"file": "x.rom"}, r"\.version: ''; the image's firmware version"),
        ({"url": "http://192.0.2.30/fw/", "version": "1"}, r"\.url: .* is not the URL of an image file"),
        ({"url": "http://u:p@192.0.2.30/fw/x", "version": "1"}, r"credentials in a firmware URL"),
        ({"file": "x", "url": "http://192.0.2.30/x", "version": "1"}, r"either file .* or url"),
        ({"file": "x", "version": "1", "sha": "1"}, r"\.sha: unknown field; valid: file, url, version"),
        ("x.rom", r"must be a mapping with file or url, and version"),
    ],
)
def test_bad_items_name_host_model_and_field(item, expected):
    resolved, errors = firmware.resolve("pbx1", {"T46S": item}, None, SERVER)
    assert resolved == {} and len(errors) == 1
    assert errors[0].startswith("pbx1: ")
    assert __import__("re").search(expected, errors[0]), errors[0]
    assert "Pr0v-s3cret" not in errors[0]


def test_unknown_model_and_bad_base():
    assert "is not a model of the catalog" in firmware.resolve("pbx1", {"T99Z": {"file": "x", "version": "1"}}, None, SERVER)[1][0]
    assert "ending in /" in firmware.resolve("pbx1", {"T46S": {"file": "x", "version": "1"}}, "http://192.0.2.30/fw", SERVER)[1][0]


def test_a_model_without_firmware_gets_no_firmware_setting():
    files = render_files([{"mac": "00:15:65:4a:a9:37", "model": "T46S", "lines": [line(1)]}], firmware={})
    assert "static.firmware.url" not in files["y000000000066.cfg"].content
    files = render_files([{"mac": "00:04:13:92:2d:24", "model": "D785", "lines": [line(1)]}], firmware={})
    assert "<firmware " not in files["000413922D24.xml"].content
