"""Fleet benchmark: the site playbook over N PBX hosts of 100 devices each, first run and no-change rerun.

Workload (fixed unless told): 50 PBX hosts, each with 100 devices (every model of
the catalog once: all vendors), method pnp, no DHCP, no RPS. Each host is a
local connection with its own config root, responder directories and ports; the
responder runs in process mode as this user. Everything runs inside a network
namespace the bench creates, so the responders' loopback ports are private; at
the end the site playbook stops every responder (autoprov_responder_state=stopped),
whatever is still running in the namespace is ended by PID, and the namespace is
deleted.

Baseline, same run, same inventory, same forks: a play of one ansible.builtin.ping
task over the N hosts. It is Ansible's own floor for touching every host of this
inventory once (start-up, loading the inventory with its N x 100 devices, one
module round trip per host), so rerun_s / ping_s says how many such floors a
no-change site run costs, and the per-task profile says where.

    bench/fleet [--hosts 50] [--devices 100] [--forks 20] [--profile 12] [--keep DIR]

Last line: {"hosts", "devices_per_host", "forks", "first_s", "rerun_s",
"changed_on_rerun", "ping_s", "rerun_vs_ping", "rerun_cpu_per_host_s", "max_rss_mb", ...}.
CPU per host: Ansible's and the modules' CPU time (controller and PBX work together: here they
share one machine) divided by the hosts; wall time over many hosts approaches it divided by the
cores. max_rss_mb: the largest Ansible process of the runs (sizing a controller or AWX container).
"""

from __future__ import annotations

import argparse
import configparser
import json
import resource
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, make_devices, require_root, use_test_helpers

use_test_helpers()
from helpers import VENV_BIN, Netns, run_playbook  # noqa: E402

HTTP_PORT, SIP_PORT = 20000, 30000  # + host index, inside the bench's own namespace
PING_PLAY = [{"name": "Ping every PBX", "hosts": "autoprov_pbx", "gather_facts": False, "tasks": [{"ansible.builtin.ping": {}}]}]


def default_forks():
    config = configparser.ConfigParser()
    config.read(ROOT / "ansible.cfg")
    return config.getint("defaults", "forks", fallback=5)


def host_vars(index, work, devices):
    """One PBX: local connection, its own directories and ports, the demo's responder settings."""
    base = work / "pbx" / ("pbx%03d" % index)
    return {
        "ansible_connection": "local",
        "ansible_python_interpreter": str(VENV_BIN / "python"),
        "autoprov_method": "pnp",
        "autoprov_sip_server": "127.0.0.1",
        "autoprov_server_url": "http://127.0.0.1:%d/" % (HTTP_PORT + index),
        "autoprov_url_token": "bench-token-%03d" % index,
        "autoprov_http_username": "phones",
        "autoprov_http_password": "bench-http-%03d" % index,
        "autoprov_admin_password": "bench-admin-%03d" % index,
        "autoprov_timezone": "Europe/Berlin",
        "autoprov_config_root": str(base / "configs"),
        "autoprov_responder_service_manager": "process",
        "autoprov_responder_user": "",
        "autoprov_responder_install_dir": str(base / "responder" / "install"),
        "autoprov_responder_config_dir": str(base / "responder" / "etc"),
        "autoprov_responder_state_dir": str(base / "responder" / "state"),
        "autoprov_responder_sip_listen": ["127.0.0.1:%d" % (SIP_PORT + index)],
        "autoprov_responder_http_listen": ["127.0.0.1:%d" % (HTTP_PORT + index)],
        "autoprov_devices": devices,
    }


def write_inventory(work, hosts, devices_per_host):
    pbxes = {"pbx%03d" % i: host_vars(i, work, make_devices(devices_per_host, first_mac=i * devices_per_host)) for i in range(hosts)}
    path = work / "inventory.json"
    path.write_text(json.dumps({"all": {"children": {"autoprov_pbx": {"hosts": pbxes}}}}))
    return path


def children_cpu_s():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(label, work, playbook, inventory, args, namespace):
    """Run a playbook; its wall time and the CPU time of Ansible and every module it ran (not the
    responders: they leave the process tree), i.e. controller and PBX work together."""
    started, cpu_before = time.monotonic(), children_cpu_s()
    run = run_playbook(work / label, playbook, inventory=str(inventory), args=args, prefix=("ip", "netns", "exec", namespace), timeout=3600)
    seconds, cpu = time.monotonic() - started, children_cpu_s() - cpu_before
    if run.rc:
        sys.stderr.write(run.output[-4000:])
        sys.exit("bench/fleet: the %s run failed (exit %d)" % (label, run.rc))
    return run, seconds, cpu


def task_profile(run):
    """Per task: its wall time (the last host's result) and the seconds summed over hosts."""
    wall, total, hosts = defaultdict(float), defaultdict(float), defaultdict(int)
    for record in run.results:
        if record["status"] == "skipped":
            continue
        wall[record["task"]] = max(wall[record["task"]], record["seconds"])
        total[record["task"]] += record["seconds"]
        hosts[record["task"]] += 1
    return sorted(((wall[t], total[t], hosts[t], t) for t in wall), reverse=True)


def print_profile(title, run, count):
    rows = task_profile(run)
    print("%s: slowest tasks (wall s, host-s summed, hosts that ran it)" % title)
    for wall, total, hosts, task in rows[:count]:
        print("  %7.2f %8.2f %4d  %s" % (wall, total, hosts, task))
    print("  %7.2f            (sum of every task's wall time)" % sum(r[0] for r in rows))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=50)
    parser.add_argument("--devices", type=int, default=100, help="devices per host")
    parser.add_argument("--forks", type=int, default=default_forks(), help="default: ansible.cfg's")
    parser.add_argument("--profile", type=int, default=12, help="how many of the slowest tasks to print")
    parser.add_argument("--keep", help="keep the work directory here")
    args = parser.parse_args()
    require_root()

    work = Path(args.keep or tempfile.mkdtemp(prefix="bench-fleet-"))
    work.mkdir(parents=True, exist_ok=True)
    inventory = write_inventory(work, args.hosts, args.devices)
    forks = ["--forks", str(args.forks)]
    netns = Netns()
    try:
        namespace = netns.add("fleet")
        _ping, ping_s, ping_cpu = timed("ping", work, PING_PLAY, inventory, forks, namespace)
        first, first_s, first_cpu = timed("first", work, "pbxops.autoprov.site", inventory, forks, namespace)
        rerun, rerun_s, rerun_cpu = timed("rerun", work, "pbxops.autoprov.site", inventory, forks, namespace)
        changed_on_rerun = rerun.changed_tasks()
        stop_args = forks + ["-e", "autoprov_responder_state=stopped"]
        _stop, stop_s, _stop_cpu = timed("stop", work, "pbxops.autoprov.site", inventory, stop_args, namespace)
    finally:
        netns.close()  # anything still running in the namespace ends by PID

    # ansible-playbook and its workers are our waited-for descendants; the responders are not.
    max_rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    files = sum(1 for p in (work / "pbx").glob("*/configs/*") if p.is_file())
    print("fleet: %d PBX hosts x %d devices (%d files), forks %d" % (args.hosts, args.devices, files, args.forks))
    print("                         wall          per host   vs ping   CPU per host")
    for label, wall, cpu in (
        ("ping play (baseline)", ping_s, ping_cpu),
        ("site, first run", first_s, first_cpu),
        ("site, no-change rerun", rerun_s, rerun_cpu),
    ):
        print("%-22s %8.2f s %9.3f s %8.1fx %10.2f s" % (label, wall, wall / args.hosts, wall / ping_s, cpu / args.hosts))
    print("site, responders stopped: %5.2f s" % stop_s)
    print("changed tasks on the rerun: %d %s" % (len(changed_on_rerun), changed_on_rerun[:5] or ""))
    print("largest Ansible process (controller or worker): %.0f MB resident" % max_rss_mb)
    print_profile("first run", first, args.profile)
    print_profile("rerun", rerun, args.profile)
    if not args.keep:
        shutil.rmtree(work)
    print(
        json.dumps(
            {
                "hosts": args.hosts,
                "devices_per_host": args.devices,
                "forks": args.forks,
                "first_s": round(first_s, 2),
                "rerun_s": round(rerun_s, 2),
                "changed_on_rerun": len(changed_on_rerun),
                "ping_s": round(ping_s, 2),
                "first_vs_ping": round(first_s / ping_s, 1),
                "rerun_vs_ping": round(rerun_s / ping_s, 1),
                "first_per_host_s": round(first_s / args.hosts, 3),
                "rerun_per_host_s": round(rerun_s / args.hosts, 3),
                "first_cpu_per_host_s": round(first_cpu / args.hosts, 2),
                "rerun_cpu_per_host_s": round(rerun_cpu / args.hosts, 2),
                "ping_cpu_per_host_s": round(ping_cpu / args.hosts, 3),
                "max_rss_mb": round(max_rss_mb),
            }
        )
    )
    if changed_on_rerun:
        sys.exit("bench/fleet: the rerun reported changes")


if __name__ == "__main__":
    main()
