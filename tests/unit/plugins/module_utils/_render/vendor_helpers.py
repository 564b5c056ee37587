"""Shared by the per-vendor rendering tests: build valid devices, render them, parse the output."""

from __future__ import annotations

import re
from pathlib import Path

from defusedxml import ElementTree

from ansible_collections.pbxops.autoprov.plugins.module_utils import _devices
from ansible_collections.pbxops.autoprov.plugins.module_utils._catalog import catalog as _catalog
from ansible_collections.pbxops.autoprov.plugins.module_utils._render import render as _render

TEMPLATES = Path(__file__).resolve().parents[5] / "templates"

ADMIN_PASSWORD = "Adm1n-s3cret"
FIRMWARE = {m.name: {"url": "http://192.0.2.10/fw/%s.img" % m.name, "version": "1.0", "file": "%s.img" % m.name} for m in _catalog.MODELS}
PROVISIONING_PASSWORD = "Pr0v-s3cret"


def settings(**overrides):
    base = dict(
        sip_server="pbx.example.net",
        sip_port=5060,
        sip_transport="udp",
        server_url="http://192.0.2.10:8080/p/Zt4token/",
        provisioning_username="prov",
        provisioning_password=PROVISIONING_PASSWORD,
        ntp_server="ntp.example.net",
        timezone="Europe/Berlin",
        language="de",
        admin_password=ADMIN_PASSWORD,
        resync_interval=720,
        firmware_url=None,
        # One image per catalog model, as _render/firmware.resolve() gives them.
        firmware=FIRMWARE,
        vlan=42,
        codecs=["G722", "PCMA", "PCMU"],
        voicemail="*97",
        vars={},
    )
    base.update(overrides)
    return base


def line(n, **extra):
    item = {"extension": str(200 + n), "secret": "Line%d-s3cret" % n, "display_name": "User %d & Co <%d>" % (n, n), "label": "L%d" % n}
    item.update(extra)
    return item


def render(devices, **setting_overrides):
    """Validate and render devices; returns {file name: content}, the secrets, and fails on any problem."""
    wanted = settings(**setting_overrides)
    checked, problems = _devices.check_devices("pbx1", devices, wanted)
    assert problems.errors == [], problems.errors
    files, secrets, errors = _render.Renderer([str(TEMPLATES)]).render("pbx1", checked, wanted)
    assert errors == [], errors
    return files, secrets


def render_files(devices, **setting_overrides):
    return render(devices, **setting_overrides)[0]


def render_errors(devices, **setting_overrides):
    wanted = settings(**setting_overrides)
    checked, problems = _devices.check_devices("pbx1", devices, wanted)
    assert problems.errors == [], problems.errors
    return _render.Renderer([str(TEMPLATES)]).render("pbx1", checked, wanted)[2]


def check_errors(devices, **setting_overrides):
    """The validation errors for devices (before any rendering)."""
    return _devices.check_devices("pbx1", devices, settings(**setting_overrides))[1].errors


def xml_root(content, tag):
    root = ElementTree.fromstring(content.encode("utf-8"))
    assert root.tag == tag, root.tag
    return root


def p_values(content, root_tag):
    """{P-number: text} of a Grandstream/Htek provisioning file."""
    root = xml_root(content, root_tag)
    return {child.tag: (child.text or "") for child in root.find("config")}


def assert_no_secrets(content, secrets):
    for secret in secrets:
        assert secret not in content


def ua_match(vendor, user_agent):
    match = _catalog.VENDORS[vendor].user_agent.search(user_agent)
    assert match, user_agent
    return match


def bare(mac):
    return re.sub(r"[^0-9a-f]", "", mac.lower())
