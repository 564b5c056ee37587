# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Target side of responder_files: directories and files of one install, compared and fixed in one pass.

Python standard library only: this runs on the PBX host. One call does what a
file task per directory and a copy task per file would do, so an install of
twenty files costs one round trip, changed or not.
"""

from __future__ import annotations

import fnmatch
import os
import stat

from ansible_collections.pbxops.autoprov.plugins.module_utils._files import fileops as _fileops


class InstallError(Exception):
    pass


class CheckFailed(InstallError):
    """The check command refused a candidate; the file it would have replaced is unchanged."""

    def __init__(self, path, rc, stdout, stderr):
        super().__init__("%s: the check command exited with %d" % (path, rc))
        self.path, self.rc, self.stdout, self.stderr = path, rc, stdout, stderr
        self.result = None  # what converge had done by then


def _ids(owner, group, check_mode):
    """(uid, gid), -1 for "leave as is". An unknown name is an error, except in check mode, where an
    earlier task would have created the user or group: then None (everything would change)."""
    try:
        return _fileops.lookup_ids(owner, group)
    except _fileops.UnknownId as exc:
        if check_mode:
            return None
        raise InstallError(str(exc)) from None


def _attrs_differ(st, mode, ids):
    if ids is None:  # check mode, user or group not there yet: it would change
        return True
    return _fileops.attrs_differ(st, mode, *ids)


def _describe(st):
    return "%s %04o %d:%d" % ("directory" if stat.S_ISDIR(st.st_mode) else "file", stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid)


def _same_content(path, data, st):
    if st.st_size != len(data):
        return False
    with open(path, "rb") as handle:
        return handle.read() == data


def _run_check(argv, path, candidate, run):
    """Run a check command on the candidate for path ("%s" in argv stands for it); CheckFailed unless it exits 0."""
    rc, out, err = run([candidate if arg == "%s" else arg for arg in argv])
    if rc != 0:
        raise CheckFailed(path, rc, out, err)


def converge(directories, files, file_mode, file_owner, file_group, prune, check_mode, private_files=(), run=None):
    """Make the host match; in check mode only say what would change.

    directories: [{path, mode, owner, group, create_only}] in order (parents first); a missing one is
    created (with its missing parents), an existing one gets mode/owner/group unless create_only.
    files: {path: text}, all with file_mode/file_owner/file_group; written atomically when the content
    differs, attributes fixed when only they differ. prune: [{path, pattern}]: regular files in that
    directory matching the glob pattern and not in files are removed.
    private_files: [{path, content, mode, owner, group, validate}] written the same way after all that, in
    order, each with its own attributes; validate (argv with "%s" for the candidate), run by run(argv) ->
    (rc, stdout, stderr) outside check mode, must pass before the candidate replaces the file, so it can
    use the code just installed. A refusal raises CheckFailed carrying the path and the result so far.

    Returns {"changed", "created", "written", "attributes", "removed", "before", "after"} (before/after:
    one line per changed path, for diff mode; never file contents).
    """
    install = _Install(check_mode)
    for entry in directories:
        install.directory(entry)
    wanted = _ids(file_owner, file_group, check_mode)
    for path, text in sorted(files.items()):
        install.file(path, text, file_mode, wanted)
    ours = {os.path.normpath(path) for path in files}
    for entry in prune:
        install.prune(entry["path"], entry.get("pattern") or "*", ours)
    for entry in private_files:
        argv = entry.get("validate")
        check = (lambda candidate, argv=argv, path=entry["path"]: _run_check(argv, path, candidate, run)) if argv else None
        try:
            install.file(entry["path"], entry["content"], entry["mode"], _ids(entry.get("owner"), entry.get("group"), check_mode), check)
        except CheckFailed as exc:
            exc.result = _finish(install.result)
            raise
    return _finish(install.result)


def _lstat(path):
    try:
        return os.lstat(path)
    except FileNotFoundError:
        return None


class _Install:
    """One pass over an install: each step compares, records what differs and (outside check mode) fixes it."""

    def __init__(self, check_mode):
        self.check_mode = check_mode
        self.result = {"created": [], "written": [], "attributes": [], "removed": [], "before": [], "after": []}

    def _record(self, kind, path, before, after):
        self.result[kind].append(path)
        self.result["before"].append("%s: %s" % (path, before))
        self.result["after"].append("%s: %s" % (path, after))

    def directory(self, entry):
        path, mode = entry["path"], entry["mode"]
        wanted = _ids(entry.get("owner"), entry.get("group"), self.check_mode)
        st = _lstat(path)
        if st is None:
            self._record("created", path, "absent", "directory %04o" % mode)
            if not self.check_mode:
                os.makedirs(path, mode)
                _fileops.set_attrs(path, mode, *wanted)  # makedirs applies the umask to mode
        elif not stat.S_ISDIR(st.st_mode):
            raise InstallError("%s exists and is not a directory" % path)
        elif not entry.get("create_only") and _attrs_differ(st, mode, wanted):
            self._record("attributes", path, _describe(st), "directory %04o" % mode)
            if not self.check_mode:
                _fileops.set_attrs(path, mode, *wanted)

    def file(self, path, text, mode, ids, check=None):
        data = text.encode("utf-8")
        st = _lstat(path)
        if st is not None and not stat.S_ISREG(st.st_mode):
            raise InstallError("%s exists and is not a regular file (a link or a directory); it is not ours to replace" % path)
        if st is None or not _same_content(path, data, st):
            if not self.check_mode:
                _fileops.write_atomic(path, data, mode, *ids, check=check)
            self._record("written", path, "absent" if st is None else "%d bytes" % st.st_size, "%d bytes, %04o" % (len(data), mode))
        elif _attrs_differ(st, mode, ids):
            self._record("attributes", path, _describe(st), "file %04o" % mode)
            if not self.check_mode:
                _fileops.set_attrs(path, mode, *ids)

    def prune(self, directory, pattern, ours):
        try:
            names = sorted(os.listdir(directory))
        except FileNotFoundError:
            return
        for name in names:
            path = os.path.join(directory, name)
            if os.path.normpath(path) in ours or not fnmatch.fnmatchcase(name, pattern):
                continue
            if stat.S_ISREG(os.lstat(path).st_mode):
                self._record("removed", path, "file", "absent")
                if not self.check_mode:
                    os.unlink(path)


def _finish(result):
    result = dict(result)
    result["changed"] = any(result[k] for k in ("created", "written", "attributes", "removed"))
    result["before"] = "\n".join(result["before"]) + "\n" if result["before"] else ""
    result["after"] = "\n".join(result["after"]) + "\n" if result["after"] else ""
    return result
