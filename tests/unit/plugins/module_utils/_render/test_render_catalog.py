"""Every model of the catalog renders, with as many lines and keys as it has, and no secret leaks into a shared file."""

from __future__ import annotations

import pytest
from vendor_helpers import PROVISIONING_PASSWORD, line, render, render_files

from ansible_collections.pbxops.autoprov.plugins.module_utils import _mac
from ansible_collections.pbxops.autoprov.plugins.module_utils._catalog import catalog as _catalog
from ansible_collections.pbxops.autoprov.plugins.module_utils._render import render as _render

MODELS = [pytest.param(m, id="%s-%s" % (m.vendor, m.name)) for m in _catalog.MODELS]


def mac_for(vendor, number):
    """A MAC the OUI registry gives to the vendor, so that the vendor is found as a user would leave it out."""
    prefixes = {
        "yealink": "001565",
        "fanvil": "0c383e",
        "snom": "000413",
        "grandstream": "000b82",
        "htek": "001fc1",
        "poly": "0004f2",
        "cisco": "00562b",
        "yeastar": "f4b549",
    }
    return prefixes[vendor] + "%06x" % number


@pytest.mark.parametrize("model", MODELS)
def test_model_renders_full(model):
    vendor = _catalog.VENDORS[model.vendor]
    key_types = [t for t in vendor.key_types if t != "line"] or ["line"]
    mac = mac_for(model.vendor, 1)
    assert _catalog.vendor_by_organisation(_mac.oui_organisation(mac)) == model.vendor
    lines = [line(n) for n in range(1, model.lines + 1)]
    # Poly keeps a line key for every registration (vendors/poly.py lint): those keys are line keys.
    reserved = [{"type": "line", "line": n} for n in range(1, model.lines + 1)] if model.vendor == "poly" else []
    keys = (
        reserved
        + [{"type": key_types[n % len(key_types)], "value": str(300 + n), "label": "K%d" % n} for n in range(model.keys - len(reserved))]
        if vendor.key_types
        else []
    )
    files, secrets = render([{"mac": mac, "model": model.name, "lines": lines, "keys": keys}])
    expected = {_catalog.file_name(spec["name"], model, mac) for spec in vendor.files}
    assert set(files) == expected
    bootstrap = {_catalog.file_name(s["name"], model, mac) for s in vendor.files if s.get("holds_credentials")}
    for name, rendered in files.items():
        assert rendered.content.strip()
        if rendered.mac is None or not rendered.secret:
            # A bootstrap file may carry the PBX's HTTP credentials (vendor_helpers' PROVISIONING_PASSWORD), nothing else.
            allowed = {PROVISIONING_PASSWORD} if name in bootstrap else set()
            for secret in secrets - allowed:
                assert secret not in rendered.content, "%s holds a secret" % name
    device_file = next(f for f in files.values() if f.secret)
    for n in (1, model.lines):
        assert "Line%d-s3cret" % n in device_file.content


@pytest.mark.parametrize("vendor", sorted(_catalog.VENDORS))
def test_secret_keys_mask_every_password_of_a_rendered_file(vendor):
    """Diffs of files whose secrets we no longer know are masked by the vendor's secret_keys alone."""
    model = _catalog.models_of(vendor)[-1]
    files, secrets = render([{"mac": mac_for(vendor, 2), "model": model.name, "lines": [line(1), line(2)][: model.lines]}])
    for rendered in files.values():
        masked = _render.mask(rendered.content, set(), vendor)
        for secret in secrets:
            assert secret not in masked, "%s: %s is not masked" % (rendered.name, secret)


def test_two_models_sharing_a_common_file_get_one_file():
    files = render_files(
        [
            {"mac": mac_for("yealink", 3), "model": "T53", "lines": [line(1)]},
            {"mac": mac_for("yealink", 4), "model": "T53W", "lines": [line(1)]},
            {"mac": mac_for("cisco", 5), "model": "6841", "lines": [line(1)]},
            {"mac": mac_for("cisco", 6), "model": "6841", "lines": [line(1)]},
        ]
    )
    assert "T53, T53W" in files["y000000000095.cfg"].content
    assert sorted(n for n, f in files.items() if f.mac is None) == ["6841-3PCC.xml", "y000000000095.cfg"]


@pytest.mark.parametrize(
    "written, vendor, model",
    [
        ("SIP-T46S", "yealink", "T46S"),
        ("yealink t54w", "yealink", "T54W"),
        ("CP-8851-3PCC", "cisco", "8851"),
        ("Edge E220", "poly", "E220"),
        ("VVX_450", "poly", "VVX450"),
        ("snom D785", "snom", "D785"),
        ("grp2612", "grandstream", "GRP2612"),
        ("ta400", "yeastar", "TA400"),
    ],
)
def test_models_are_found_as_printed(written, vendor, model):
    found = _catalog.find_models(written)
    assert [(m.vendor, m.name) for m in found] == [(vendor, model)]


def test_every_vendor_is_complete():
    for key, vendor in _catalog.VENDORS.items():
        assert vendor.user_agent is not None and vendor.user_agent.groupindex.keys() >= {"model", "firmware"}, key
        assert set(vendor.methods) <= set(_catalog.METHODS) and vendor.files and vendor.secret_keys, key
        assert (vendor.rps is None) == ("rps" not in vendor.methods), key
        assert set(vendor.key_types) <= set(_catalog.KEY_TYPES), key
        assert not vendor.languages or {"en", "de", "fr"} <= set(vendor.languages), key  # none: the vendor writes no language
        assert all(p == p.lower() for p in vendor.pnp_names) and (("pnp" in vendor.methods) == bool(vendor.pnp_names)), key
