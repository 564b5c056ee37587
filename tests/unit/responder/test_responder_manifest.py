"""The manifest as the responder reads it: vendors, User-Agents, reload without restart."""

from __future__ import annotations

import json
import os
import time

import pytest
from responder_support import VENDORS, user_agent, write_root

from autoprov_responder import manifest


class Log:
    def __init__(self):
        self.events = []

    def event(self, level, name, **fields):
        self.events.append((level, name, fields))


@pytest.mark.parametrize("vendor", sorted(VENDORS))
def test_user_agents(vendor):
    m = manifest.parse({"format": 2, "vendors": VENDORS})
    info = m.user_agent(user_agent(vendor, "001565aabb01"))
    assert info.vendor == vendor and info.model and info.firmware
    assert info.mac == (None if vendor == "snom" else "001565aabb01")  # Snom's UA carries no MAC
    assert m.user_agent("curl/7.88.1") is manifest.NO_UA


def test_pnp_names():
    m = manifest.parse({"format": 2, "vendors": VENDORS})
    assert m.vendor_for_pnp_name("Yealink") == "yealink" and m.vendor_for_pnp_name(" OEM ") == "snom"
    assert m.vendor_for_pnp_name("acme") is None and m.vendor_for_pnp_name(None) is None


@pytest.mark.parametrize(
    "data, message",
    [
        ({"format": 1}, "format 1; this responder reads format 2"),
        ({"format": 2, "files": {"a.cfg": {"mac": None}}}, "files.a.cfg.sha256"),
        ({"format": 2, "devices": {"001565aabb01": {"window": "soon"}}}, "devices.001565aabb01.window"),
        ({"format": 2, "public_dirs": ["../etc"]}, "public_dirs: '../etc'"),
        ({"format": 2, "vendors": {"x": {"user_agent": "("}}}, "vendors.x.user_agent: not a regular expression"),
        ({"format": 2, "vendors": {"x": {"pnp_url": "{url}{serial}"}}}, "unknown placeholder"),
        ({"format": 2, "files": {"a.cfg": {"mac": "00:15:65:AA:BB:01"}}}, "files.a.cfg.mac"),
        ({"format": 2, "devices": {"XYZ": {}}}, "devices: 'XYZ'"),
        ([], "not a JSON object"),
    ],
)
def test_bad_manifests(data, message):
    with pytest.raises(manifest.ManifestError) as exc:
        manifest.parse(data)
    assert message in str(exc.value)


def test_watcher_fails_closed_on_a_broken_manifest(tmp_path):
    log = Log()
    watcher = manifest.ManifestWatcher(str(tmp_path), log, check_interval=0)
    assert not watcher.get().valid and log.events[-1][1] == "manifest_missing"
    write_root(tmp_path, {"001565aabb01": {"vendor": "yealink", "model": "T46S", "files": {"a.cfg": ("x", True)}}})
    assert set(watcher.get().devices) == {"001565aabb01"} and watcher.get().files["a.cfg"].secret
    path = tmp_path / manifest.MANIFEST
    path.write_text("{broken")
    os.utime(path, (time.time() + 5, time.time() + 5))
    assert not watcher.get().valid and watcher.get().files == {}  # nothing is served without a valid manifest
    assert log.events[-1][1] == "manifest_invalid"
    path.write_text(json.dumps({"format": 2, "devices": {}}))
    os.utime(path, (time.time() + 10, time.time() + 10))
    assert watcher.get().valid and watcher.get().devices == {}
