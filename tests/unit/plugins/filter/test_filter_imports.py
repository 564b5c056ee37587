"""Loading our filter files stays cheap: each task's worker process imports all of them as soon as it
templates any one (bench/fleet), so what only some filters need is imported when they run."""

from __future__ import annotations

import json
import os
import subprocess
import sys

HEAVY = ["requests", "urllib3", "mohawk", "netaddr", "ansible_collections.pbxops.autoprov.plugins.module_utils._catalog.catalog"]


def imported_after(statement):
    code = "import sys; %s; print(__import__('json').dumps(sorted(sys.modules)))" % statement
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))  # where the tests find the collection
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    return set(json.loads(out.stdout))


def test_loading_the_filter_files_imports_nothing_heavy():
    base = "from ansible_collections.pbxops.autoprov.plugins.filter import %s"
    modules = imported_after("; ".join(base % name for name in ("inventory", "mac", "urls")))
    assert "ansible_collections.pbxops.autoprov.plugins.filter.inventory" in modules
    assert [name for name in HEAVY if name in modules] == []


def test_the_filters_still_import_what_they_use():
    modules = imported_after(
        "from ansible_collections.pbxops.autoprov.plugins.filter import inventory; inventory.rps_groups([], {'yealink': 'yealink_ymcs'})"
    )
    assert "ansible_collections.pbxops.autoprov.plugins.module_utils._rps.clients" in modules
