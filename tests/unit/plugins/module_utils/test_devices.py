from __future__ import annotations

import pytest

from ansible_collections.pbxops.autoprov.plugins.module_utils import _devices
from ansible_collections.pbxops.autoprov.plugins.module_utils._catalog import catalog

SETTINGS = {"sip_server": "192.0.2.10", "sip_port": 5060, "sip_transport": "udp", "voicemail": "*97"}


def phone(mac="00:15:65:aa:bb:01", model="T46S", **extra):
    device = {"mac": mac, "model": model, "lines": [{"extension": 101, "secret": "s3cret-101"}]}
    device.update(extra)
    return device


def check(devices, method=None, fleet=None):
    return _devices.check_devices("pbx1", devices, SETTINGS, method, fleet)


def test_a_good_device_is_normalised_with_defaults():
    devices, problems = check([phone(mac="00-15-65-AA-BB-01", model="sip-t46s")])
    assert problems.errors == []
    (device,) = devices
    assert device["mac"] == "001565aabb01"
    assert device["vendor"] == "yealink"  # from the OUI
    assert device["model"] == "T46S"
    line = device["lines"][0]
    assert line["extension"] == "101" and line["auth_user"] == "101" and line["display_name"] == "101"
    assert line["server"] == "192.0.2.10" and line["port"] == 5060 and line["transport"] == "udp"
    assert line["voicemail"] == "*97"


def test_every_problem_is_reported_with_host_mac_and_field():
    devices = [
        phone(mac="00:15:65:zz:bb:01"),
        phone(mac="00:15:65:aa:bb:02", model="T99X"),
        phone(mac="00:15:65:aa:bb:03", lines=[{"extension": 103}]),
        phone(mac="00:15:65:aa:bb:02"),
        phone(mac="00:15:65:aa:bb:05", vendor="acme"),
        phone(mac="00:15:65:aa:bb:06", colour="red"),
    ]
    ignored, problems = check(devices)
    text = "\n".join(problems.errors)
    assert "pbx1: device 00:15:65:zz:bb:01 (autoprov_devices[0]): mac: " in text
    assert "device 00:15:65:aa:bb:02 (autoprov_devices[1]): model: unknown Yealink model 'T99X'; valid: " in text
    assert "device 00:15:65:aa:bb:03 (autoprov_devices[2]): lines[0].secret: missing" in text
    assert "device 00:15:65:aa:bb:02 (autoprov_devices[3]): mac: duplicate: also autoprov_devices[1]" in text
    assert "device 00:15:65:aa:bb:05 (autoprov_devices[4]): vendor: unknown vendor 'acme'; valid: " in text
    assert "device 00:15:65:aa:bb:06 (autoprov_devices[5]): colour: unknown field; valid: mac, model" in text
    assert len(problems.errors) == 6


def test_more_lines_or_keys_than_the_model_has():
    model = catalog.find_models("T31G")[0]
    lines = [{"extension": 100 + i, "secret": "x%d" % i} for i in range(model.lines + 1)]
    keys = [{"type": "blf", "value": str(200 + i)} for i in range(model.keys + 1)]
    ignored, problems = check([phone(model="T31G", lines=lines, keys=keys)])
    text = "\n".join(problems.errors)
    assert "lines: %d lines, but the T31G has %d accounts" % (model.lines + 1, model.lines) in text
    assert "keys: %d keys, but the T31G has %d programmable keys" % (model.keys + 1, model.keys) in text


def test_key_checks():
    keys = [{"type": "laser", "value": "1"}, {"type": "blf", "value": "102", "line": 3}, {"type": "blf", "index": 1, "value": "103"}]
    ignored, problems = check([phone(keys=keys)])
    text = "\n".join(problems.errors)
    assert "keys[0].type: 'laser'; valid for Yealink: line, blf" in text
    assert "keys[1].line: 3; this device has lines 1-1" in text
    assert "keys[2].index: key 1 is set twice" in text


def test_secrets_are_never_echoed_in_errors():
    ignored, problems = check([phone(lines=[{"extension": 101, "secret": "hunter2\nxyzzy"}])])
    text = "\n".join(problems.errors)
    assert "lines[0].secret: the value contains a control character" in text
    assert "hunter2" not in text and "xyzzy" not in text


def test_control_characters_cannot_inject_config_lines():
    ignored, problems = check([phone(lines=[{"extension": 101, "secret": "x", "display_name": "A\naccount.1.password = y"}])])
    assert any("lines[0].display_name" in e and "control character" in e for e in problems.errors)


def test_vendor_contradicting_the_oui_warns_but_is_used():
    other = next((v for v in catalog.VENDORS if v != "yealink"), None)
    if other is None:
        pytest.skip("needs a second vendor in the catalog")
    model = catalog.models_of(other)[0]
    devices, problems = check([phone(vendor=other, model=model.name, lines=[])])
    assert problems.errors == []
    assert devices[0]["vendor"] == other
    assert any("OUI is registered to" in w for w in problems.warnings)


def test_vendor_needed_when_neither_oui_nor_model_tell():
    ignored, problems = check([phone(mac="02:00:00:00:00:01", model="X99")])
    assert any("vendor: missing, and neither the MAC's OUI" in e for e in problems.errors)


def test_duplicate_across_pbxes_of_the_play():
    ignored, problems = check([phone()], fleet={"pbx2": [{"mac": "001565AABB01"}], "pbx1": [phone()]})
    assert problems.errors == [
        "pbx1: device 00:15:65:aa:bb:01 (autoprov_devices[0]): mac: duplicate: also a device of PBX pbx2; a MAC may belong to one PBX only"
    ]


def test_device_method_must_be_supported_and_available():
    ignored, problems = check([phone(method="rps")], method="pnp")
    assert any("method: rps is not available when the PBX's autoprov_method is pnp" in e for e in problems.errors)
    ignored, problems = check([phone(method="carrier-pigeon")])
    assert any("method: unknown method 'carrier-pigeon'" in e for e in problems.errors)


@pytest.mark.parametrize("vendor, method", [("snom", "dhcp"), ("yeastar", "rps")])
def test_catalog_method_limits(vendor, method):
    if vendor not in catalog.VENDORS:
        pytest.skip("%s not in the catalog yet" % vendor)
    model = catalog.models_of(vendor)[0]
    ignored, problems = check([phone(mac="02:00:00:00:00:09", vendor=vendor, model=model.name, method=method, lines=[])], method="rps")
    assert any("cannot be provisioned by %s" % method in e for e in problems.errors)


class _AnsibleTaggedDict(dict):
    """What Ansible hands over for an inventory mapping: a subclass, whose name the message must not show."""


def test_not_a_list():
    ignored, problems = check({"mac": "x"})
    assert problems.errors == ["pbx1: autoprov_devices: must be a list of devices, not dict"]
    ignored, problems = check(_AnsibleTaggedDict(mac="x"))
    assert problems.errors == ["pbx1: autoprov_devices: must be a list of devices, not dict"]


def test_oui_contradicting_the_model_is_named_a_conflict():
    # 00:15:65 is Yealink's OUI; X4U is a Fanvil model: either may be the typo, so both are named.
    _devices_, problems = check([phone(model="X4U")])
    (error,) = problems.errors
    assert error.startswith(
        "pbx1: device 00:15:65:aa:bb:01 (autoprov_devices[0]): mac/model: conflict: the MAC's OUI is registered to Yealink"
    )
    assert "but X4U is a Fanvil model; check the MAC, or the model, or set vendor if the device really is a Fanvil" in error
    assert "unknown Yealink model" not in error


def test_a_model_of_another_vendor_with_the_vendor_given_says_whose_it_is():
    _devices_, problems = check([phone(model="X4U", vendor="yealink")])
    assert "model: unknown Yealink model 'X4U' (X4U is a Fanvil model); valid: T30" in problems.errors[0]


def test_the_pbx_language_is_checked_per_vendor_once():
    devices = [phone(), phone(mac="00:15:65:aa:bb:02"), phone(mac="0c:38:3e:07:e1:6c", model="X4U")]
    _devices_, problems = _devices.check_devices("pbx1", devices, dict(SETTINGS, language="english"))
    assert len(problems.errors) == 2, problems.errors  # Yealink once (two phones), Fanvil once
    yealink = problems.errors[0]
    assert yealink.startswith("pbx1: language (autoprov_language): 'english' is not a language for Yealink; valid: de, en, es")
    assert "(or Yealink's own names: Dutch, English," in yealink
    assert problems.errors[1].startswith("pbx1: language (autoprov_language): 'english' is not a language for Fanvil")


def test_language_codes_and_the_vendors_own_names_pass_and_a_device_override_is_its_own_error():
    ok = [phone(), phone(mac="00:15:65:aa:bb:02", vars={"language": "German"})]
    assert _devices.check_devices("pbx1", ok, dict(SETTINGS, language="de"))[1].errors == []
    bad = [phone(), phone(mac="00:15:65:aa:bb:02", vars={"language": "ja"})]
    (error,) = _devices.check_devices("pbx1", bad, dict(SETTINGS, language="en"))[1].errors
    assert error.startswith("pbx1: device 00:15:65:aa:bb:02 (autoprov_devices[1]): vars.language: 'ja' is not a language for Yealink")
