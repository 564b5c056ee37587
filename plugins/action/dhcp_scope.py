# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller half of pbxops.autoprov.dhcp_scope: check the scope with netaddr, then run the module on the DHCP host."""

from __future__ import annotations

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.plugins.action import ActionBase

from ansible_collections.pbxops.autoprov.plugins.module_utils._dhcp import manual
from ansible_collections.pbxops.autoprov.plugins.module_utils._dhcp.model import ScopeError, build_scope
from ansible_collections.pbxops.autoprov.plugins.module_utils._dhcp.spec import ARGUMENT_SPEC

MODULE = "pbxops.autoprov.dhcp_scope"


def backend_problems(args):
    """Settings that do not fit the chosen backend."""
    backend, problems = args["backend"], []
    if backend == "none":
        if args.get("create"):
            problems.append("create: backend none changes no DHCP server, so it creates no scope; choose kea, isc_dhcpd or dnsmasq")
        used = [f for f in ("config_file", "dropin_dir", "control_agent_url") if args.get(f)]
        problems.extend("%s: backend none touches no DHCP server" % field for field in used)
        return problems
    if backend != "kea":
        for field in ("control_agent_url", "control_agent_user", "control_agent_password", "ca_path"):
            if args.get(field):
                problems.append("%s: only for backend kea" % field)
    elif args.get("dropin_dir"):
        problems.append("dropin_dir: Kea's file is edited in place (or changed through its control agent); no drop-in is used")
    if backend != "dnsmasq" and args.get("config_dirs"):
        problems.append("config_dirs: only for backend dnsmasq")
    if args.get("control_agent_user") and not args.get("control_agent_url"):
        problems.append("control_agent_user: needs control_agent_url")
    return problems


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = True
    _supports_check_mode = True

    def run(self, tmp=None, task_vars=None):
        super().run(tmp, task_vars)
        task_vars = task_vars or {}
        host = task_vars.get("inventory_hostname", "localhost")
        validated = ArgumentSpecValidator(ARGUMENT_SPEC).validate(self._task.args)
        if validated.error_messages:
            return dict(failed=True, changed=False, msg="host %s: dhcp_scope: %s" % (host, "; ".join(validated.error_messages)))
        args = validated.validated_parameters
        if args.get("scope"):
            return dict(failed=True, changed=False, msg="host %s: dhcp_scope: scope is set by the action plugin, not by a task" % host)
        if args.get("provisioning_url") is None and args["state"] == "present" and task_vars.get("autoprov_server_url"):
            # option 66 is the PBX's provisioning URL unless the task says otherwise
            args["provisioning_url"] = str(self._templar.template(task_vars["autoprov_server_url"]))
        problems = backend_problems(args)
        try:
            scope = build_scope(args)
        except ScopeError as exc:
            problems = exc.problems + problems
        if problems:
            where = "host %s: dhcp_scope (%s, subnet %s)" % (host, args["backend"], args["subnet"])
            return dict(failed=True, changed=False, msg="%s: %s" % (where, "; ".join(problems)), problems=problems)
        if args["backend"] == "none":
            entries, text = manual.instructions(
                scope, args["provisioning_url"], args.get("provisioning_username"), args.get("provisioning_password")
            )
            return dict(changed=False, backend="none", subnet=scope["subnet"], manual=entries, msg=text)
        if args["validate_only"]:
            return dict(
                changed=False,
                backend=args["backend"],
                subnet=scope["subnet"],
                msg="host %s: dhcp_scope: the input is valid (validate_only)" % host,
            )
        module_args = dict(self._task.args, scope=scope, provisioning_url=args["provisioning_url"])
        result = self._execute_module(MODULE, module_args=module_args, task_vars=task_vars)
        if result.get("failed") and result.get("msg"):
            result["msg"] = "host %s: dhcp_scope (%s, subnet %s): %s" % (host, args["backend"], scope["subnet"], result["msg"])
        return result
