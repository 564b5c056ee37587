#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: responder_files
short_description: Install the responder's directories, code and configuration on a PBX host in one round trip
version_added: 0.1.0
description:
  - Used by the role P(pbxops.autoprov.responder#role). Ensures a list of directories (mode, owner,
    group), a set of text files (content, one mode, owner and group for all), removes files of the
    install that are no longer part of it, and then writes the private files (configuration, TLS
    material) each checked by a command before it goes live, all in one call on the host.
  - A file is written, atomically, only when its content differs; only its attributes are fixed when
    only they differ. A run that finds everything in place changes nothing.
  - It exists for speed. The same with one M(ansible.builtin.file) task per directory and one
    M(ansible.builtin.copy) task per file costs two round trips per file on a first install and one
    per directory on every run, for every PBX of a fleet (C(bench/fleet) in the collection).
  - Python standard library only on the host.
author: pbxops maintainers (@pbxops)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: partial
    details: One line per changed path (absent, size, mode, owner); no file contents, so no secret.
  platform:
    platforms: posix
  idempotent:
    description: A second run with the same input reports no change.
    support: full
options:
  directories:
    description:
      - Directories, parents first. A missing one is created with its missing parents (parents with
        the default mode); an existing one gets O(directories[].mode), O(directories[].owner) and
        O(directories[].group) unless O(directories[].create_only).
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: Absolute path.
        type: path
        required: true
      mode:
        description: Octal mode, for example V(0750).
        type: raw
        required: true
      owner:
        description: User name or ID; empty leaves it as it is.
        type: str
      group:
        description: Group name or ID; empty leaves it as it is.
        type: str
      create_only:
        description: Set mode, owner and group only when creating it; an existing directory stays as it is.
        type: bool
        default: false
  files:
    description:
      - Absolute path to text content (UTF-8). Their directories must exist or be in O(directories).
    type: dict
    default: {}
  file_mode:
    description: Octal mode of every file of O(files).
    type: raw
    default: "0644"
  file_owner:
    description: Owner of every file of O(files) (name or ID); empty leaves it as it is.
    type: str
  file_group:
    description: Group of every file of O(files) (name or ID); empty leaves it as it is.
    type: str
  prune:
    description:
      - Directories whose regular files that match O(prune[].pattern) and are not in O(files) are removed
        (not recursive).
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: The directory.
        type: path
        required: true
      pattern:
        description: Shell glob on the file name, for example V(*.py).
        type: str
        default: "*"
  private_files:
    description:
      - Files written after everything else, in this order, each with its own mode, owner and group.
        Their contents may hold secrets and never appear in the output.
      - One with O(private_files[].validate) is written to a temporary file next to it, the command runs
        on that, and only when it exits 0 does the candidate replace the file; so the command can use
        the code this same call installed. Not run in check mode.
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: Absolute path; its directory must exist or be in O(directories).
        type: path
        required: true
      content:
        description: Text content (UTF-8).
        type: str
        required: true
      mode:
        description: Octal mode, for example V(0640).
        type: raw
        default: "0600"
      owner:
        description: User name or ID; empty leaves it as it is.
        type: str
      group:
        description: Group name or ID; empty leaves it as it is.
        type: str
      validate:
        description:
          - Command that checks the candidate, with V(%s) for its path (like the O(ansible.builtin.copy#module:validate)
            option; split like a shell would, not run through one).
          - A refusal fails the task with the command's messages; list in O(secrets) what the file holds
            that a careless check could print.
        type: str
  secrets:
    description:
      - Strings that must never appear in the output, such as the passwords inside O(private_files).
        Wherever they would (a check's messages included), Ansible shows C(********) instead.
    type: list
    elements: str
    default: []
notes:
  - File contents travel as module arguments. Those of O(files) are shown with the task's arguments at
    high verbosity, so keep them to code; put secrets in O(private_files), whose contents are C(no_log).
seealso:
  - module: ansible.builtin.copy
  - module: ansible.builtin.file
"""

EXAMPLES = r"""
- name: Install a small Python package and its directories
  pbxops.autoprov.responder_files:
    directories:
      - {path: /opt/example, mode: "0755", owner: root, group: root}
      - {path: /opt/example/pkg, mode: "0755", owner: root, group: root}
      - {path: /var/lib/example, mode: "0750", create_only: true}
    files:
      /opt/example/pkg/__init__.py: ""
      /opt/example/pkg/__main__.py: "{{ lookup('ansible.builtin.file', 'pkg/__main__.py', rstrip=false) }}"
    file_mode: "0644"
    file_owner: root
    file_group: root
    prune:
      - {path: /opt/example/pkg, pattern: "*.py"}
    private_files:
      - path: /etc/example/config.json
        content: "{{ example_config | to_nice_json }}"
        mode: "0640"
        owner: root
        group: example
        validate: env PYTHONPATH=/opt/example python3 -m pkg --check --config %s
  register: installed
  notify: Restart example
"""

RETURN = r"""
created:
  description: Directories created.
  returned: always
  type: list
  elements: str
written:
  description: Files written (new, or content changed), those of O(private_files) included.
  returned: always
  type: list
  elements: str
attributes:
  description: Directories and files whose mode, owner or group was fixed.
  returned: always
  type: list
  elements: str
removed:
  description: Files removed by O(prune).
  returned: always
  type: list
  elements: str
"""

import os
import shlex
import traceback

from ansible.module_utils.basic import AnsibleModule

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
)


def parse_mode(module, field, value):
    try:
        mode = value if isinstance(value, int) else int(str(value), 8)
    except ValueError:
        mode = -1
    if not 0 <= mode <= 0o7777:
        module.fail_json(msg="%s: %r is not an octal mode such as 0750" % (field, value))
    return mode


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    params = module.params
    directories = []
    for index, entry in enumerate(params["directories"]):
        if not os.path.isabs(entry["path"]):
            module.fail_json(msg="directories[%d].path: %r is not an absolute path" % (index, entry["path"]))
        directories.append(dict(entry, mode=parse_mode(module, "directories[%d].mode" % index, entry["mode"])))
    files = {}
    for path, content in params["files"].items():
        if not os.path.isabs(path):
            module.fail_json(msg="files: %r is not an absolute path" % path)
        if not isinstance(content, str):
            module.fail_json(msg="files: the content of %s is not text" % path)
        files[path] = content
    private_files = []
    for index, entry in enumerate(params["private_files"]):
        field = "private_files[%d]" % index
        if not os.path.isabs(entry["path"]):
            module.fail_json(msg="%s.path: %r is not an absolute path" % (field, entry["path"]))
        validate = shlex.split(entry["validate"]) if entry["validate"] else None
        if validate is not None and "%s" not in validate:
            module.fail_json(msg="%s.validate: %r needs %%s (the candidate file's path) as one of its words" % (field, entry["validate"]))
        private_files.append(dict(entry, mode=parse_mode(module, field + ".mode", entry["mode"]), validate=validate))
    try:
        result = _install_files.converge(
            directories,
            files,
            parse_mode(module, "file_mode", params["file_mode"]),
            params["file_owner"],
            params["file_group"],
            params["prune"],
            module.check_mode,
            private_files,
            run=module.run_command,
        )
    except _install_files.CheckFailed as exc:
        done = exc.result
        module.fail_json(
            msg="%s: refused by its check (exit %d), left as it was: %s" % (exc.path, exc.rc, (exc.stderr or exc.stdout).strip()),
            rc=exc.rc,
            stdout=exc.stdout,
            stderr=exc.stderr,
            **{key: done[key] for key in ("changed", "created", "written", "attributes", "removed")},
        )
    except _install_files.InstallError as exc:
        module.fail_json(msg=str(exc))
    except OSError as exc:
        module.fail_json(msg=str(exc), exception=traceback.format_exc())
    diff = {"before": result.pop("before"), "after": result.pop("after")}
    if module._diff and result["changed"]:
        result["diff"] = diff
    module.exit_json(**result)


if __name__ == "__main__":
    main()
