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


def make_devices(count, first_mac=0):
    """`count` devices of one PBX, cycling through every catalog model that has a line.

    MACs are numbered from `first_mac` (give each PBX of a fleet its own range: a MAC belongs
    to one PBX only); extensions start at 1000 on every PBX.
    """
    collections = str(ROOT / ".ansible" / "collections")
    if collections not in sys.path:
        sys.path.insert(0, collections)
    from ansible_collections.pbxops.autoprov.plugins.module_utils._catalog import catalog

    models = [m for m in catalog.MODELS if m.lines >= 1]
    devices = []
    for n in range(count):
        model = models[n % len(models)]
        # Locally administered MACs with the vendor written out: no OUI look-up decides anything.
        m = first_mac + n
        mac = "02:%02x:%02x:%02x:%02x:%02x" % (m >> 32 & 255, m >> 24 & 255, m >> 16 & 255, m >> 8 & 255, m & 255)
        lines = [{"extension": str(1000 + n), "secret": "bench-secret-%d-a" % m, "display_name": "User %d" % n}]
        if model.lines > 1:
            lines.append({"extension": str(50000 + n), "secret": "bench-secret-%d-b" % m})
        # Up to 3 BLF keys, and never more than leave one key per line (Poly's line keys share the keys).
        blf = max(0, min(3, model.keys - len(lines)))
        keys = [{"type": "blf", "value": str(2000 + (n + k) % count), "label": "Peer %d" % k} for k in range(blf)]
        devices.append({"mac": mac, "vendor": model.vendor, "model": model.name, "lines": lines, "keys": keys})
    return devices
