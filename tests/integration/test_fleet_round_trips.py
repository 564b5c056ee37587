"""What a no-change site run costs each PBX, counted in tasks and round trips (bench/fleet measures the time).

Two PBXes on local connections inside a namespace of the test, the responder in process mode (as in
bench/fleet). A rerun that changes nothing connects to each PBX twice: once to compare the device
files (device_configs, with the checks, before anything changes; the real run is then left out) and
once to compare the responder's install and find its process running (responder_files). Facts are
gathered only where the inventory leaves the service manager, the responder's user or its Python open.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

from helpers import VENV_BIN, run_playbook

PROVISION = "pbxops.autoprov.provision : "
RESPONDER = "pbxops.autoprov.responder : "
FACTS = RESPONDER + "Gather the facts the role needs (service manager, user, Python)"
INSTALL = RESPONDER + "Install the responder (Python standard library only, no pip), its directories and configuration"
SHIP = PROVISION + "Render and ship the device configurations (prune removes the files of devices that left)"
# The tasks that reach the PBX (every other task runs on the controller).
CONNECTING = {"pbxops.autoprov.responder_files", "pbxops.autoprov.device_configs", "ansible.builtin.setup"}


def free_port(kind):
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def inventory(work):
    hosts = {}
    for index in range(2):
        base = work / ("pbx%d" % index)
        http = free_port(socket.SOCK_STREAM)
        hosts["pbx%d" % index] = {
            "ansible_connection": "local",
            "ansible_python_interpreter": str(VENV_BIN / "python"),
            "autoprov_method": "pnp",
            "autoprov_sip_server": "127.0.0.1",
            "autoprov_server_url": "http://127.0.0.1:%d/" % http,
            "autoprov_url_token": "trips-token-%d" % index,
            "autoprov_http_username": "phones",
            "autoprov_http_password": "trips-http-%d" % index,
            "autoprov_config_root": str(base / "configs"),
            "autoprov_responder_service_manager": "process",
            "autoprov_responder_user": "",
            "autoprov_responder_install_dir": str(base / "install"),
            "autoprov_responder_config_dir": str(base / "etc"),
            "autoprov_responder_state_dir": str(base / "state"),
            "autoprov_responder_sip_listen": ["127.0.0.1:%d" % free_port(socket.SOCK_DGRAM)],
            "autoprov_responder_http_listen": ["127.0.0.1:%d" % http],
            "autoprov_devices": [
                {
                    "mac": "02:00:00:00:0%d:01" % index,
                    "vendor": "yealink",
                    "model": "T46S",
                    "lines": [{"extension": "101", "secret": "s-%d" % index}],
                },
                {
                    "mac": "02:00:00:00:0%d:02" % index,
                    "vendor": "snom",
                    "model": "D735",
                    "lines": [{"extension": "102", "secret": "t-%d" % index}],
                },
            ],
        }
    return {"all": {"children": {"autoprov_pbx": {"hosts": hosts}}}}


def connected(run, host):
    """The tasks that reached host, in order (a validate_only run of device_configs reads the PBX only with compare)."""
    return [
        r["task"]
        for r in run.results
        if r["host"] == host
        and r["status"] != "skipped"
        and r["action"] in CONNECTING
        and ("in_sync" in r["result"] or not r["result"].get("msg", "").endswith("nothing was touched)"))
    ]


def ship_runs(run, host):
    """device_configs' results on host in order: validate.yml's compare, then main.yml's real run."""
    return [r for r in run.results if r["host"] == host and r["task"] == SHIP]


def test_a_rerun_connects_twice_per_pbx(netns, tmp_path):
    namespace = netns.add("trips")
    work = tmp_path / "pbx"
    inv = inventory(work)
    prefix = ("ip", "netns", "exec", namespace)
    play = "pbxops.autoprov.site"
    first = run_playbook(tmp_path / "first", play, inventory=inv, prefix=prefix)
    assert first.rc == 0, first.output[-3000:]
    pids = {
        h: int(Path(v["autoprov_responder_state_dir"], "responder.pid").read_text())
        for h, v in inv["all"]["children"]["autoprov_pbx"]["hosts"].items()
    }
    # The install task started the process in the same call (no command task, no handler).
    assert first.task(INSTALL, "pbx0")["result"]["service"]["action"] == "start"
    # The configuration's check left the package's bytecode, which the service (writing none) starts from.
    package = work / "pbx0" / "install" / "autoprov_responder"
    compiled = {path.name.split(".")[0] for path in (package / "__pycache__").glob("*.pyc")}
    assert {"__init__", "service", "config"} <= compiled, sorted(compiled)
    # Two module calls for the files of a first run too: the compare's plan, reused by the real run, then the writes.
    compare, ship = ship_runs(first, "pbx0")
    assert compare["result"]["in_sync"] is False and len(compare["result"]["plan"]["write"]) == len(ship["result"]["files"]) > 0
    assert ship["result"]["reused_plan"] is True and ship["result"]["changed"] is True
    # Both calls went directly to the PBX's Python (the inventory names it), not through the module wrapper.
    assert compare["result"]["target_calls"] == ship["result"]["target_calls"] == ["direct"]
    # Each task runs once per PBX (device_configs twice: the compare, the real run). A part's file that
    # imported a task file of the same name from ../ imported itself: its resync ran twice.
    for host in pids:
        names = [r["task"] for r in first.results if r["host"] == host]
        repeated = {name: names.count(name) for name in names if names.count(name) > (2 if name == SHIP else 1)}
        assert repeated == {}, (host, repeated)

    rerun = run_playbook(tmp_path / "rerun", play, inventory=inv, prefix=prefix)
    assert rerun.rc == 0, rerun.output[-3000:]
    assert rerun.changed_tasks() == []
    for host, pid in pids.items():
        # The check of the devices compared with the PBX (read only) and found nothing to change: no real run.
        assert connected(rerun, host) == [SHIP, INSTALL], (host, connected(rerun, host))
        (compare,) = ship_runs(rerun, host)
        assert compare["result"]["in_sync"] is True and compare["result"]["plan"] is None
        assert compare["result"]["target_calls"] == ["direct"]
        assert rerun.task(FACTS, host)["status"] == "skipped"  # the inventory gives manager, user and Python
        assert rerun.task(INSTALL, host)["result"]["service"] == {"action": "none", "changed": False, "running": True, "pid": pid}
        os.kill(pid, 0)

    # With the service manager left to the facts, they are gathered (once, before any change).
    auto = run_playbook(tmp_path / "auto", play, inventory=inv, prefix=prefix, extra_vars={"autoprov_responder_service_manager": "auto"})
    assert auto.rc == 0, auto.output[-3000:]
    assert auto.task(FACTS, "pbx0")["status"] == "ok" and auto.changed_tasks() == []

    stop = run_playbook(tmp_path / "stop", play, inventory=inv, prefix=prefix, extra_vars={"autoprov_responder_state": "stopped"})
    assert stop.rc == 0, stop.output[-3000:]
    assert stop.task(INSTALL, "pbx1")["result"]["service"]["action"] == "stop"


def test_the_module_way_and_the_direct_way_write_the_same_files(netns, tmp_path):
    """With ANSIBLE_KEEP_REMOTE_FILES (or no known Python, or become without pipelining) the files go
    through the module; a direct rerun then finds every file and the manifest exactly as it would have
    written them, and a change written by the module way is what the direct way plans."""
    namespace = netns.add("ways")
    inv = inventory(tmp_path / "pbx")
    prefix = ("ip", "netns", "exec", namespace)
    # Kept module files hold the arguments: in the test's own directory, not in root's ~/.ansible/tmp.
    module_way = {"ANSIBLE_KEEP_REMOTE_FILES": "1", "ANSIBLE_REMOTE_TMP": str(tmp_path / "remote-tmp")}
    first = run_playbook(tmp_path / "first", "pbxops.autoprov.site", inventory=inv, prefix=prefix, env=module_way)
    assert first.rc == 0, first.output[-3000:]
    compare, ship = ship_runs(first, "pbx1")
    assert compare["result"]["target_calls"] == ship["result"]["target_calls"] == ["module"]
    direct = run_playbook(tmp_path / "direct", "pbxops.autoprov.site", inventory=inv, prefix=prefix)
    assert direct.rc == 0 and direct.changed_tasks() == [], direct.output[-3000:]
    (compare,) = ship_runs(direct, "pbx1")
    assert compare["result"]["in_sync"] is True and compare["result"]["target_calls"] == ["direct"]

    inv["all"]["children"]["autoprov_pbx"]["hosts"]["pbx1"]["autoprov_devices"][1]["lines"][0]["secret"] = "t-1-rotated"
    changed = run_playbook(tmp_path / "changed", "pbxops.autoprov.site", inventory=inv, prefix=prefix)
    assert changed.rc == 0, changed.output[-3000:]
    compare, ship = ship_runs(changed, "pbx1")
    assert len(ship["result"]["files"]) == 1 and ship["result"]["target_calls"] == ["direct"], ship["result"]
    assert "t-1-rotated" in (tmp_path / "pbx" / "pbx1" / "configs" / ship["result"]["files"][0]).read_text()
    again = run_playbook(tmp_path / "again", "pbxops.autoprov.site", inventory=inv, prefix=prefix, env=module_way)
    assert again.rc == 0 and again.changed_tasks() == [], again.output[-3000:]
    assert ship_runs(again, "pbx1")[0]["result"]["target_calls"] == ["module"]
    for run in (first, direct, changed, again):
        assert "t-1-rotated" not in run.output and "t-1-rotated" not in repr(run.results)


def test_one_check_task_names_every_problem_and_changes_nothing(tmp_path):
    """The settings checks are one task per role (not one per check): its failure lists every problem, each naming the PBX."""
    inv = inventory(tmp_path / "pbx")
    pbx = inv["all"]["children"]["autoprov_pbx"]["hosts"]["pbx0"]
    pbx.update(autoprov_http_password="", autoprov_http_device_key="too-short", autoprov_method="rps")
    run = run_playbook(tmp_path / "bad", "pbxops.autoprov.site", inventory=inv, extra_vars={"autoprov_hosts": "pbx0"})
    assert run.rc != 0
    msg = run.task(PROVISION + "Check the method, the credentials and the DHCP and RPS settings", "pbx0")["result"]["msg"]
    assert msg.startswith("pbx0: autoprov_http_password: missing; ")
    assert "; pbx0: autoprov_http_device_key: shorter than 16 characters; " in msg
    assert "; pbx0: autoprov_public_url: missing; autoprov_method rps " in msg
    assert not (tmp_path / "pbx" / "pbx0").exists(), "nothing was installed or written"

    pbx.update(autoprov_http_password="trips-http-0", autoprov_http_device_key="", autoprov_method="pnp")
    pbx.update(autoprov_responder_service_manager="systemd", autoprov_responder_state_dir=str(tmp_path / "state"))
    run = run_playbook(tmp_path / "bad-responder", "pbxops.autoprov.site", inventory=inv, extra_vars={"autoprov_hosts": "pbx0"})
    assert run.rc != 0
    msg = run.task(RESPONDER + "Check the responder settings", "pbx0")["result"]["msg"]
    assert "pbx0: autoprov_responder_user: empty; under systemd " in msg
    assert "; pbx0: autoprov_responder_state_dir: %s; under systemd it must be below /var/lib" % (tmp_path / "state") in msg
    assert not (tmp_path / "pbx" / "pbx0").exists()

    # The devices are checked by device_configs (not by the role's argument spec): one device given as a
    # mapping instead of a list of them.
    pbx.update(autoprov_responder_service_manager="process", autoprov_responder_state_dir=str(tmp_path / "pbx" / "pbx0" / "state"))
    pbx["autoprov_devices"] = pbx["autoprov_devices"][0]
    run = run_playbook(tmp_path / "bad-devices", "pbxops.autoprov.site", inventory=inv, extra_vars={"autoprov_hosts": "pbx0"})
    assert run.rc != 0
    msg = run.task(SHIP, "pbx0")["result"]["msg"]
    assert msg.endswith("\n- pbx0: autoprov_devices: must be a list of devices, not dict"), msg
    assert not (tmp_path / "pbx" / "pbx0").exists()
