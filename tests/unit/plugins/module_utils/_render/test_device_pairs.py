"""Each device its own HTTP pair (device_key): the controller writes into a device's files the pair the
responder accepts for that device, on the keys each vendor's reference rows give for the provisioning
credentials; files shared by several devices keep the PBX-wide pair."""

from __future__ import annotations

import hashlib
import hmac
import random

import pytest
import reference as ref
from vendor_helpers import line, settings

from ansible_collections.pbxops.autoprov.plugins.module_utils import _device_pairs as credentials
from ansible_collections.pbxops.autoprov.plugins.module_utils import _devices
from ansible_collections.pbxops.autoprov.plugins.module_utils._catalog import catalog
from ansible_collections.pbxops.autoprov.plugins.module_utils._render import render as _render
from autoprov_responder import auth as responder_auth
from autoprov_responder import config as responder_config

KEY = "Device-key-from-Vault-0123456789"
PBX_USER, PBX_PASSWORD = "prov", "Pr0v-s3cret"  # reference.py's fixture


def _spec_password(key, mac):
    """docs/responder.md, auth.device_key: the first 24 hex digits of HMAC-SHA256(key, label + MAC)."""
    return hmac.new(key.encode(), b"pbxops.autoprov device password\0" + mac.encode(), hashlib.sha256).hexdigest()[:24]


def test_the_pair_is_the_documented_derivation_and_the_one_the_responder_accepts():
    rng = random.Random(7)
    for _round in range(200):
        mac = "%012x" % rng.getrandbits(48)
        key = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789-_!") for _char in range(rng.randint(16, 64)))
        user, password = credentials.device_pair(key, mac)
        assert (user, password) == (mac, _spec_password(key, mac))
        assert password == responder_auth.device_password(key, mac)
        auth = responder_config.AuthConfig("autoprov", "secret", None, {}, device_key=key)
        [(kind, owner, found)] = auth.identify(user, mac)
        assert (kind, owner, found.password) == (auth.DEVICE, mac, password)
    assert credentials.KEY_MIN == responder_config._DEVICE_KEY_MIN


def _credential_rows():
    """Reference rows whose value holds the fixture's PBX-wide provisioning user or password."""
    for vendor, reference in sorted(ref.references().items()):
        for number, row in enumerate(reference.get("settings") or []):
            value = str(row.get("value", ""))
            if row.get("absent") or row.get("given") or not (value == PBX_USER or PBX_PASSWORD in value):
                continue
            yield vendor, number, row


ROWS = list(_credential_rows())


def test_every_vendor_has_rows_for_the_provisioning_credentials_of_its_device_file():
    shared = {v for v, _n, r in ROWS if _is_device_file(v, r["file"])}
    assert shared == set(catalog.VENDORS), "vendors without a device-file credential row: %s" % sorted(set(catalog.VENDORS) - shared)


def _is_device_file(vendor, pattern):
    return any(spec["name"] == pattern and spec["scope"] == "device" for spec in catalog.VENDORS[vendor].files)


def _with_device_pair(value, user, password):
    value = value.replace(PBX_PASSWORD, password)
    return user if value == PBX_USER else value.replace("--uid %s " % PBX_USER, "--uid %s " % user)


@pytest.mark.parametrize("vendor, number, row", [pytest.param(*r, id="%s-%d-%s" % (r[0], r[1], r[2]["key"])) for r in ROWS])
def test_a_device_file_carries_the_device_pair_and_a_shared_file_the_pbx_pair(vendor, number, row):
    reference = ref.references()[vendor]
    user, password = credentials.device_pair(KEY, ref.BARE_MAC)
    for model in ref.models_of(vendor, row.get("models")):
        files = ref.render(vendor, model, None, device_key=KEY)
        name = ref.file_name(row["file"], model)
        found = ref.read(reference["format"], files[name], row["key"])
        wanted = _with_device_pair(row["value"], user, password) if _is_device_file(vendor, row["file"]) else row["value"]
        assert found == ref.expected(wanted, model), "%s %s: %s in %s" % (vendor, model.name, row["key"], name)
        if _is_device_file(vendor, row["file"]):
            assert PBX_PASSWORD not in files[name], "%s still carries the PBX-wide password" % name


def test_two_devices_get_different_pairs_and_every_pair_is_a_secret_to_mask():
    devices = [
        {"mac": "00:15:65:00:00:01", "model": "SIP-T46S", "lines": [line(1)]},
        {"mac": "00:15:65:00:00:02", "model": "SIP-T46S", "lines": [line(2)]},
    ]
    wanted = settings()
    checked, problems = _devices.check_devices("pbx1", devices, wanted)
    assert problems.errors == []
    files, secrets, errors = _render.Renderer([str(ref.TEMPLATES)]).render("pbx1", checked, wanted, KEY)
    assert errors == []
    first, second = (credentials.device_pair(KEY, mac)[1] for mac in ("001565000001", "001565000002"))
    assert first != second and {first, second} <= secrets
    assert first in files["001565000001.cfg"].content and second not in files["001565000001.cfg"].content
    assert _render.MASK in _render.mask(files["001565000001.cfg"].content, secrets, "yealink")
    assert first not in _render.mask(files["001565000001.cfg"].content, secrets, "yealink")


def test_without_a_device_key_the_files_carry_the_pbx_pair():
    files = ref.render("yealink", catalog.find_models("SIP-T46S", "yealink")[0], None)
    assert "static.auto_provision.server.password = %s" % PBX_PASSWORD in files[ref.BARE_MAC + ".cfg"]


def test_the_derived_key_is_the_responders_and_an_explicit_key_wins():
    for password in ("Pr0v-s3cret", "phones:p@ss wörd", "x"):
        derived = hmac.new(password.encode(), b"pbxops.autoprov device key\0", hashlib.sha256).hexdigest()  # docs/responder.md
        assert credentials.key_from_password(password) == derived == responder_auth.device_key_from_password(password)
        assert credentials.device_key(None, True, password) == derived
        assert credentials.device_key(KEY, True, password) == KEY
        assert credentials.device_key(None, False, password) is None
    assert credentials.device_key(None, True, None) is None  # no PBX-wide password: nothing to derive from
