# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""pbxops.autoprov.responder_files: argument spec and body (the module file holds the documentation)."""

from __future__ import annotations

import json
import os
import shlex
import traceback

from ansible_collections.pbxops.autoprov.plugins.module_utils import _responder_ctl
from ansible_collections.pbxops.autoprov.plugins.module_utils._files import fileops as _fileops
from ansible_collections.pbxops.autoprov.plugins.module_utils._files import install as _install_files

ARGUMENT_SPEC = dict(
    directories=dict(
        type="list",
        elements="dict",
        default=[],
        options=dict(
            path=dict(type="path", required=True),
            mode=dict(type="raw", required=True),
            owner=dict(type="str"),
            group=dict(type="str"),
            create_only=dict(type="bool", default=False),
        ),
    ),
    files=dict(type="dict", default={}),
    file_mode=dict(type="raw", default="0644"),
    file_owner=dict(type="str"),
    file_group=dict(type="str"),
    prune=dict(
        type="list",
        elements="dict",
        default=[],
        options=dict(path=dict(type="path", required=True), pattern=dict(type="str", default="*")),
    ),
    private_files=dict(
        type="list",
        elements="dict",
        default=[],
        options=dict(
            path=dict(type="path", required=True),
            content=dict(type="str", required=True, no_log=True),
            mode=dict(type="raw", default="0600"),
            owner=dict(type="str"),
            group=dict(type="str"),
            validate=dict(type="str"),
        ),
    ),
    secrets=dict(type="list", elements="str", default=[], no_log=True),
    service=dict(
        type="dict",
        options=dict(
            control=dict(type="list", elements="str", required=True),
            state=dict(type="str", choices=["started", "stopped"], default="started"),
            check=dict(type="str"),
            pidfile=dict(type="str"),
        ),
    ),
)


class _BadInput(Exception):
    """A parameter the module refuses; the text names the field and what would be valid."""


def _mode(field, value):
    try:
        return _fileops.parse_mode(value)
    except ValueError as exc:
        raise _BadInput("%s: %s" % (field, exc)) from None


def _absolute(field, path):
    if not os.path.isabs(path):
        raise _BadInput("%s: %r is not an absolute path" % (field, path))
    return path


def _checked(params):
    """The parameters converge takes, checked: absolute paths, octal modes, validate commands with %s."""
    directories = [
        dict(entry, path=_absolute("directories[%d].path" % i, entry["path"]), mode=_mode("directories[%d].mode" % i, entry["mode"]))
        for i, entry in enumerate(params["directories"])
    ]
    files = {}
    for path, content in params["files"].items():
        if not isinstance(content, str):
            raise _BadInput("files: the content of %s is not text" % path)
        files[_absolute("files", path)] = content
    private_files = []
    for index, entry in enumerate(params["private_files"]):
        field = "private_files[%d]" % index
        _absolute(field + ".path", entry["path"])
        validate = shlex.split(entry["validate"]) if entry["validate"] else None
        if validate is not None and "%s" not in validate:
            raise _BadInput("%s.validate: %r needs %%s (the candidate file's path) as one of its words" % (field, entry["validate"]))
        private_files.append(dict(entry, mode=_mode(field + ".mode", entry["mode"]), validate=validate))
    return directories, files, _mode("file_mode", params["file_mode"]), private_files


class _ServiceFailed(Exception):
    """The control script or the check before a restart failed; the text says which and why."""


def _control(run, control, action):
    """Run the control script with one action; its JSON reply {changed, running, pid}."""
    rc, out, err = run(control + [action])
    try:
        reply = json.loads(out)
    except ValueError:
        reply = None
    if rc != 0 or not isinstance(reply, dict):
        why = reply.get("msg") if isinstance(reply, dict) else (err or out).strip()
        raise _ServiceFailed("the control script's %s failed (exit %d): %s" % (action, rc, why))
    return reply


def _bring_service(service, changed_files, check_mode, run, checked=False):
    """The background process to service.state after the install, in one call of its control script.

    started: restarted when this call changed anything (after service.check passed on what is now in
    place: new code must accept the configuration; not again when `checked`, a private file's validate
    command having run on it in this call), else started if it is not running (found by service.pidfile
    without the script where given); stopped: stopped. In check mode only the status is asked. Returns
    {action, changed, running, pid}.
    """
    control, state = service["control"], service["state"]
    # The pid file answers "is it running" as the script's status would, without starting a Python for it.
    pid = _responder_ctl.read_pid(service["pidfile"]) if service.get("pidfile") else None
    if check_mode:
        if service.get("pidfile"):
            now = dict(running=bool(pid), pid=pid)
        else:
            try:
                now = _control(run, control, "status")
            except _ServiceFailed:  # the control script is not installed yet (this call would write it)
                now = dict(running=False, pid=None)
        if state == "stopped":
            action = "stop" if now["running"] else "none"
        elif now["running"]:
            action = "restart" if changed_files else "none"
        else:
            action = "start"
        return dict(action=action, changed=action != "none", running=state == "started", pid=now.get("pid"))
    if state == "stopped":
        reply = _control(run, control, "stop")
        action = "stop"
    elif changed_files:
        if service["check"] and not checked:
            rc, out, err = run(shlex.split(service["check"]))
            if rc != 0:
                raise _ServiceFailed("not restarted: the check refused what is now installed (exit %d): %s" % (rc, (err or out).strip()))
        reply = _control(run, control, "restart")
        action = "restart" if reply.get("was_running") else "start"
    elif pid:  # running and nothing changed: start would be a no-op
        reply = dict(changed=False, running=True, pid=pid)
        action = "start"
    else:
        reply = _control(run, control, "start")
        action = "start"
    changed = bool(reply.get("changed"))
    return dict(action=action if changed else "none", changed=changed, running=bool(reply.get("running")), pid=reply.get("pid"))


def invocation(params):
    """The result's echo of the arguments: each of O(files) by its size, not its contents.

    The code travels as arguments (about 200 kB for the responder); echoed whole it would cross from
    the PBX to the controller again in every result, and land in every job event of an AWX run.
    """
    files = {path: "(%d characters)" % len(text) if isinstance(text, str) else text for path, text in (params["files"] or {}).items()}
    return {"module_args": dict(params, files=files)}


def run(module):
    """Converge the install in one pass; report what changed (diff mode: one line per path, never contents)."""
    params = module.params
    lean = invocation(params)

    def fail(**result):
        module.fail_json(invocation=lean, **result)

    try:
        directories, files, file_mode, private_files = _checked(params)
        result = _install_files.converge(
            directories,
            files,
            file_mode,
            params["file_owner"],
            params["file_group"],
            params["prune"],
            module.check_mode,
            private_files,
            run=module.run_command,
        )
    except _BadInput as exc:
        fail(msg=str(exc))
    except _install_files.CheckFailed as exc:
        done = exc.result
        fail(
            msg="%s: refused by its check (exit %d), left as it was: %s" % (exc.path, exc.rc, (exc.stderr or exc.stdout).strip()),
            rc=exc.rc,
            stdout=exc.stdout,
            stderr=exc.stderr,
            **{key: done[key] for key in ("changed", "created", "written", "attributes", "removed")},
        )
    except _install_files.InstallError as exc:
        fail(msg=str(exc))
    except OSError as exc:
        fail(msg=str(exc), exception=traceback.format_exc())
    if params["service"]:
        try:
            # A private file written through its validate command (the configuration, checked by the code
            # now installed) was the same check as service.check: not run twice (a Python start each).
            checked = any(entry["validate"] and entry["path"] in result["written"] for entry in private_files)
            result["service"] = _bring_service(params["service"], result["changed"], module.check_mode, module.run_command, checked)
        except _ServiceFailed as exc:
            fail(
                msg="the files are in place; %s" % exc,
                **{key: result[key] for key in ("changed", "created", "written", "attributes", "removed")},
            )
        if result["service"]["changed"]:
            result["changed"] = True
            result["before"] += "service: %s\n" % ("running" if result["service"]["action"] in ("restart", "stop") else "stopped")
            result["after"] += "service: %s\n" % ("running" if result["service"]["running"] else "stopped")
    diff = {"before": result.pop("before"), "after": result.pop("after")}
    if module._diff and result["changed"]:
        result["diff"] = diff
    module.exit_json(invocation=lean, **result)
