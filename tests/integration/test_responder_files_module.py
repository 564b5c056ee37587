"""responder_files through Ansible: private files checked before they go live, their contents never shown.

The secret goes in at -vvv with --diff, on success and on a refusal by a check that prints the
candidate, and must not come out anywhere: not on stdout or stderr, not in the recorded task results.
"""

from __future__ import annotations

import sys

from helpers import run_playbook

SECRET = "s3cret-Pa55-autoprov"
TASK = "install"
# Refuses a candidate that has no "ok" in it, and prints it (as a careless checker would).
CAREFUL_NOT = 'import sys; t = open(sys.argv[1]).read(); print(t); sys.exit(0 if "ok" in t else 3)'


def play(tmp_path, content, check_mode=False):
    return [
        {
            "name": "responder_files",
            "hosts": "localhost",
            "gather_facts": False,
            "tasks": [
                {
                    "name": TASK,
                    "check_mode": check_mode,
                    "pbxops.autoprov.responder_files": {
                        "directories": [{"path": str(tmp_path / "etc"), "mode": "0750"}],
                        "private_files": [
                            {
                                "path": str(tmp_path / "etc" / "app.json"),
                                "content": content,
                                "mode": "0640",
                                "validate": "%s -c '%s' %%s" % (sys.executable, CAREFUL_NOT),
                            }
                        ],
                        "secrets": [SECRET],
                    },
                }
            ],
        }
    ]


def test_private_file_checked_and_never_shown(tmp_path):
    config = tmp_path / "etc" / "app.json"
    good = '{"ok": true, "password": "%s"}\n' % SECRET
    first = run_playbook(tmp_path, play(tmp_path, good), args=("-vvv", "--diff"))
    assert first.rc == 0, first.output
    result = first.task(TASK)["result"]
    assert result["changed"] and result["written"] == [str(config)]
    assert config.read_text() == good and oct(config.stat().st_mode & 0o777) == "0o640"

    again = run_playbook(tmp_path, play(tmp_path, good), args=("-vvv", "--diff"))
    assert again.rc == 0 and again.changed_tasks() == [], again.output

    bad = '{"password": "%s-new"}\n' % SECRET
    refused = run_playbook(tmp_path, play(tmp_path, bad), args=("-vvv", "--diff"))
    assert refused.rc != 0
    failure = refused.task(TASK)["result"]
    assert failure["msg"].startswith("%s: refused by its check (exit 3), left as it was: " % config), failure["msg"]
    assert config.read_text() == good  # the running configuration stays
    assert sorted(p.name for p in config.parent.iterdir()) == ["app.json"]  # no candidate left behind

    check = run_playbook(tmp_path, play(tmp_path, bad, check_mode=True), args=("-vvv", "--diff"))
    assert check.rc == 0 and check.task(TASK)["result"]["written"] == [str(config)], check.output
    assert config.read_text() == good

    for run in (first, again, refused, check):
        assert SECRET not in run.output
        assert SECRET not in repr(run.results)


def test_the_result_gives_each_code_file_by_its_size_not_its_contents(tmp_path):
    """The code travels as arguments; the result (every run's, into every AWX job event) names each file's size."""
    code = "# %s\n" % ("a line of the responder's code " * 200)
    path = str(tmp_path / "pkg" / "service.py")
    task = {"directories": [{"path": str(tmp_path / "pkg"), "mode": "0755"}], "files": {path: code}}
    tasks = [{"name": TASK, "pbxops.autoprov.responder_files": task}]
    playbook = [{"name": "code", "hosts": "localhost", "gather_facts": False, "tasks": tasks}]
    for attempt in ("first", "again"):
        run = run_playbook(tmp_path, playbook, args=("-vvv",))
        assert run.rc == 0, run.output
        result = run.task(TASK)["result"]
        assert result["written"] == ([path] if attempt == "first" else [])
        assert result["invocation"]["module_args"]["files"] == {path: "(%d characters)" % len(code)}
        assert "a line of the responder's code" not in run.output and "a line of the responder" not in repr(run.results)
    assert (tmp_path / "pkg" / "service.py").read_text() == code
