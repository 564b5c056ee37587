from __future__ import annotations

import os
import stat
import subprocess
import sys

import pytest

from ansible_collections.pbxops.autoprov.plugins.module_utils._files import install as inst


def mode_of(path):
    return stat.S_IMODE(os.lstat(path).st_mode)


def converge(tmp_path, files=None, directories=None, prune=None, check_mode=False, file_mode=0o644, owner=None, group=None):
    directories = directories if directories is not None else [{"path": str(tmp_path / "opt"), "mode": 0o755}]
    files = files if files is not None else {str(tmp_path / "opt" / "a.py"): "A\n", str(tmp_path / "opt" / "b.py"): "B\n"}
    prune = prune if prune is not None else [{"path": str(tmp_path / "opt"), "pattern": "*.py"}]
    return inst.converge(directories, files, file_mode, owner, group, prune, check_mode)


def test_installs_then_changes_nothing(tmp_path):
    first = converge(tmp_path)
    assert first["changed"] and first["created"] == [str(tmp_path / "opt")]
    assert first["written"] == [str(tmp_path / "opt" / "a.py"), str(tmp_path / "opt" / "b.py")]
    assert (tmp_path / "opt" / "a.py").read_text() == "A\n" and mode_of(tmp_path / "opt" / "a.py") == 0o644
    assert mode_of(tmp_path / "opt") == 0o755
    again = converge(tmp_path)
    assert again["changed"] is False and again["before"] == again["after"] == ""


def test_rewrites_changed_content_fixes_modes_and_prunes(tmp_path):
    converge(tmp_path)
    (tmp_path / "opt" / "a.py").write_text("edited\n")
    os.chmod(tmp_path / "opt" / "b.py", 0o600)
    os.chmod(tmp_path / "opt", 0o700)
    (tmp_path / "opt" / "old.py").write_text("")
    (tmp_path / "opt" / "notes.txt").write_text("not ours by pattern")
    os.mkdir(tmp_path / "opt" / "sub.py")  # not a regular file: left alone
    result = converge(tmp_path)
    assert result["written"] == [str(tmp_path / "opt" / "a.py")]
    assert result["attributes"] == [str(tmp_path / "opt"), str(tmp_path / "opt" / "b.py")]
    assert result["removed"] == [str(tmp_path / "opt" / "old.py")]
    assert (tmp_path / "opt" / "a.py").read_text() == "A\n"
    assert mode_of(tmp_path / "opt" / "b.py") == 0o644 and mode_of(tmp_path / "opt") == 0o755
    assert (tmp_path / "opt" / "notes.txt").exists() and (tmp_path / "opt" / "sub.py").is_dir()
    assert "a.py: 7 bytes" in result["before"] and "a.py: 2 bytes, 0644" in result["after"]
    assert not [p for p in os.listdir(tmp_path / "opt") if p.startswith(".autoprov-")]


def test_check_mode_reports_and_touches_nothing(tmp_path):
    result = converge(tmp_path, check_mode=True)
    assert result["changed"] and result["created"] == [str(tmp_path / "opt")] and len(result["written"]) == 2
    assert not (tmp_path / "opt").exists()
    converge(tmp_path)
    (tmp_path / "opt" / "a.py").write_text("edited\n")
    result = converge(tmp_path, check_mode=True)
    assert result["written"] == [str(tmp_path / "opt" / "a.py")]
    assert (tmp_path / "opt" / "a.py").read_text() == "edited\n"


def test_create_only_leaves_an_existing_directory_as_it_is(tmp_path):
    shared = tmp_path / "shared"
    directories = [{"path": str(shared), "mode": 0o750, "create_only": True}]
    created = converge(tmp_path, files={}, directories=directories, prune=[])
    assert created["created"] == [str(shared)] and mode_of(shared) == 0o750
    os.chmod(shared, 0o755)
    assert converge(tmp_path, files={}, directories=directories, prune=[])["changed"] is False
    assert mode_of(shared) == 0o755


def test_creates_missing_parents(tmp_path):
    deep = tmp_path / "a" / "b" / "c"
    result = converge(tmp_path, files={str(deep / "x.py"): "x"}, directories=[{"path": str(deep), "mode": 0o750}], prune=[])
    assert result["created"] == [str(deep)] and (deep / "x.py").read_text() == "x" and mode_of(deep) == 0o750


def test_refuses_what_is_not_ours_to_replace(tmp_path):
    (tmp_path / "opt").write_text("a file where a directory goes")
    with pytest.raises(inst.InstallError, match="opt exists and is not a directory"):
        converge(tmp_path)
    os.unlink(tmp_path / "opt")
    os.mkdir(tmp_path / "opt")
    os.symlink("/etc/passwd", tmp_path / "opt" / "a.py")
    with pytest.raises(inst.InstallError, match="a.py exists and is not a regular file"):
        converge(tmp_path)
    assert os.path.islink(tmp_path / "opt" / "a.py")


def test_unknown_owner_fails_but_check_mode_says_it_would_change(tmp_path):
    converge(tmp_path)
    with pytest.raises(inst.InstallError, match="no user 'no-such-user-autoprov' on this host"):
        converge(tmp_path, owner="no-such-user-autoprov")
    result = converge(tmp_path, owner="no-such-user-autoprov", check_mode=True)
    assert result["changed"] and sorted(result["attributes"]) == [str(tmp_path / "opt" / "a.py"), str(tmp_path / "opt" / "b.py")]


def test_owner_and_group_by_id(tmp_path):
    me, my_group = os.getuid(), os.getgid()
    converge(tmp_path, owner=str(me), group=str(my_group))
    st = os.lstat(tmp_path / "opt" / "a.py")
    assert (st.st_uid, st.st_gid) == (me, my_group)
    assert converge(tmp_path, owner=str(me), group=str(my_group))["changed"] is False


def runner(calls):
    """run(argv) for converge: runs the command for real and records it."""

    def run(argv):
        calls.append(argv)
        proc = subprocess.run(argv, capture_output=True, text=True, check=False)
        return proc.returncode, proc.stdout, proc.stderr

    return run


# The check needs the code installed by the same call: it imports opt/a.py and has it judge the candidate.
CHECK = [sys.executable, "-c", "import sys; sys.path.insert(0, sys.argv[1]); import a; sys.exit(a.judge(sys.argv[2]))"]
CODE = {
    "a.py": "def judge(path):\n"
    "    text = open(path).read()\n"
    "    print('bad: ' + text if 'bad' in text else 'ok')\n"
    "    return 2 if 'bad' in text else 0\n"
}


def converge_private(tmp_path, content, calls, check_mode=False, mode=0o640):
    config = str(tmp_path / "etc" / "config.json")
    private = [{"path": config, "content": content, "mode": mode, "validate": CHECK + [str(tmp_path / "opt"), "%s"]}]
    return inst.converge(
        [{"path": str(tmp_path / "opt"), "mode": 0o755}, {"path": str(tmp_path / "etc"), "mode": 0o750}],
        {str(tmp_path / "opt" / name): text for name, text in CODE.items()},
        0o644,
        None,
        None,
        [],
        check_mode,
        private,
        run=runner(calls),
    )


def test_private_file_is_checked_by_the_code_just_installed(tmp_path):
    calls = []
    config = tmp_path / "etc" / "config.json"
    first = converge_private(tmp_path, '{"a": 1}\n', calls)
    assert first["written"] == [str(tmp_path / "opt" / "a.py"), str(config)]
    assert config.read_text() == '{"a": 1}\n' and mode_of(config) == 0o640
    assert len(calls) == 1 and calls[0][-1] != str(config)  # it judged a candidate, not the live file
    assert "config.json: absent" in first["before"] and "{" not in first["before"] + first["after"]  # no contents in the diff
    again = converge_private(tmp_path, '{"a": 1}\n', calls)
    assert again["changed"] is False and len(calls) == 1  # unchanged: not checked again
    os.chmod(config, 0o644)
    fixed = converge_private(tmp_path, '{"a": 1}\n', calls)
    assert fixed["attributes"] == [str(config)] and mode_of(config) == 0o640 and len(calls) == 1


def test_refused_private_file_leaves_the_old_one(tmp_path):
    calls = []
    config = tmp_path / "etc" / "config.json"
    converge_private(tmp_path, '{"a": 1}\n', calls)
    (tmp_path / "opt" / "a.py").write_text("edited on the host\n")
    with pytest.raises(inst.CheckFailed) as refused:
        converge_private(tmp_path, '{"bad": 1}\n', calls)
    assert refused.value.path == str(config) and refused.value.rc == 2 and "bad:" in refused.value.stdout
    assert refused.value.result["written"] == [str(tmp_path / "opt" / "a.py")]  # the code went in, the config did not
    assert refused.value.result["changed"] is True
    assert config.read_text() == '{"a": 1}\n'
    assert not [p for p in os.listdir(tmp_path / "etc") if p.startswith(".autoprov-")]


def test_check_mode_does_not_run_the_check(tmp_path):
    calls = []
    result = converge_private(tmp_path, '{"bad": 1}\n', calls, check_mode=True)
    assert result["written"] == [str(tmp_path / "opt" / "a.py"), str(tmp_path / "etc" / "config.json")]
    assert calls == [] and not (tmp_path / "etc").exists()
