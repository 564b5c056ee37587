"""The built-in templates are compiled once per user, not once per task: Jinja's bytecode cache.

Every Ansible task runs in a fresh worker process, so without the cache each device_configs task on
each PBX compiles every template anew (bench/fleet). A user's own template_dir is never cached.
"""

from __future__ import annotations

import os
import stat
import tempfile

import jinja2
import pytest
from vendor_helpers import TEMPLATES, line, settings

from ansible_collections.pbxops.autoprov.plugins.module_utils import _devices
from ansible_collections.pbxops.autoprov.plugins.module_utils._render import render as _render

DEVICES = [{"mac": "00:15:65:00:00:01", "model": "T46S", "lines": [line(1)]}]


@pytest.fixture
def private_tmp(tmp_path, monkeypatch):
    """Jinja's per-user cache directory, below a temporary directory of this test."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    return tmp_path / ("_jinja2-cache-%d" % os.getuid())


@pytest.fixture
def compiles(monkeypatch):
    """The names of the templates Jinja compiles from source."""
    seen = []
    original = jinja2.Environment.compile

    def counting(self, source, name=None, filename=None, raw=False, defer_init=False):
        seen.append(name)
        return original(self, source, name, filename, raw, defer_init)

    monkeypatch.setattr(jinja2.Environment, "compile", counting)
    return seen


def render(template_dirs):
    wanted = settings()
    checked, problems = _devices.check_devices("pbx1", [dict(d) for d in DEVICES], wanted)
    assert problems.errors == []
    files, _secrets, errors = _render.Renderer(template_dirs).render("pbx1", checked, wanted)
    assert errors == []
    return {name: f.content for name, f in files.items()}


def test_a_second_renderer_compiles_nothing(private_tmp, compiles):
    first = render([str(TEMPLATES)])
    assert compiles, "the first renderer compiles the templates it uses"
    cached = sorted(p.name for p in private_tmp.iterdir())
    assert cached and all(name.startswith("pbxops-autoprov-") for name in cached)
    assert stat.S_IMODE(private_tmp.stat().st_mode) == 0o700  # Jinja's own check: this user's only
    compiles.clear()
    assert render([str(TEMPLATES)]) == first
    assert compiles == []


def test_a_damaged_entry_is_compiled_again(private_tmp, compiles):
    """Jinja checks each entry (its version, the source's checksum, the code) before it uses one."""
    first = render([str(TEMPLATES)])
    used = sorted(compiles)
    for entry in private_tmp.iterdir():  # cut short, as by a crash while another process wrote them
        entry.write_bytes(entry.read_bytes()[:-8])
    compiles.clear()
    assert render([str(TEMPLATES)]) == first
    assert sorted(compiles) == used, "every damaged entry is compiled again, none is trusted"


def test_a_users_templates_are_never_cached(private_tmp, compiles, tmp_path):
    own = tmp_path / "own"
    (own / "yealink").mkdir(parents=True)
    original = (TEMPLATES / "yealink" / "device.cfg.j2").read_text()
    (own / "yealink" / "device.cfg.j2").write_text("# our own header\n" + original)
    render([str(own), str(TEMPLATES)])
    compiles.clear()
    files = render([str(own), str(TEMPLATES)])
    assert compiles == ["yealink/device.cfg.j2"], compiles
    assert files["001565000001.cfg"].startswith("# our own header\n")


def test_no_private_directory_means_no_cache(monkeypatch, tmp_path):
    """Where Jinja finds no safe directory of this user's own, the templates are compiled every time."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    unsafe = tmp_path / ("_jinja2-cache-%d" % os.getuid())
    unsafe.mkdir(mode=0o777)
    os.chmod(unsafe, 0o777)
    monkeypatch.setattr(os, "chmod", lambda *a, **k: None)  # as if it were another user's directory
    assert _render._builtin_bytecode_cache() is None
    monkeypatch.undo()
    assert render([str(TEMPLATES)])
