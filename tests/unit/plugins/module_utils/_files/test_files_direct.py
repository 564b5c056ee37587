"""device_configs' direct call: the target's Python runs the shipped sync code as the module would.

The call runs a real interpreter in isolated mode (-I: no site-packages, so neither Ansible nor this
collection can be imported from anywhere but the request) with the loader as its program.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys

from ansible_collections.pbxops.autoprov.plugins.module_utils._files import direct
from ansible_collections.pbxops.autoprov.plugins.module_utils._files import sync as fs
from ansible_collections.pbxops.autoprov.plugins.plugin_utils import _direct_call


def request(params, check_mode=False):
    return {
        "boot": _direct_call._BOOT[2],
        "boot_file": _direct_call._BOOT[1],
        "modules": _direct_call._MODULES,
        "params": params,
        "check_mode": check_mode,
    }


def run(req):
    proc = subprocess.run([sys.executable, "-I", "-c", direct.LOADER], input=json.dumps(req).encode(), capture_output=True, check=False)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def params(dest, phase, **sync):
    files = {"a.cfg": "A secret-1\n", "sub/b.cfg": "B\n"}
    manifest = {
        "format": 2,
        "files": {
            n: {"sha256": hashlib.sha256(c.encode()).hexdigest(), "mac": None, "vendor": "yealink", "secret": True}
            for n, c in files.items()
        },
    }
    common = {"dest": str(dest), "prune": True, "owner": None, "group": None, "mode": "0640"}
    if phase == "plan":
        return dict(
            common,
            sync=dict(phase="plan", wanted={n: e["sha256"] for n, e in manifest["files"].items()}, manifest=manifest, **sync),
            contents=None,
        )
    return dict(common, sync=dict(phase="apply", manifest=manifest, fix_attrs=[], remove=[], foreign=[], **sync), contents=files)


def test_plan_and_apply_through_the_loader_equal_the_module_body(tmp_path):
    dest = tmp_path / "configs"
    planned = run(request(params(dest, "plan")))
    assert planned == json.loads(json.dumps(fs.serve(params(dest, "plan"), False)))  # what the module returns
    assert planned["changed"] and sorted(planned["plan"]["write"]) == ["a.cfg", "sub/b.cfg"]
    assert not dest.exists(), "a plan writes nothing"

    assert run(request(params(dest, "apply"))) == {"changed": True, "backups": []}
    assert (dest / "a.cfg").read_text() == "A secret-1\n" and oct((dest / "a.cfg").stat().st_mode & 0o777) == "0o640"
    assert json.loads((dest / fs.MANIFEST).read_text())["files"]["sub/b.cfg"]["secret"] is True
    assert run(request(params(dest, "plan")))["changed"] is False


def test_failures_come_back_as_the_module_reports_them_without_contents(tmp_path):
    bad_mode = dict(params(tmp_path, "plan"), mode="0999")
    assert run(request(bad_mode)) == {"failed": True, "msg": "mode: '0999' is not an octal mode such as 0640"}
    assert run(request(params(tmp_path / "c", "apply"), check_mode=True))["msg"] == "internal error: apply requested in check mode"

    (tmp_path / "file").write_text("")  # dest below a plain file: the OSError of the module
    reply = run(request(params(tmp_path / "file" / "configs", "apply")))
    assert reply["failed"] and reply["msg"].startswith(str(tmp_path / "file" / "configs") + ": "), reply
    assert "secret-1" not in json.dumps(reply)

    broken = dict(request(params(tmp_path, "plan")), modules=[("pkg.mod", "mod.py", "raise RuntimeError('boom')")])
    reply = run(broken)
    assert reply["failed"] and reply["msg"].startswith("device_configs on the target: Traceback") and "RuntimeError: boom" in reply["msg"]


class _Shell:
    _IS_WINDOWS = False

    @staticmethod
    def quote(word):
        import shlex

        return shlex.quote(word)


class _Connection:
    has_pipelining = True
    _shell = _Shell()

    def __init__(self, become=None, pipelining=False):
        self.become, self._pipelining = become, pipelining

    def is_pipelining_enabled(self):
        return self._pipelining


class _Templar:
    @staticmethod
    def template(value):
        return value


class _Task:
    check_mode = False

    def __init__(self, delegate_to=None):
        self.delegate_to = delegate_to


class _Action:
    """The parts of an action plugin _direct_call.possible reads."""

    def __init__(self, connection=None, delegate_to=None, environment=""):
        self._connection = connection or _Connection()
        self._task = _Task(delegate_to)
        self._templar = _Templar()
        self._environment = environment

    def _compute_environment_string(self):
        return self._environment


def test_direct_only_where_it_behaves_as_the_module(monkeypatch):
    given = {"ansible_python_interpreter": "/usr/bin/python3"}
    command = _direct_call.possible(_Action(environment="LANG=C.UTF-8"), given)
    assert command == "LANG=C.UTF-8 /usr/bin/python3 -c %s" % _Shell.quote(direct.LOADER)
    assert _direct_call.possible(_Action(), {"ansible_python_interpreter": "/usr/bin/env python3"}).startswith("/usr/bin/env python3 -c ")
    discovered = {"ansible_python_interpreter": "auto_silent", "ansible_facts": {"discovered_interpreter_python": "/usr/bin/python3.11"}}
    assert _direct_call.possible(_Action(), discovered).startswith("/usr/bin/python3.11 -c ")

    # Privilege escalation: only with pipelining enabled for it (a sudo that wants a tty, a password prompt).
    assert _direct_call.possible(_Action(_Connection(become=object())), given) is None
    assert _direct_call.possible(_Action(_Connection(become=object(), pipelining=True)), given) is not None
    # The module's ways: discovery of the Python, delegation, a connection without standard input, kept files.
    monkeypatch.setattr(_direct_call.C.config, "get_config_value", lambda name, variables=None: "auto_silent")
    assert _direct_call.possible(_Action(), {}) is None
    assert _direct_call.possible(_Action(delegate_to="other"), given) is None
    no_stdin = _Connection()
    no_stdin.has_pipelining = False
    assert _direct_call.possible(_Action(no_stdin), given) is None
    monkeypatch.setattr(_direct_call.C, "DEFAULT_KEEP_REMOTE_FILES", True)
    assert _direct_call.possible(_Action(), given) is None


def test_a_failed_direct_call_shows_the_error_stream_never_the_reply():
    """A reply cut off or followed by a failure may hold the old contents of files with secrets (diff mode)."""
    replies = []

    class Action(_Action):
        def _low_level_execute_command(self, command, sudoable=True, in_data=None):
            return replies.pop(0)

    given = {"ansible_python_interpreter": "/usr/bin/python3"}
    cut_off = '{"plan": {"old": {"a.cfg": "secret-7'
    replies.append({"rc": 1, "stdout": cut_off, "stderr": ""})
    result, way = _direct_call.call(Action(), "m", {}, given)
    assert way == "direct" and result["failed"] and "secret-7" not in result["msg"]
    assert result["msg"] == "device_configs on the target: exit 1: no reply (%d characters on standard output, not shown)" % len(cut_off)
    replies.append({"rc": 0, "stdout": '{"plan": {"old": {"a.cfg": "secret-7"', "stderr": "Killed\n"})
    result, _way = _direct_call.call(Action(), "m", {}, given)
    assert result["msg"] == "device_configs on the target: exit 0: Killed" and "secret-7" not in repr(result)
    replies.append({"rc": 0, "stdout": '{"changed": false, "plan": {}}', "stderr": ""})
    assert _direct_call.call(Action(), "m", {}, given) == ({"changed": False, "plan": {}}, "direct")
