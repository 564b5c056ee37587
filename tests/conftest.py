"""pytest setup shared by tests/unit and tests/integration."""

from __future__ import annotations

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
