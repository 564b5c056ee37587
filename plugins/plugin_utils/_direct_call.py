# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller side of device_configs' call to the target: direct where it can be, else the module.

Direct (module_utils/_files/direct.py): the target's Python runs the collection's sync code, sent
with the parameters on its standard input - no module wrapper, no files in a temporary directory,
nothing on the command line but a fixed loader. Taken only where it behaves as the module would:

- the connection takes standard input (pipelining), on a POSIX shell;
- without privilege escalation, or with pipelining enabled for it (the same condition as Ansible's
  own pipelining: a sudo that wants a tty, or a password prompt, would otherwise break it);
- the target's Python is known: ansible_python_interpreter, the interpreter discovered by an
  earlier module call on this host, or a configured path (discovery itself is the module's:
  the first call goes as the module, and the action plugin returns what it found as a fact);
- not delegated, not with ANSIBLE_KEEP_REMOTE_FILES (whoever debugs wants the module's files).
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path

from ansible import constants as C

from ansible_collections.pbxops.autoprov.plugins.module_utils._files import direct as _direct
from ansible_collections.pbxops.autoprov.plugins.module_utils._files import fileops as _fileops
from ansible_collections.pbxops.autoprov.plugins.module_utils._files import sync as _sync


def _source(module):
    return module.__name__, Path(module.__file__).name, Path(module.__file__).read_text(encoding="utf-8")


# In import order: sync imports fileops. Read once per process.
_MODULES = [_source(_fileops), _source(_sync)]
_BOOT = _source(_direct)


def python(action, task_vars):
    """The target's Python as a list of words, or None when only the module can find it."""
    given = task_vars.get("ansible_python_interpreter")
    candidates = (
        action._templar.template(given) if given else None,
        (task_vars.get("ansible_facts") or {}).get("discovered_interpreter_python"),
        C.config.get_config_value("INTERPRETER_PYTHON", variables=task_vars),
    )
    for candidate in candidates:
        if candidate and not str(candidate).startswith("auto"):  # auto, auto_silent, ...: discovery, the module's
            return shlex.split(str(candidate))
    return None


def possible(action, task_vars):
    """The command line of a direct call on this connection, or None (then the module it is)."""
    connection = action._connection
    if C.DEFAULT_KEEP_REMOTE_FILES or action._task.delegate_to:
        return None
    if not connection.has_pipelining or getattr(connection._shell, "_IS_WINDOWS", False):
        return None
    if connection.become and not connection.is_pipelining_enabled():
        return None
    words = python(action, task_vars)
    if not words:
        return None
    quote = connection._shell.quote
    environment = action._compute_environment_string()
    return " ".join(part for part in [environment, " ".join(quote(w) for w in words), "-c", quote(_direct.LOADER)] if part)


def call(action, module_name, module_args, task_vars):
    """The module's result for module_args, and how it was got: 'direct' or 'module'."""
    command = possible(action, task_vars)
    if command is None:
        return action._execute_module(module_name, module_args=module_args, task_vars=task_vars), "module"
    request = {
        "boot": _BOOT[2],
        "boot_file": _BOOT[1],
        "modules": _MODULES,
        "params": module_args,
        "check_mode": bool(action._task.check_mode),
    }
    # The contents (secrets) go on standard input only: never on a command line, never into a file.
    reply = action._low_level_execute_command(command, sudoable=True, in_data=json.dumps(request, default=str).encode("utf-8"))
    try:
        result = json.loads(reply["stdout"])
    except ValueError:
        result = None
    if reply["rc"] != 0 or not isinstance(result, dict):
        # The error stream only: what stood on standard output may be a reply with the old contents of
        # files that hold secrets (a plan for diff mode), cut off or followed by a failure.
        stdout = reply.get("stdout") or ""
        why = (reply.get("stderr") or "").strip()[-2000:] or "no reply (%d characters on standard output, not shown)" % len(stdout)
        return {"failed": True, "msg": "device_configs on the target: exit %s: %s" % (reply["rc"], why)}, "direct"
    return result, "direct"
