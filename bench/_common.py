"""Shared by the benchmarks in this directory: run under the project's venv, namespaces, figures."""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_PYTHON = ROOT / ".venv" / "bin" / "python"


def use_project_python():
    """Re-run this script with the project's venv (scripts/test.sh setup), where the test helpers import."""
    if VENV_PYTHON.exists() and Path(sys.executable).resolve() != VENV_PYTHON.resolve() and not os.environ.get("AUTOPROV_BENCH_CHILD"):
        os.environ["AUTOPROV_BENCH_CHILD"] = "1"
        os.execv(str(VENV_PYTHON), [str(VENV_PYTHON), *sys.argv])
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
