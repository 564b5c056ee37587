# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The small interface every dhcp_scope backend implements, and the safe way changes go live.

A backend reads the server's current config and plans the change (plan());
FileBackend.apply() then writes the planned files, lets the server's own
checker judge them, reloads the service and watches it come back; on any
failure it restores the previous files byte for byte (and restarts the
service if it had been reloaded) and raises DhcpError saying what happened.
The Kea control-agent backend has its own apply() (config-test, config-set,
config-write).

Standard library only: this runs on the DHCP server's host.
"""

from __future__ import annotations

import contextlib
import difflib
import fcntl
import hashlib
import os
import shlex
import signal
import stat
import tempfile
import time

from ansible_collections.pbxops.autoprov.plugins.module_utils._files import fileops

MARK = "pbxops.autoprov"


class DhcpError(Exception):
    """A failure for people to read; details go into the task result."""

    def __init__(self, msg, **details):
        super().__init__(msg)
        self.msg = msg
        self.details = details


class Plan:
    """What a change does: new text per file (None: delete the file) next to the old text (None: absent)."""

    def __init__(self, mask=None):
        self.files = {}
        self.old = {}
        self.notes = []
        self.mask = mask or (lambda text: text)  # hides secrets of the server's config in diffs

    def set_file(self, path, old, new):
        if old != new:
            self.files[path] = new
            self.old[path] = old

    @property
    def changed(self):
        return bool(self.files)

    def diffs(self):
        return [
            dict(before_header=path, after_header=path, before=self.mask(self.old[path] or ""), after=self.mask(self.files[path] or ""))
            for path in sorted(self.files)
        ]


def unified(diffs):
    """The diffs as unified-diff text (for messages and tests)."""
    out = []
    for d in diffs:
        out.extend(
            difflib.unified_diff(
                d["before"].splitlines(True), d["after"].splitlines(True), d["before_header"], d["after_header"], lineterm="\n"
            )
        )
    return "".join(out)


# -- text edits shared by the line-oriented backends ------------------------------------


def insert_line(text, offset, line):
    """Insert `line` as a line of its own at `offset` (a line start, or len(text)); remove_line() undoes it exactly."""
    if offset == len(text) and text and not text.endswith("\n"):
        return text + "\n" + line
    return text[:offset] + line + "\n" + text[offset:]


def remove_line(text, start, end):
    """Remove the line that spans text[start:end] (end excludes the newline), inverse of insert_line()."""
    if end < len(text) and text[end] == "\n":
        return text[:start] + text[end + 1 :]
    if start > 0 and text[start - 1] == "\n":  # the last line, without a newline: take the one before it
        return text[: start - 1] + text[end:]
    return text[:start] + text[end:]


def line_bounds(text, offset):
    """(start, end) of the line holding offset; end excludes the newline."""
    start = text.rfind("\n", 0, offset) + 1
    end = text.find("\n", offset)
    return start, len(text) if end < 0 else end


def line_number(text, offset):
    return text.count("\n", 0, offset) + 1


# -- files ------------------------------------------------------------------------------


def read_text(path):
    """The file's text, or None when it does not exist."""
    try:
        with open(path, "r", encoding="utf-8", newline="") as handle:
            return handle.read()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise DhcpError("cannot read %s: %s" % (path, exc))


def write_atomic(path, text, like=None):
    """Write text to path atomically (_files.fileops.write_atomic: file and directory fsynced); keep mode
    and owner of `like` (an os.stat_result), else 0644; the directory is made when missing."""
    directory = os.path.dirname(path) or "."
    if not os.path.isdir(directory):
        os.makedirs(directory, 0o755)
    mode = stat.S_IMODE(like.st_mode) if like is not None else 0o644
    uid, gid = (like.st_uid, like.st_gid) if like is not None and os.geteuid() == 0 else (-1, -1)
    fileops.write_atomic(path, text.encode("utf-8"), mode, uid, gid)


def backup_path(path):
    """A fresh timestamped name next to path; the trailing ~ keeps dnsmasq's conf-dir from reading it."""
    stamp = time.strftime("%Y%m%dT%H%M%S")
    candidate, n = "%s.%s.autoprov~" % (path, stamp), 1
    while os.path.exists(candidate):
        n += 1
        candidate = "%s.%s-%d.autoprov~" % (path, stamp, n)
    return candidate


class Runner:
    """Runs commands for a backend; wraps AnsibleModule so the backends stay testable."""

    def __init__(self, module):
        self.module = module

    def run(self, argv, cwd=None):
        rc, out, err = self.module.run_command([str(a) for a in argv], cwd=cwd)
        return rc, out, err

    def which(self, name):
        return self.module.get_bin_path(name, opt_dirs=["/usr/sbin", "/sbin", "/usr/local/sbin"])

    def warn(self, text):
        self.module.warn(text)


def _tail(rc, out, err, limit=1500):
    text = (err or "") + (out or "")
    lines = [line for line in text.strip().splitlines() if line.strip()]
    text = "\n".join(lines[-25:])
    return ("rc=%s: %s" % (rc, text[-limit:])).strip()


@contextlib.contextmanager
def exclusive(name, timeout=120.0):
    """One dhcp_scope at a time per server config on this host (plays with forks may target one server for many subnets)."""
    path = os.path.join(tempfile.gettempdir(), "pbxops-autoprov-dhcp-%s.lock" % hashlib.sha256(name.encode()).hexdigest()[:16])
    with open(path, "a") as handle:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise DhcpError("another dhcp_scope task has held %s for %d seconds; giving up" % (name, timeout))
                time.sleep(0.2)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# -- the service --------------------------------------------------------------------------


def process_running(pid):
    """True while the process runs; a zombie (exited, not yet reaped by its parent) does not count."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    try:
        with open("/proc/%d/stat" % pid, "r") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


class Service:
    """How the DHCP server picks up a new config and how we tell it is healthy.

    Without commands or pid_file, systemd is used. With pid_file, health means
    "the process in the pid file is alive"; servers that re-read their config
    on SIGHUP (Kea) get that signal unless reload_command is given.
    """

    def __init__(self, spec, unit, hup_reloads, runner):
        self.spec = spec or {}
        self.unit = self.spec.get("name") or unit
        self.hup_reloads = hup_reloads
        self.runner = runner

    @property
    def managed(self):
        return self.spec.get("manage", True)

    def check_usable(self):
        """Fail before any change when these settings could not reload the server, or restart it to roll back."""
        spec = self.spec
        if not self.managed or spec.get("restart_command") or (spec.get("pid_file") and self.hup_reloads):
            return
        if spec.get("pid_file"):
            raise DhcpError(
                "service.pid_file alone cannot reload %s (it re-reads its config only when restarted); give "
                "service.restart_command, or leave service empty to use systemd" % self.unit
            )
        if not self.runner.which("systemctl"):
            raise DhcpError(
                "service: no systemctl on this host; give service.restart_command (it also restarts the server after "
                "a rollback) and service.pid_file, or service.manage: false to only write the config"
            )

    def _run(self, argv, what):
        rc, out, err = self.runner.run(argv)
        if rc != 0:
            raise DhcpError("%s failed (%s): %s" % (what, " ".join(shlex.quote(a) for a in argv), _tail(rc, out, err)))

    def _pid(self):
        try:
            with open(self.spec["pid_file"], "r") as handle:
                return int(handle.read().strip() or 0) or None
        except (OSError, ValueError):
            return None

    def _systemd_active(self):
        rc, _out, _err = self.runner.run(["systemctl", "is-active", "--quiet", self.unit])
        return rc == 0

    def reload(self):
        spec = self.spec
        if spec.get("reload_command"):
            return self._run(spec["reload_command"], "service.reload_command")
        if spec.get("pid_file") and self.hup_reloads:
            pid = self._pid()
            if pid is None:
                raise DhcpError("cannot reload: no process id in %s" % spec["pid_file"])
            try:
                os.kill(pid, signal.SIGHUP)
            except OSError as exc:
                raise DhcpError("cannot reload: signal to pid %d from %s failed: %s" % (pid, spec["pid_file"], exc))
            return None
        if spec.get("pid_file") or spec.get("restart_command"):
            return self.restart()
        if self.hup_reloads and self._systemd_active():
            return self._run(["systemctl", "kill", "--signal=SIGHUP", "--kill-whom=main", self.unit], "reload")
        return self._run(["systemctl", "restart", self.unit], "restart")

    def restart(self):
        spec = self.spec
        if spec.get("restart_command"):
            return self._run(spec["restart_command"], "service.restart_command")
        if spec.get("pid_file") and self.hup_reloads:
            return self.reload()
        return self._run(["systemctl", "restart", self.unit], "restart")

    def _alive(self):
        if self.spec.get("pid_file"):
            pid = self._pid()
            if pid is None:
                return "no process id in %s" % self.spec["pid_file"]
            if not process_running(pid):
                return "the process %d from %s is not running" % (pid, self.spec["pid_file"])
            return None
        if self.spec.get("reload_command") or self.spec.get("restart_command"):
            return None  # nothing to watch but the health command
        return None if self._systemd_active() else "systemctl says %s is not active" % self.unit

    def health(self, verify=None, full=True):
        """None when the server runs (and, if full, verify() and health_command agree), else the reason."""
        timeout = float(self.spec.get("timeout") or 15.0)
        settle = float(self.spec.get("settle") if self.spec.get("settle") is not None else 1.0)
        deadline = time.monotonic() + timeout
        problem = self._alive()
        while problem and time.monotonic() < deadline:
            time.sleep(0.1)
            problem = self._alive()
        if problem:
            return problem
        time.sleep(settle)  # a server that dies right after starting shows it here
        problem = self._alive()
        if problem or not full:
            return problem
        if verify is not None:
            problem = verify()
            while problem and time.monotonic() < deadline:
                time.sleep(0.1)
                problem = verify()
            if problem:
                return problem
        if self.spec.get("health_command"):
            rc, out, err = self.runner.run(self.spec["health_command"])
            if rc != 0:
                return "service.health_command failed: %s" % _tail(rc, out, err, 600)
        return None


# -- backends -----------------------------------------------------------------------------


class Backend:
    """One DHCP server flavour: plan() what changes, apply() it safely."""

    name = None
    unit = None  # systemd unit on Debian
    hup_reloads = False  # re-reads its config on SIGHUP

    def __init__(self, params, scope, runner):
        self.params = params
        self.scope = scope
        self.runner = runner
        self.service = Service(params.get("service"), self.unit, self.hup_reloads, runner)

    @property
    def subnet(self):
        return self.scope["subnet"]

    @property
    def lock_name(self):
        """What concurrent runs must not change at the same time."""
        raise NotImplementedError

    def plan(self):
        raise NotImplementedError

    def apply(self, plan):
        raise NotImplementedError


class FileBackend(Backend):
    """A server configured by files: write, check, reload, watch; restore on failure."""

    default_config = None

    def __init__(self, params, scope, runner):
        super().__init__(params, scope, runner)
        self.config_file = params.get("config_file") or self.default_config

    @property
    def lock_name(self):
        return os.path.realpath(self.config_file)

    def check_argv(self):
        raise NotImplementedError

    def verify_live(self, plan):
        """A backend's own check that the running server took the new config: None or the reason."""
        return None

    def _checker(self):
        argv = self.params.get("check_command") or self.check_argv()
        rc, out, err = self.runner.run(argv, cwd=os.path.dirname(self.config_file) or None)
        return None if rc == 0 else _tail(rc, out, err)

    def _write(self, plan):
        self._made_dirs = []
        for path in sorted(plan.files):
            new = plan.files[path]
            if new is None:
                if os.path.lexists(path):
                    os.unlink(path)
                continue
            like = os.stat(path) if os.path.exists(path) else None
            directory = os.path.dirname(path)
            if directory and not os.path.isdir(directory):
                self._made_dirs.append(directory)
            write_atomic(path, new, like)

    def _restore(self, plan, stats):
        for path in sorted(plan.files):
            old = plan.old[path]
            if old is None:
                if os.path.lexists(path):
                    os.unlink(path)
            else:
                write_atomic(path, old, stats.get(path))
        for directory in reversed(getattr(self, "_made_dirs", [])):
            if os.path.isdir(directory) and not os.listdir(directory):
                os.rmdir(directory)

    def apply(self, plan):
        """Make the plan live or raise DhcpError; returns the backup files kept."""
        self.service.check_usable()
        stats = {path: os.stat(path) for path in plan.files if plan.old[path] is not None}
        self._write(plan)
        rejected = self._checker()
        if rejected:
            self._restore(plan, stats)
            raise DhcpError(
                "%s rejected the new config for %s, so nothing was changed: the previous files are back in place and "
                "the server was not reloaded. Checker output: %s" % (self.name, self.subnet, rejected),
                rejected=True,
                rolled_back=True,
            )
        backups = []
        for path in sorted(stats):
            backups.append(backup_path(path))
            write_atomic(backups[-1], plan.old[path], stats[path])
        if not self.service.managed:
            return backups
        problem = None
        try:
            self.service.reload()
        except DhcpError as exc:
            problem = exc.msg
        if problem is None:
            problem = self.service.health(lambda: self.verify_live(plan))
        if problem is None:
            return backups
        self._restore(plan, stats)
        try:
            self.service.restart()
            again = self.service.health(full=False)
        except DhcpError as exc:
            again = exc.msg
        state = "it is running again" if again is None else "it is NOT RUNNING: %s" % again
        raise DhcpError(
            "%s did not come back healthy after the change for %s (%s); the previous config was restored and the "
            "service restarted, %s" % (self.name, self.subnet, problem, state),
            rolled_back=True,
            healthy=again is None,
            backups=backups,
        )


def dropin_name(scope, suffix):
    """The file name of a subnet's managed drop-in, e.g. subnet-192.0.2.0_24.conf."""
    return "subnet-%s_%s%s" % (scope["network"], scope["prefixlen"], suffix)


def tag_name(scope):
    """A name for the subnet usable as a dnsmasq tag or a Kea class prefix."""
    return "pbxops-autoprov-%s-%s" % (scope["network"].replace(".", "-"), scope["prefixlen"])
