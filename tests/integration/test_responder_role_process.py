"""The responder role where there is no systemd, on localhost without root (the demo's way).

Ansible becomes the unprivileged user nobody (su) on localhost, so the role
works as a user who cannot create users, write /etc or bind ports below 1024:
start, second run unchanged, restart on a configuration change, stop.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest
from helpers import run_playbook

ROLE = "pbxops.autoprov.responder : "
INSTALL = ROLE + "Install the responder (Python standard library only, no pip), its directories and configuration"
NOBODY = 65534


def alive(pid):
    """Running (a zombie that PID 1 of a container has not reaped yet counts as ended)."""
    try:
        return "\nState:\tZ" not in Path("/proc/%d/status" % pid).read_text()
    except FileNotFoundError:
        return False


def free_port(kind):
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def workdir():
    if os.geteuid() != 0 or not shutil.which("su"):
        pytest.skip("needs root to become the user nobody")
    path = Path(tempfile.mkdtemp(prefix="autoprov-role-"))
    path.chmod(0o755)
    os.chown(path, NOBODY, -1)
    yield path
    pidfile = path / "state" / "responder.pid"
    if pidfile.exists():  # a failed test may leave the process running: end it by its PID
        try:
            os.kill(int(pidfile.read_text()), signal.SIGTERM)
        except (ValueError, ProcessLookupError):
            pass
    shutil.rmtree(path, ignore_errors=True)


def test_process_mode_without_root(workdir, tmp_path):
    http, sip = free_port(socket.SOCK_STREAM), free_port(socket.SOCK_DGRAM)
    (workdir / "root").mkdir()
    os.chown(workdir / "root", NOBODY, -1)
    inventory = {
        "all": {
            "hosts": {
                "localhost": {
                    "ansible_connection": "local",
                    "ansible_python_interpreter": "/usr/bin/python3",
                    "ansible_become": True,
                    "ansible_become_method": "su",
                    "ansible_become_user": "nobody",
                    "ansible_become_flags": "-s /bin/sh",
                    "ansible_shell_allow_world_readable_temp": True,
                    "autoprov_responder_service_manager": "process",
                    "autoprov_responder_install_dir": str(workdir / "install"),
                    "autoprov_responder_config_dir": str(workdir / "etc"),
                    "autoprov_responder_state_dir": str(workdir / "state"),
                    "autoprov_config_root": str(workdir / "root"),
                    "autoprov_server_url": "http://127.0.0.1:%d/p/demo/" % http,
                    "autoprov_responder_sip_listen": ["127.0.0.1:%d" % sip],
                    "autoprov_responder_http_listen": ["127.0.0.1:%d" % http],
                }
            }
        }
    }
    play = [{"name": "responder", "hosts": "localhost", "gather_facts": False, "roles": [{"role": "pbxops.autoprov.responder"}]}]

    def converge(**extra):
        return run_playbook(tmp_path, play, inventory=inventory, extra_vars=extra or None)

    def running_pid():
        pidfile = workdir / "state" / "responder.pid"
        return int(pidfile.read_text()) if pidfile.exists() else None

    def http_status():
        out = subprocess.run(
            ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "http://127.0.0.1:%d/p/demo/nothing.cfg" % http],
            capture_output=True,
            text=True,
            check=False,
        )
        return out.stdout

    first = converge()
    assert first.rc == 0, first.output
    # The install task starts the process in the same call (no command task, no handler).
    assert first.task(INSTALL)["result"]["service"]["action"] == "start"
    pid = running_pid()
    status = Path("/proc/%d/status" % pid).read_text()
    assert "Uid:\t%d" % NOBODY in status  # runs as the connecting user, not root
    assert "autoprov_responder" in Path("/proc/%d/cmdline" % pid).read_text()
    assert http_status() == "503"  # listening; the config root has no manifest yet, so nothing is served
    assert first.task(INSTALL)["result"]["service"]["pid"] == pid
    assert [task for _host, task in first.changed_tasks()] == [INSTALL], "a fresh start needs no restart"

    second = converge()
    assert second.rc == 0, second.output
    assert second.changed_tasks() == [], second.changed_tasks()
    assert running_pid() == pid

    # Code that differs from the collection's is put back, code it no longer has goes, and the
    # responder restarts on what is now installed.
    package = workdir / "install" / "autoprov_responder"
    shipped = (package / "sip.py").read_text()
    (package / "sip.py").write_text(shipped + "\n# edited on the host\n")
    (package / "gone.py").write_text("")
    repaired = converge()
    assert repaired.rc == 0, repaired.output
    install = repaired.task(INSTALL)["result"]
    assert (install["written"], install["removed"]) == ([str(package / "sip.py")], [str(package / "gone.py")])
    assert (package / "sip.py").read_text() == shipped and not (package / "gone.py").exists()
    assert [task for _host, task in repaired.changed_tasks()] == [INSTALL]
    assert install["service"]["action"] == "restart"
    assert running_pid() not in (None, pid)
    pid = running_pid()

    # A configuration change restarts it (after --check passed).
    third = converge(autoprov_responder_log_level="debug")
    assert third.rc == 0, third.output
    assert [task for _host, task in third.changed_tasks()] == [INSTALL]
    assert third.task(INSTALL)["result"]["service"]["action"] == "restart"
    assert third.task(INSTALL)["result"]["written"] == [str(workdir / "etc" / "responder.json")]
    assert running_pid() not in (None, pid)
    assert not alive(pid)
    assert http_status() == "503"

    # A configuration the responder rejects is not installed, and the running one stays.
    bad = converge(autoprov_responder_log_level="debug", autoprov_responder_extra_config={"lockout": {"misses": -1}})
    assert bad.rc != 0
    refused = bad.task(INSTALL)["result"]
    assert refused["msg"].startswith("%s: refused by its check (exit 2), left as it was: " % (workdir / "etc" / "responder.json"))
    assert "lockout.misses" in refused["msg"], refused["msg"]
    assert http_status() == "503"

    stopped = converge(autoprov_responder_log_level="debug", autoprov_responder_state="stopped")
    assert stopped.rc == 0, stopped.output
    assert running_pid() is None
    assert http_status() == "000"
    again = converge(autoprov_responder_log_level="debug", autoprov_responder_state="stopped")
    assert again.rc == 0 and again.changed_tasks() == [], again.output

    # Another process holds the HTTP port: starting fails and says so (instead of taking the other
    # listener for ours).
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as squatter:
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        squatter.bind(("127.0.0.1", http))
        squatter.listen(8)
        blocked = converge(autoprov_responder_log_level="debug")
        assert blocked.rc != 0
        refused = blocked.task(INSTALL)["result"]["msg"]
        assert refused == (
            "the files are in place; the control script's start failed (exit 1): "
            "cannot start the responder: 127.0.0.1:%d already in use by another process" % http
        )
        assert running_pid() is None
