"""device_configs calls the target directly only where that behaves as the module: with privilege
escalation, only when pipelining is enabled for it (the condition of Ansible's own pipelining).

Real sudo and su as root on localhost; the same files either way, the secret shown nowhere.
"""

from __future__ import annotations

import shutil

import pytest
from helpers import VENV_BIN, run_playbook

SECRET = "direct-line-secret-9"
TASK = "files"


def play(dest, become_method):
    task = {
        "name": TASK,
        "become": True,
        "become_method": become_method,
        "pbxops.autoprov.device_configs": {
            "devices": [
                {"mac": "02:00:00:00:0d:01", "vendor": "yealink", "model": "T46S", "lines": [{"extension": "101", "secret": SECRET}]}
            ],
            "dest": str(dest),
            "sip_server": "192.0.2.10",
            "server_url": "http://192.0.2.10:8080/p/token/",
            "fleet_check": False,
        },
    }
    return [{"name": "direct", "hosts": "localhost", "gather_facts": False, "tasks": [task]}]


def inventory(pipelining):
    host = {"ansible_connection": "local", "ansible_python_interpreter": str(VENV_BIN / "python"), "ansible_pipelining": pipelining}
    return {"all": {"hosts": {"localhost": host}}}


@pytest.mark.skipif(not shutil.which("sudo"), reason="needs sudo (tests/system-packages.txt)")
def test_become_goes_direct_only_with_pipelining(tmp_path):
    dest = tmp_path / "configs"
    ways = []
    for step, (method, pipelining, expected) in enumerate(
        [("sudo", False, "module"), ("sudo", True, "direct"), ("su", True, "module")]  # su: no pipelining in Ansible
    ):
        run = run_playbook(tmp_path / str(step), play(dest, method), inventory=inventory(pipelining), args=("-vvv",))
        assert run.rc == 0, run.output[-3000:]
        result = run.task(TASK)["result"]
        ways.append(result["target_calls"][0])
        assert result["target_calls"] == [expected] * len(result["target_calls"]), (method, pipelining, result)
        assert result["changed"] is (step == 0), result  # written once; each later way finds the same files
        assert SECRET not in run.output and SECRET not in repr(run.results)
    assert ways == ["module", "direct", "module"]
    assert SECRET in next(dest.glob("*.cfg")).read_text()


def test_a_python_discovered_by_the_first_call_takes_the_next_ones_direct(tmp_path):
    """No ansible_python_interpreter: the first call goes as the module, which discovers the Python; the
    task's second call (the writes) and the next task (its fact) call that Python directly."""
    dest = tmp_path / "configs"
    plays = play(dest, "sudo")
    task = plays[0]["tasks"][0]
    del task["become"], task["become_method"]
    plays[0]["tasks"] = [task, dict(task, name="again")]
    # Discovery searches PATH: this machine's pyenv shims name Pythons that are not installed.
    system_path = {"PATH": "/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin"}
    run = run_playbook(tmp_path, plays, inventory={"all": {"hosts": {"localhost": {"ansible_connection": "local"}}}}, env=system_path)
    assert run.rc == 0, run.output[-3000:]
    first, again = run.task(TASK)["result"], run.task("again")["result"]
    assert first["target_calls"] == ["module", "direct"] and first["changed"] is True, first
    assert first["ansible_facts"]["discovered_interpreter_python"].startswith("/")
    assert again["target_calls"] == ["direct"] and again["changed"] is False, again
