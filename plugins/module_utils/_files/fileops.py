# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""File operations the target-side modules share: owners, attributes, atomic writes.

Python standard library only: this runs on the PBX host.
"""

from __future__ import annotations

import errno
import grp
import os
import pwd
import stat
import tempfile


class UnknownId(Exception):
    """A user or group name the host does not have; the text names it."""


def _lookup(name, kind, find):
    if name in (None, ""):
        return -1
    if str(name).isdigit():
        return int(name)
    try:
        return find(name)
    except KeyError:
        raise UnknownId("no %s %r on this host" % (kind, name)) from None


def lookup_ids(owner, group):
    """(uid, gid) of names or numbers; -1 for "leave as is"."""
    return _lookup(owner, "user", lambda n: pwd.getpwnam(n).pw_uid), _lookup(group, "group", lambda n: grp.getgrnam(n).gr_gid)


def attrs_differ(st, mode, uid, gid):
    return stat.S_IMODE(st.st_mode) != mode or (uid != -1 and st.st_uid != uid) or (gid != -1 and st.st_gid != gid)


def set_attrs(path, mode, uid, gid):
    os.chmod(path, mode)
    if uid != -1 or gid != -1:
        os.chown(path, uid, gid)


def fsync_dir(path):
    """Make the renames and unlinks in a directory durable (a file's fsync does not cover its name)."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    except OSError as exc:  # some file systems cannot fsync a directory; nothing more to do there
        if exc.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EBADF):
            raise
    finally:
        os.close(fd)


def write_atomic(path, data, mode, uid=-1, gid=-1, check=None, sync_dir=True):
    """Write bytes to path through a temporary file in the same directory: readers see old or new, never half.

    The temporary file is a dot-file (the responder never serves one) and is fsynced before it
    replaces path, so a crash leaves the old or the complete new content, never an empty file;
    the directory is fsynced afterwards unless sync_dir is False (a caller writing many files of
    one directory does that once, with fsync_dir). check, if given, is called with the temporary
    file's path before it replaces path; whatever it raises leaves path as it was.
    """
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".autoprov-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            os.fchmod(handle.fileno(), mode)
            if uid != -1 or gid != -1:
                os.fchown(handle.fileno(), uid, gid)
            handle.flush()
            os.fsync(handle.fileno())
        if check is not None:
            check(tmp)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    if sync_dir:
        fsync_dir(os.path.dirname(path) or ".")


def parse_mode(value):
    """An octal file mode ('0640', 0o640 or 416) as an int; ValueError says what would be valid."""
    try:
        mode = value if isinstance(value, int) and not isinstance(value, bool) else int(str(value), 8)
    except ValueError:
        mode = -1
    if not 0 <= mode <= 0o7777:
        raise ValueError("%r is not an octal mode such as 0640" % (value,))
    return mode
