# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run the responder as a plain background process with a pid file, where there is no systemd.

Installed by the role pbxops.autoprov.responder as autoprov_responder_ctl.py (service manager
"process"); the module responder_files imports read_pid from it. Python standard library only: it
runs on the PBX without Ansible.

    python3 autoprov_responder_ctl.py --config C --pidfile P --log L --pythonpath DIR [--user U --group G] start|stop|restart|status

Prints one JSON object: {"changed": bool, "running": bool, "pid": int|null} (restart adds
"was_running": bool). start
returns only once the responder listens on its HTTP(S) ports (or has stayed up
for a second when it has none), and fails with the end of its log when it
exits instead. Python standard library only.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import time

STARTUP_TIMEOUT = 15.0
STOP_TIMEOUT = 10.0
MODULE = "autoprov_responder"


class CtlError(Exception):
    pass


def read_pid(pidfile):
    """The PID in the pid file if that process is alive and is the responder; else None."""
    try:
        with open(pidfile) as handle:
            pid = int(handle.read().strip())
    except (OSError, ValueError):
        return None
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as handle:
            cmdline = handle.read().split(b"\0")
    except OSError:
        return None
    # A recycled PID belongs to another program: then the responder is not running.
    return pid if MODULE.encode() in cmdline else None


def _tcp_listeners(config_path):
    with open(config_path) as handle:
        config = json.load(handle)
    addresses = list(config.get("http_listen", ["0.0.0.0:8080"])) + list(config.get("https_listen", []))
    targets = []
    for address in addresses:
        host, port = address.rsplit(":", 1)
        host = host.strip("[]")
        host = {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "::1"}.get(host, host)
        targets.append((host, int(port)))
    return targets


def _listening(targets):
    for target in targets:
        try:
            with socket.create_connection(target, timeout=0.5):
                pass
        except OSError:
            return False
    return True


def _log_tail(log, lines=20):
    try:
        with open(log, errors="replace") as handle:
            return "".join(handle.readlines()[-lines:])
    except OSError:
        return ""


def _demote(user, group):
    """Popen arguments that run the responder as the service user (when started as root)."""
    return {"user": user, "group": group, "extra_groups": []} if user else {}


def start(args):
    pid = read_pid(args.pidfile)
    if pid:
        return {"changed": False, "running": True, "pid": pid}
    targets = _tcp_listeners(args.config)
    # Something else already answers there: our listening check below would be fooled by it.
    taken = [target for target in targets if _listening([target])]
    if taken:
        raise CtlError("cannot start the responder: %s already in use by another process" % ", ".join("%s:%d" % target for target in taken))
    env = dict(os.environ, PYTHONPATH=args.pythonpath, PYTHONDONTWRITEBYTECODE="1")
    log = os.open(args.log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        proc = subprocess.Popen(
            [args.python, "-m", MODULE, "--config", args.config],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            cwd=os.path.dirname(os.path.abspath(args.pidfile)),
            env=env,
            start_new_session=True,  # no SIGHUP when the Ansible session ends
            **_demote(args.user, args.group),
        )
    finally:
        os.close(log)
    tmp = "%s.%d.tmp" % (args.pidfile, os.getpid())
    with open(tmp, "w") as handle:
        handle.write("%d\n" % proc.pid)
    os.replace(tmp, args.pidfile)
    deadline = time.monotonic() + STARTUP_TIMEOUT
    up_since = time.monotonic()
    while True:
        if proc.poll() is not None:
            _remove(args.pidfile)
            raise CtlError(
                "the responder exited with status %s at start; end of %s:\n%s" % (proc.returncode, args.log, _log_tail(args.log))
            )
        if (targets and _listening(targets)) or (not targets and time.monotonic() - up_since >= 1.0):
            return {"changed": True, "running": True, "pid": proc.pid}
        if time.monotonic() > deadline:
            stop(args)
            raise CtlError(
                "the responder did not listen on %s within %ds; end of %s:\n%s" % (targets, STARTUP_TIMEOUT, args.log, _log_tail(args.log))
            )
        time.sleep(0.1)


def stop(args):
    pid = read_pid(args.pidfile)
    if not pid:
        _remove(args.pidfile)
        return {"changed": False, "running": False, "pid": None}
    os.kill(pid, signal.SIGTERM)  # the responder writes pending status records, then exits
    deadline = time.monotonic() + STOP_TIMEOUT
    while read_pid(args.pidfile) == pid and time.monotonic() < deadline:
        time.sleep(0.05)
    if read_pid(args.pidfile) == pid:
        os.kill(pid, signal.SIGKILL)
    _remove(args.pidfile)
    return {"changed": True, "running": False, "pid": None}


def restart(args):
    stopped = stop(args)
    return dict(start(args), changed=True, was_running=stopped["changed"])


def status(args):
    pid = read_pid(args.pidfile)
    return {"changed": False, "running": bool(pid), "pid": pid}


def _remove(path):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", required=True)
    parser.add_argument("--pidfile", required=True)
    parser.add_argument("--log", required=True)
    parser.add_argument("--pythonpath", required=True)
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--user")
    parser.add_argument("--group")
    parser.add_argument("action", choices=("start", "stop", "restart", "status"))
    args = parser.parse_args(argv)
    # sys.stdout and SystemExit, not print and sys.exit: this file is module_utils too (read_pid), whose
    # sanity rules forbid those calls in a module.
    try:
        result = {"start": start, "stop": stop, "restart": restart, "status": status}[args.action](args)
    except (CtlError, OSError, ValueError) as exc:
        sys.stdout.write(json.dumps({"changed": False, "failed": True, "msg": str(exc)}) + "\n")
        return 1
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
