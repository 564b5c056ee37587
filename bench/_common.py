"""Shared by the benchmarks in this directory: run under the project's venv, namespaces, figures."""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def use_test_helpers():
    """The benchmarks build their hosts with the test helpers (tests/helpers.py, tests/responder_support.py)."""
    for path in (ROOT / "tests", ROOT / "files" / "responder"):
        if str(path) not in sys.path:
            sys.path.insert(0, str(path))


def percentile(values, fraction):
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def require_root():
    if os.geteuid() != 0:
        sys.exit("this benchmark builds network namespaces: run it as root")


def cpu_seconds(pid):
    """User + system CPU time of a process (Linux /proc), to tell a busy server from a busy client."""
    fields = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
