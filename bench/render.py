"""Benchmark: render and ship N devices of one PBX with device_configs, against a template loop.

One ansible-playbook run, local connection: device_configs first run, the
no-change rerun, and, side by side, ansible.builtin.template in a loop over 100
of the same devices (the way people write it without this collection). Devices
cycle through every model of the catalog. Prints figures and, last, one JSON
line: devices, first_s, rerun_s, per_device_ms, template_loop_per_device_ms, ratio.

    bench/render [--devices 1000] [--loop-devices 100] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, make_devices


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=1000)
    parser.add_argument("--loop-devices", type=int, default=100)
    parser.add_argument("--keep", help="keep the work directory here")
    args = parser.parse_args()

    work = Path(args.keep or tempfile.mkdtemp(prefix="bench-render-"))
    work.mkdir(parents=True, exist_ok=True)
    devices = make_devices(args.devices)
    inventory = {
        "all": {
            "hosts": {
                "pbx": {
                    "ansible_connection": "local",
                    "ansible_python_interpreter": sys.executable,
                    "autoprov_devices": devices,
                }
            }
        }
    }
    (work / "inventory.json").write_text(json.dumps(inventory))
    common = {
        "devices": "{{ autoprov_devices }}",
        "dest": str(work / "configs"),
        "sip_server": "192.0.2.10",
        "server_url": "http://192.0.2.10:8080/p/bench/",
        "timezone": "Europe/Berlin",
    }
    plays = [
        {
            "name": "bench",
            "hosts": "pbx",
            "gather_facts": False,
            "tasks": [
                {"name": "first run", "pbxops.autoprov.device_configs": common},
                {"name": "rerun", "pbxops.autoprov.device_configs": common},
                {"name": "loop dir", "ansible.builtin.file": {"path": str(work / "loop"), "state": "directory", "mode": "0750"}},
                {
                    "name": "template loop",
                    "ansible.builtin.template": {
                        "src": str(ROOT / "bench" / "files" / "loop-device.cfg.j2"),
                        "dest": str(work / "loop") + "/{{ item.mac | pbxops.autoprov.mac }}.cfg",
                        "mode": "0640",
                    },
                    "loop": "{{ autoprov_devices[: %d] }}" % args.loop_devices,
                    "vars": {"sip_server": "192.0.2.10"},
                    "no_log": True,
                },
            ],
        }
    ]
    (work / "bench.yml").write_text(json.dumps(plays))
    results = work / "results.jsonl"
    results.unlink(missing_ok=True)
    env = dict(
        os.environ,
        ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
        ANSIBLE_COLLECTIONS_PATH=str(ROOT / ".ansible" / "collections"),
        ANSIBLE_CALLBACK_PLUGINS=str(ROOT / "tests" / "callback_plugins"),
        ANSIBLE_CALLBACKS_ENABLED="results_jsonl",
        AUTOPROV_RESULTS=str(results),
    )
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(work / "inventory.json"), str(work / "bench.yml")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode:
        sys.stderr.write(proc.stdout[-4000:] + proc.stderr[-4000:])
        sys.exit("bench/render: the playbook failed")
    seconds = {}
    changed = {}
    for line in results.read_text().splitlines():
        record = json.loads(line)
        seconds[record["task"]] = record["seconds"]
        changed[record["task"]] = record["result"].get("changed")
    if changed["rerun"]:
        sys.exit("bench/render: the rerun reported a change")
    first, rerun, loop = seconds["first run"], seconds["rerun"], seconds["template loop"]
    per_device_ms = first * 1000 / args.devices
    loop_per_device_ms = loop * 1000 / args.loop_devices
    files = sum(1 for p in (work / "configs").rglob("*") if p.is_file())
    print(
        "device_configs: %d devices, %d files: first run %.2f s, rerun %.2f s (%.2f ms per device)"
        % (args.devices, files, first, rerun, per_device_ms)
    )
    print("template loop:  %d devices: %.2f s (%.1f ms per device)" % (args.loop_devices, loop, loop_per_device_ms))
    print("ratio (template loop per device / device_configs per device): %.0fx" % (loop_per_device_ms / per_device_ms))
    if not args.keep:
        shutil.rmtree(work)
    print(
        json.dumps(
            {
                "devices": args.devices,
                "first_s": round(first, 3),
                "rerun_s": round(rerun, 3),
                "per_device_ms": round(per_device_ms, 3),
                "template_loop_per_device_ms": round(loop_per_device_ms, 3),
                "ratio": round(loop_per_device_ms / per_device_ms, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
