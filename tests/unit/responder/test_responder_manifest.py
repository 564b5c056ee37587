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
    m = manifest.parse({"format": 1, "vendors": VENDORS})
    info = m.user_agent(user_agent(vendor, "001565aabb01"))
    assert info.vendor == vendor and info.model and info.firmware
    assert info.mac == (None if vendor == "snom" else "001565aabb01")  # Snom's UA carries no MAC
    assert m.user_agent("curl/7.88.1") is manifest.NO_UA


def test_pnp_names():
    m = manifest.parse({"format": 1, "vendors": VENDORS})
    assert m.vendor_for_pnp_name("Yealink") == "yealink" and m.vendor_for_pnp_name(" OEM ") == "snom"
    assert m.vendor_for_pnp_name("acme") is None and m.vendor_for_pnp_name(None) is None


@pytest.mark.parametrize(
    "data, message",
    [
        ({"format": 2}, "format 2"),
        ({"format": 1, "vendors": {"x": {"user_agent": "("}}}, "vendors.x.user_agent: not a regular expression"),
        ({"format": 1, "vendors": {"x": {"pnp_url": "{url}{serial}"}}}, "unknown placeholder"),
        ({"format": 1, "files": {"a.cfg": {"mac": "00:15:65:AA:BB:01"}}}, "files.a.cfg.mac"),
        ({"format": 1, "devices": {"XYZ": {}}}, "devices: 'XYZ'"),
        ([], "not a JSON object"),
    ],
)
def test_bad_manifests(data, message):
    with pytest.raises(manifest.ManifestError) as exc:
        manifest.parse(data)
    assert message in str(exc.value)


def test_watcher_reloads_and_keeps_the_last_good(tmp_path):
    log = Log()
    watcher = manifest.ManifestWatcher(str(tmp_path), log, check_interval=0)
    assert watcher.get().devices == {} and log.events[-1][1] == "manifest_missing"
    write_root(tmp_path, {"001565aabb01": {"vendor": "yealink", "model": "T46S", "files": {"a.cfg": ("x", True)}}})
    assert set(watcher.get().devices) == {"001565aabb01"} and watcher.get().files["a.cfg"].secret
    path = tmp_path / manifest.MANIFEST
    path.write_text("{broken")
    os.utime(path, (time.time() + 5, time.time() + 5))
    assert set(watcher.get().devices) == {"001565aabb01"}  # still the last good one
    assert log.events[-1][1] == "manifest_invalid"
    path.write_text(json.dumps({"format": 1, "devices": {}}))
    os.utime(path, (time.time() + 10, time.time() + 10))
    assert watcher.get().devices == {}
