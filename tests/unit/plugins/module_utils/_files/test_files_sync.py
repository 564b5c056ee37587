from __future__ import annotations

import hashlib
import json
import os
import stat

import pytest

from ansible_collections.pbxops.autoprov.plugins.module_utils._files import sync as fs

MODE = 0o640


def sha(text):
    return hashlib.sha256(text.encode()).hexdigest()


def manifest(files):
    return {"format": 2, "files": {n: {"sha256": sha(c), "mac": None, "vendor": "yealink", "secret": False} for n, c in files.items()}}


def sync(dest, files, prune=True, want_old=False):
    """plan then apply, the way the action plugin drives the module."""
    wanted = {n: sha(c) for n, c in files.items()}
    plan = fs.plan(str(dest), wanted, manifest(files), prune, MODE, None, None, want_old)
    if plan["changed"]:
        fs.apply(
            str(dest),
            {n: files[n] for n in plan["write"]},
            plan["fix_attrs"],
            plan["remove"],
            plan["foreign"],
            manifest(files),
            MODE,
            None,
            None,
        )
    return plan


def test_first_sync_writes_everything_then_nothing(tmp_path):
    dest = tmp_path / "root"
    files = {"a.cfg": "A\n", "sub/b.cfg": "B\n"}
    plan = sync(dest, files)
    assert plan["changed"] and sorted(plan["write"]) == ["a.cfg", "sub/b.cfg"]
    assert (dest / "a.cfg").read_text() == "A\n"
    assert stat.S_IMODE((dest / "a.cfg").stat().st_mode) == MODE
    assert json.loads((dest / fs.MANIFEST).read_text())["files"]["a.cfg"]["sha256"] == sha("A\n")
    again = sync(dest, files)
    assert not again["changed"] and again["write"] == [] and again["remove"] == []


def test_only_changed_files_are_rewritten(tmp_path):
    dest = tmp_path / "root"
    sync(dest, {"a.cfg": "A\n", "b.cfg": "B\n"})
    inode_b = (dest / "b.cfg").stat().st_ino
    plan = sync(dest, {"a.cfg": "A2\n", "b.cfg": "B\n"}, want_old=True)
    assert plan["write"] == ["a.cfg"] and plan["old"] == {"a.cfg": "A\n"}
    assert (dest / "b.cfg").stat().st_ino == inode_b


def test_prune_removes_only_files_we_wrote(tmp_path):
    dest = tmp_path / "root"
    sync(dest, {"a.cfg": "A\n", "b.cfg": "B\n"})
    (dest / "users-own.txt").write_text("keep me")
    plan = sync(dest, {"a.cfg": "A\n"})
    assert plan["remove"] == ["b.cfg"]
    assert not (dest / "b.cfg").exists()
    assert (dest / "users-own.txt").read_text() == "keep me"


def test_no_prune_keeps_old_files(tmp_path):
    dest = tmp_path / "root"
    sync(dest, {"a.cfg": "A\n", "b.cfg": "B\n"})
    plan = sync(dest, {"a.cfg": "A\n"}, prune=False)
    assert plan["remove"] == [] and (dest / "b.cfg").exists()


def test_a_foreign_file_in_our_place_is_backed_up(tmp_path):
    dest = tmp_path / "root"
    dest.mkdir()
    (dest / "a.cfg").write_text("theirs")
    plan = sync(dest, {"a.cfg": "ours"})
    assert plan["foreign"] == ["a.cfg"]
    backups = list((dest / fs.BACKUP_DIR).iterdir())
    assert len(backups) == 1 and backups[0].read_text() == "theirs"
    assert (dest / "a.cfg").read_text() == "ours"


def test_wrong_mode_is_fixed_without_rewriting(tmp_path):
    dest = tmp_path / "root"
    sync(dest, {"a.cfg": "A\n"})
    os.chmod(dest / "a.cfg", 0o644)
    plan = sync(dest, {"a.cfg": "A\n"})
    assert plan["fix_attrs"] == ["a.cfg"] and plan["write"] == []
    assert stat.S_IMODE((dest / "a.cfg").stat().st_mode) == MODE


def test_refuses_to_replace_a_symlink(tmp_path):
    dest = tmp_path / "root"
    dest.mkdir()
    (tmp_path / "elsewhere").write_text("x")
    os.symlink(tmp_path / "elsewhere", dest / "a.cfg")
    with pytest.raises(fs.SyncError, match="not a regular file"):
        sync(dest, {"a.cfg": "A"})
    assert (tmp_path / "elsewhere").read_text() == "x"


@pytest.mark.parametrize("name", ["../x", "/etc/passwd", ".hidden", "a/../b", "a//b", "", "a/.b", "a\\b"])
def test_refuses_unsafe_names(tmp_path, name):
    with pytest.raises(fs.SyncError, match="refusing file name"):
        fs.plan(str(tmp_path), {name: "0" * 64}, {"files": {}}, True, MODE, None, None, False)


def test_a_manifest_we_did_not_write_is_refused(tmp_path):
    (tmp_path / fs.MANIFEST).write_text("[1, 2]")
    with pytest.raises(fs.SyncError, match="not a manifest"):
        fs.plan(str(tmp_path), {}, {"files": {}}, True, MODE, None, None, False)


def test_unknown_owner_is_an_error(tmp_path):
    with pytest.raises(fs.SyncError, match="owner/group: no user .no-such-user-xyz. on this host"):
        fs.plan(str(tmp_path), {}, {"files": {}}, True, MODE, "no-such-user-xyz", None, False)


def test_a_group_created_later_in_the_play_plans_every_existing_file_for_its_attributes(tmp_path):
    """ids_pending (the compare before the responder role creates its group): no error, and no existing file can have it."""
    dest = tmp_path / "root"
    files = {"a.cfg": "A\n", "b.cfg": "B\n"}
    sync(dest, {"a.cfg": "A\n"})
    wanted = {n: sha(c) for n, c in files.items()}
    plan = fs.plan(str(dest), wanted, manifest(files), True, MODE, None, "no-such-group-xyz", False, ids_pending=True)
    assert plan["write"] == ["b.cfg"] and plan["fix_attrs"] == ["a.cfg"] and plan["changed"]
    with pytest.raises(fs.SyncError, match="owner/group: no group .no-such-group-xyz. on this host"):
        fs.plan(str(dest), wanted, manifest(files), True, MODE, None, "no-such-group-xyz", False)


def test_every_file_is_fsynced_before_its_rename_and_the_manifest_comes_after_the_directory(tmp_path, monkeypatch):
    """The writing order of docs/manifest.md: file fsync, rename, directory fsync, then the manifest; prune last."""
    dest = tmp_path / "root"
    sync(dest, {"old.cfg": "O\n"})
    events = []
    real_fsync, real_replace, real_unlink = os.fsync, os.replace, os.unlink

    def fsync(fd):
        target = os.readlink("/proc/self/fd/%d" % fd)
        events.append(("fsync", "dir" if os.path.isdir(target) else os.path.basename(target)))
        return real_fsync(fd)

    def replace(src, dst):
        events.append(("rename", os.path.basename(dst)))
        return real_replace(src, dst)

    def unlink(path):
        events.append(("unlink", os.path.basename(path)))
        return real_unlink(path)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    monkeypatch.setattr(os, "unlink", unlink)
    sync(dest, {"a.cfg": "A\n", "b.cfg": "B\n"})
    renames = [e for e in events if e[0] == "rename"]
    assert renames == [("rename", "a.cfg"), ("rename", "b.cfg"), ("rename", fs.MANIFEST)]
    for name in ("a.cfg", "b.cfg", fs.MANIFEST):
        rename = events.index(("rename", name))
        assert events[rename - 1][0] == "fsync" and events[rename - 1][1].startswith(".autoprov-"), events  # its temporary file
    manifest_at = events.index(("rename", fs.MANIFEST))
    assert ("fsync", "dir") in events[events.index(("rename", "b.cfg")) : manifest_at - 1], "directory not synced before the manifest"
    assert events[manifest_at + 1] == ("fsync", "dir")
    assert events.index(("unlink", "old.cfg")) > manifest_at and events[-1] == ("fsync", "dir")


def with_device(files, mac="001565aabb01"):
    m = manifest(files)
    m["devices"] = {mac: {"vendor": "yealink", "model": "T46S", "files": sorted(files)}}
    return m


def test_provisioning_windows_open_for_new_and_changed_devices_only(tmp_path):
    """A device new to the manifest or whose files change gets window = now; others keep theirs."""
    old = with_device({"a.cfg": "A\n"})
    old["devices"]["001565aabb01"]["window"] = 1000.0
    new = with_device({"a.cfg": "A\n"})
    new["devices"]["0015650000ff"] = {"vendor": "yealink", "model": "T46S", "files": ["b.cfg"]}
    stamped = fs.stamp_windows(new, old, written=["b.cfg"], now=5000.0)
    assert stamped["devices"]["001565aabb01"]["window"] == 1000.0  # unchanged: the window it had
    assert stamped["devices"]["0015650000ff"]["window"] == 5000.0  # new device
    assert fs.stamp_windows(new, old, written=["a.cfg"], now=6000.0)["devices"]["001565aabb01"]["window"] == 6000.0
    assert fs.stamp_windows(new, None, written=[], now=7.0)["devices"]["001565aabb01"]["window"] == 7.0  # no manifest yet


def test_rerun_keeps_the_window_and_is_unchanged(tmp_path):
    dest = tmp_path / "root"
    files = {"a.cfg": "A\n"}
    plan = fs.plan(str(dest), {"a.cfg": sha("A\n")}, with_device(files), True, MODE, None, None, False)
    fs.apply(str(dest), files, [], [], [], with_device(files), MODE, None, None)
    window = json.loads((dest / fs.MANIFEST).read_text())["devices"]["001565aabb01"]["window"]
    assert plan["changed"] and isinstance(window, float)
    again = fs.plan(str(dest), {"a.cfg": sha("A\n")}, with_device(files), True, MODE, None, None, False)
    assert not again["changed"]


def test_reopen_opens_the_window_again(tmp_path):
    dest = tmp_path / "root"
    files = {"a.cfg": "A\n"}
    fs.apply(str(dest), files, [], [], [], with_device(files), MODE, None, None)
    before = json.loads((dest / fs.MANIFEST).read_text())["devices"]["001565aabb01"]["window"]
    wanted = {"a.cfg": sha("A\n")}
    plan = fs.plan(str(dest), wanted, with_device(files), True, MODE, None, None, False, reopen=["001565aabb01"])
    assert plan["changed"] and plan["write"] == []  # only the manifest changes
    fs.apply(str(dest), {}, [], [], [], with_device(files), MODE, None, None, reopen=["001565aabb01"])
    assert json.loads((dest / fs.MANIFEST).read_text())["devices"]["001565aabb01"]["window"] > before


def test_departed_lists_devices_that_left_with_their_own_and_their_vendors_shared_files():
    entry = {"sha256": "0" * 64, "secret": True}
    old = {
        "files": {
            "a.cfg": dict(entry, mac="aa", vendor="yealink"),
            "b.cfg": dict(entry, mac="bb", vendor="yealink"),
            "y66.cfg": dict(entry, mac=None, vendor="yealink"),
            "f.xml": dict(entry, mac=None, vendor="fanvil"),
        },
        "devices": {"aa": {"vendor": "yealink", "files": ["a.cfg"]}, "bb": {"vendor": "yealink", "files": ["b.cfg"]}},
    }
    gone = fs.departed(old, {"devices": {"bb": {}}})
    assert list(gone) == ["aa"]
    assert gone["aa"]["device"] == old["devices"]["aa"]
    assert sorted(gone["aa"]["files"]) == ["a.cfg", "y66.cfg"]  # not b.cfg (bb's), not f.xml (another vendor's)
    assert fs.departed(None, {"devices": {}}) == {}


def test_a_reopen_in_the_same_millisecond_still_opens_a_later_window():
    old = {"devices": {"001565aabb01": {"files": ["a.cfg"], "window": 1000.0}}}
    new = fs.stamp_windows({"devices": {"001565aabb01": {"files": ["a.cfg"]}}}, old, [], 1000.0, reopen=["001565aabb01"])
    assert new["devices"]["001565aabb01"]["window"] == 1000.001
    kept = fs.stamp_windows({"devices": {"001565aabb01": {"files": ["a.cfg"]}}}, old, [], 2000.0)
    assert kept["devices"]["001565aabb01"]["window"] == 1000.0
