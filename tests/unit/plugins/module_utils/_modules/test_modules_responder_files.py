"""responder_files refuses bad parameters before touching anything, naming the field and what is valid; the service step."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ansible_collections.pbxops.autoprov.plugins.module_utils._modules import responder_files as body


def params(**changes):
    base = {
        "directories": [{"path": "/opt/x", "mode": "0755", "owner": None, "group": None, "create_only": False}],
        "files": {"/opt/x/a.py": "print(1)\n"},
        "file_mode": "0644",
        "private_files": [{"path": "/etc/x.json", "content": "{}", "mode": "0600", "owner": None, "group": None, "validate": None}],
    }
    base.update(changes)
    return base


def test_good_parameters_come_back_with_modes_as_numbers_and_validate_split():
    private = [{"path": "/etc/x.json", "content": "{}", "mode": "0640", "owner": None, "group": None, "validate": "check --file %s"}]
    directories, files, file_mode, private_files = body._checked(params(private_files=private))
    assert directories[0]["mode"] == 0o755 and file_mode == 0o644
    assert private_files[0]["mode"] == 0o640 and private_files[0]["validate"] == ["check", "--file", "%s"]
    assert files == {"/opt/x/a.py": "print(1)\n"}


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"file_mode": "0999"}, "file_mode: '0999' is not an octal mode such as 0640"),
        ({"file_mode": True}, "file_mode: True is not an octal mode"),
        ({"directories": [{"path": "opt/x", "mode": "0755"}]}, "directories[0].path: 'opt/x' is not an absolute path"),
        ({"directories": [{"path": "/opt/x", "mode": "rwx"}]}, "directories[0].mode: 'rwx' is not an octal mode"),
        ({"files": {"rel.py": "x"}}, "files: 'rel.py' is not an absolute path"),
        ({"files": {"/opt/a": 3}}, "files: the content of /opt/a is not text"),
        (
            {"private_files": [{"path": "/etc/x", "content": "", "mode": "0600", "validate": "check"}]},
            "private_files[0].validate: 'check' needs %s",
        ),
        ({"private_files": [{"path": "/etc/x", "content": "", "mode": "10000", "validate": None}]}, "private_files[0].mode: '10000'"),
    ],
)
def test_bad_parameters_name_the_field_and_what_is_valid(changes, message):
    with pytest.raises(body._BadInput) as err:
        body._checked(params(**changes))
    assert str(err.value).startswith(message)


class _Control:
    """run_command of the module: records each argv; the control script answers like autoprov_responder_ctl.py."""

    def __init__(self, check_rc=0):
        self.calls, self.check_rc = [], check_rc

    def __call__(self, argv):
        self.calls.append(argv)
        if argv[0] == "ctl":
            return 0, json.dumps({"changed": True, "running": True, "pid": 42, "was_running": True}), ""
        return self.check_rc, "", "lockout.misses: must be a number"


SERVICE = {"control": ["ctl"], "state": "started", "check": "python3 -m autoprov_responder --check --config /etc/r.json"}


def test_a_restart_runs_the_check_first_unless_this_call_validated_what_is_installed():
    run = _Control()
    assert body._bring_service(SERVICE, True, False, run)["action"] == "restart"
    assert run.calls == [["python3", "-m", "autoprov_responder", "--check", "--config", "/etc/r.json"], ["ctl", "restart"]]

    run = _Control()  # the configuration was written through its validate command in this call: the same check
    assert body._bring_service(SERVICE, True, False, run, checked=True)["action"] == "restart"
    assert run.calls == [["ctl", "restart"]]

    run = _Control(check_rc=2)
    with pytest.raises(body._ServiceFailed, match="not restarted: the check refused .*exit 2.*lockout.misses"):
        body._bring_service(SERVICE, True, False, run)
    assert run.calls == [["python3", "-m", "autoprov_responder", "--check", "--config", "/etc/r.json"]]


@pytest.fixture
def responder_pidfile(tmp_path):
    """A pid file naming a live process whose command line has the responder's module name, as the control script's start leaves it."""
    import subprocess
    import sys
    import time

    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", "autoprov_responder"])
    # Until the child has exec'd, /proc shows the parent's command line (a race on a loaded machine).
    cmdline = Path("/proc/%d/cmdline" % proc.pid)
    deadline = time.monotonic() + 10
    while b"autoprov_responder" not in cmdline.read_bytes().split(b"\0") and time.monotonic() < deadline:
        time.sleep(0.01)
    pidfile = tmp_path / "responder.pid"
    pidfile.write_text("%d\n" % proc.pid)
    yield pidfile, proc.pid
    proc.kill()
    proc.wait()


def test_the_pid_file_of_a_running_responder_spares_the_control_script_when_nothing_changed(responder_pidfile):
    pidfile, pid = responder_pidfile
    service = dict(SERVICE, pidfile=str(pidfile))
    run = _Control()
    assert body._bring_service(service, False, False, run) == {"action": "none", "changed": False, "running": True, "pid": pid}
    assert run.calls == []
    assert body._bring_service(service, False, True, run)["action"] == "none" and run.calls == []  # check mode: the status
    # A change still restarts through the script (after the check), and stopping always goes through it.
    assert body._bring_service(service, True, False, run)["action"] == "restart"
    assert run.calls[-1] == ["ctl", "restart"]
    body._bring_service(dict(service, state="stopped"), False, False, run)
    assert run.calls[-1] == ["ctl", "stop"]


def test_a_pid_file_of_another_program_or_none_is_no_running_responder(tmp_path):
    import os

    pidfile = tmp_path / "responder.pid"
    pidfile.write_text("%d\n" % os.getpid())  # alive, but not the responder: a recycled PID
    service = dict(SERVICE, pidfile=str(pidfile))
    run = _Control()
    assert body._bring_service(service, False, False, run)["action"] == "start" and run.calls == [["ctl", "start"]]
    assert body._bring_service(service, False, True, run) == {"action": "start", "changed": True, "running": True, "pid": None}
    (tmp_path / "responder.pid").unlink()
    run = _Control()
    assert body._bring_service(service, False, False, run)["action"] == "start" and run.calls == [["ctl", "start"]]
