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
  - pbxops.autoprov.attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: partial
    details: One line per changed path (absent, size, mode, owner); no file contents, so no secret.
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
  service:
    description:
      - A background process (no service manager) brought to O(service.state) after the files, by its
        control script, in the same call. A separate command task would cost one more round trip, on
        every PBX of a fleet.
      - With V(started), a call that changed anything restarts the process (once O(service.check)
        accepts what is now installed), and one that changed nothing starts it only if it is not
        running. In check mode the script is asked for its status only.
    type: dict
    suboptions:
      control:
        description:
          - The control script's command line without its last word, which the module adds
            (V(start), V(stop), V(restart) or V(status)). It prints one JSON object with C(changed),
            C(running) and C(pid), and C(msg) when it fails (the role's C(autoprov_responder_ctl.py)).
        type: list
        elements: str
        required: true
      state:
        description: Whether the process should run.
        type: str
        choices: [started, stopped]
        default: started
      check:
        description:
          - Command run before a restart (split like a shell would, not run through one); when it
            exits non-zero the process keeps running as it was and the task fails with its messages.
          - Not run when this call wrote a file of O(private_files) through its C(validate) command, which
            checked the state now in place already (the role's configuration file is validated by
            the same check, on the code just installed).
        type: str
      pidfile:
        description:
          - The control script's pid file. A call that changed nothing reads it (and the process's
            command line) to find the process running, and runs the script only to start a process
            that is not; in check mode it stands for the script's V(status).
        type: str
notes:
  - File contents travel as module arguments. The result's C(invocation) (shown at high verbosity) gives
    each of O(files) by its size, not its contents, which would otherwise come back in every result (and
    into every job event of an AWX run). Keep O(files) to code; put secrets in O(private_files), whose
    contents are C(no_log).
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
service:
  description: What O(service) did (in check mode, would do).
  returned: when O(service) is given
  type: dict
  contains:
    action:
      description: V(start), V(restart), V(stop), or V(none) when the process was as wanted.
      type: str
    changed:
      description: Whether the process was started, restarted or stopped.
      type: bool
    running:
      description: Whether it runs now.
      type: bool
    pid:
      description: Its process ID, when it runs.
      type: int
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.pbxops.autoprov.plugins.module_utils._modules import responder_files as _body


def main():
    module = AnsibleModule(argument_spec=_body.ARGUMENT_SPEC, supports_check_mode=True)
    _body.run(module)


if __name__ == "__main__":
    main()
