"""pytest setup shared by tests/unit and tests/integration."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
# The collection as Ansible sees it (scripts/lib.sh: ensure_collection), and our helpers.
for path in (ROOT / ".ansible" / "collections", TESTS, ROOT / "files" / "responder"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from helpers import Netns, have_netns  # noqa: E402


@pytest.fixture
def netns():
    """Network namespaces for one test (root only); all deleted afterwards."""
    if not have_netns():
        pytest.skip("needs root and iproute2 for network namespaces")
    spaces = Netns()
    try:
        yield spaces
    finally:
        spaces.close()


@pytest.fixture(scope="session")
def nspawn_host():
    """A booted Debian bookworm container with systemd, reached over SSH (tests/nspawn.py); stopped at the end."""
    import nspawn

    if os.geteuid() != 0 or nspawn.missing_tools():
        pytest.skip("needs root and %s" % (", ".join(nspawn.missing_tools()) or "systemd-nspawn"))
    rootfs, build_seconds = nspawn.build_rootfs()
    host = nspawn.NspawnHost(rootfs, nspawn.ssh_key()).boot()
    sys.stderr.write(
        "\nnspawn host %s at %s: rootfs build %.1fs, boot to SSH %.1fs\n" % (host.name, host.address, build_seconds, host.boot_seconds)
    )
    try:
        yield host
    finally:
        host.stop()
