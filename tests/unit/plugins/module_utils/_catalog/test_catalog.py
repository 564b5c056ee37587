from __future__ import annotations

import re

import pytest

from ansible_collections.pbxops.autoprov.plugins.module_utils._catalog import catalog


@pytest.mark.parametrize("spelling", ["T46S", "t46s", "SIP-T46S", "sip-t46s", "Yealink T46S", "YEALINK SIP-T46S", "T46-S"])
def test_models_match_as_printed_regardless_of_case_and_prefixes(spelling):
    found = catalog.find_models(spelling)
    assert [(m.vendor, m.name) for m in found] == [("yealink", "T46S")]


def test_unknown_model_matches_nothing():
    assert catalog.find_models("T99Z") == []
    assert catalog.find_models("T46S", vendor="nonexistent") == []


def test_vendor_names_and_pnp_spellings_resolve():
    assert catalog.vendor_by_name("Yealink") == "yealink"
    assert catalog.vendor_by_name("YEALINK") == "yealink"
    assert catalog.vendor_by_name("Acme") is None


def test_every_model_is_consistent_with_its_vendor():
    for model in catalog.MODELS:
        vendor = catalog.VENDORS[model.vendor]
        assert model.kind in ("phone", "dect", "ata", "fxs", "conference"), model
        assert model.lines >= 1 and model.keys >= 0, model
        assert set(model.methods) <= set(vendor.methods) <= set(catalog.METHODS), model
        for spec in vendor.files:
            name = catalog.file_name(spec["name"], model, "001565aabbcc")
            assert "{" not in name and name, (model, spec)
            assert spec["scope"] in ("device", "shared")
            # Secrets live only in per-device files: shared ones are served to anyone.
            assert not (spec["scope"] == "shared" and spec["secret"]), spec


def test_every_vendor_file_pattern_names_a_device_file_with_its_mac():
    for vendor in catalog.VENDORS.values():
        device_files = [f for f in vendor.files if f["scope"] == "device"]
        assert device_files, vendor.key
        for spec in device_files:
            assert "{mac}" in spec["name"] or "{MAC}" in spec["name"], spec


def test_user_agent_patterns_are_valid_and_name_their_groups():
    for vendor in catalog.VENDORS.values():
        if vendor.user_agent:
            assert {"model", "firmware"} <= set(vendor.user_agent.groupindex), vendor.key


def test_responder_table_is_json_ready():
    table = catalog.responder_table()
    assert set(table) == set(catalog.VENDORS)
    for entry in table.values():
        if entry["user_agent"]:
            re.compile(entry["user_agent"])
        assert "{url}" in entry["pnp_url"]


def test_method_semantics_of_the_reference_pbx():
    assert catalog.METHODS_AVAILABLE["pnp"] == ("pnp", "dhcp")
    assert catalog.METHODS_AVAILABLE["dhcp"] == ("pnp", "dhcp")
    assert catalog.METHODS_AVAILABLE["rps"] == ("pnp", "dhcp", "rps")
