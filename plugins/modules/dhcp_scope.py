#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: dhcp_scope
short_description: Put the provisioning URL (option 66 and friends) into a DHCP scope on Kea, ISC dhcpd or dnsmasq
version_added: 0.1.0
description:
  - Makes the DHCP server hand out the phones' provisioning URL (option 66) and, where asked, further options
    (67, 150, 160, 43, 42, 2 or any other code), each optionally only to one vendor class (for example only
    Polycom phones get option 160).
  - On a third-party DHCP server (O(create=false), the default) it adds or updates only its own options in the
    named, existing subnet. Other subnets, reservations, global options, hooks and comments stay as they were, and
    O(state=absent) removes exactly what it added.
  - When the PBX itself is the DHCP server (O(create=true)) it creates the subnet with its pools, routers, DNS
    servers and lease time.
  - Kea is changed through its control agent (C(config-get), C(config-test), C(config-set), C(config-write)) when
    O(control_agent_url) is given, otherwise by editing its config file in place, keeping comments and includes.
    ISC dhcpd and dnsmasq get one managed drop-in file per subnet and a single include line in the user's files.
  - Every change is first judged by the server's own checker (C(kea-dhcp4 -t), C(dhcpd -t), C(dnsmasq --test)) or
    C(config-test); a timestamped backup is kept; the service is reloaded and watched. If the server rejects the
    change or does not come back healthy, the previous config is restored (and the service restarted) and the task
    fails saying what happened.
  - The task's input is checked on the controller (with netaddr) before anything on the DHCP host is touched; see
    C(docs/dhcp.md) in the collection for what each backend writes.
author: pbxops maintainers (@pbxops)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - pbxops.autoprov.attributes
  - ansible.builtin.action_common_attributes.flow
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details: The config files that change (Kea control agent - the running config as JSON), database passwords masked.
  action:
    support: full
    details: The action plugin checks the scope on the controller (netaddr) before the module runs on the DHCP host.
  async:
    support: none
  bypass_host_loop:
    support: none
  idempotent:
    description: When run twice with the same parameters, the second run reports no change.
    support: full
  safe_file_operations:
    description: Files are written atomically (temporary file and rename) and keep their mode and owner.
    support: full
options:
  backend:
    description: The DHCP server software.
    type: str
    required: true
    choices: [kea, isc_dhcpd, dnsmasq]
  subnet:
    description: The IPv4 subnet in CIDR form, for example V(192.0.2.0/24).
    type: str
    required: true
  state:
    description: V(present) adds or updates our options (or subnet); V(absent) removes exactly what this module added.
    type: str
    default: present
    choices: [present, absent]
  create:
    description:
      - V(false) (a third-party DHCP server) - the subnet must exist; only the provisioning options are added to it.
      - V(true) (the PBX is the DHCP server) - create the subnet with O(pools), O(routers), O(dns_servers) and
        O(lease_time); fails if a subnet with this prefix exists that this module did not create.
    type: bool
    default: false
  provisioning_url:
    description:
      - Option 66. A URL (http, https, tftp, ftp, ftps) or a host name or IPv4 address, without credentials (give
        those in O(provisioning_username) and O(provisioning_password)).
      - Default - the host's C(autoprov_server_url) (the PBX's provisioning URL), when it is set.
    type: str
  provisioning_username:
    description:
      - HTTP user of the config host, put into the option 66 URL (V(http://user:password@host/...)) so that phones
        provisioned by DHCP can fetch the files that hold secrets (the config host demands credentials for those).
      - Option 66 reaches every DHCP client of the subnet; the config host also matches the User-Agent's MAC and
        locks out MAC guessing, so the credentials alone give no phone's file away.
    type: str
  provisioning_password:
    description: Password for O(provisioning_username). Never shown, in diffs neither.
    type: str
  options:
    description: Further options.
    type: list
    elements: dict
    default: []
    suboptions:
      code:
        description:
          - The option code. Known without O(options[].type) - V(2) (int32), V(42) and V(150) (IPv4 addresses),
            V(43) (hex bytes), V(66), V(67) and V(160) (strings; 66 and 160 must be a URL or host).
          - Codes the server sets itself (1, 3, 6, 50-61, 81, 82) are refused; use O(routers) and O(dns_servers).
        type: int
        required: true
      value:
        description: The value - a string, a number, a list of IPv4 addresses, or hex bytes such as V(01:04:c0:a8:00:01).
        type: raw
        required: true
      vendor_class:
        description:
          - Send this option only to clients whose vendor class (option 60) starts with this text (dnsmasq - contains it).
        type: str
      type:
        description: The value's type; required for codes not listed under O(options[].code).
        type: str
        choices: [string, hex, ipv4-list, uint8, uint16, uint32, int32]
  pools:
    description:
      - Address pools, V(FIRST-LAST) or a CIDR block, inside the subnet, not overlapping each other, the routers or
        the PBX address. Only with O(create=true), which needs at least one.
    type: list
    elements: str
    default: []
  routers:
    description: Default gateways (option 3), host addresses of the subnet. Only with O(create=true).
    type: list
    elements: str
    default: []
  dns_servers:
    description: DNS servers (option 6). Only with O(create=true).
    type: list
    elements: str
    default: []
  lease_time:
    description: Lease time in seconds (at least 120). Only with O(create=true); default is the server's own.
    type: int
  pbx_address:
    description:
      - The PBX's address; pools must leave it out. Default - the host of O(provisioning_url) when that is an IPv4
        address inside the subnet.
    type: str
  config_file:
    description:
      - The server's main config file. Defaults - V(/etc/kea/kea-dhcp4.conf), V(/etc/dhcp/dhcpd.conf),
        V(/etc/dnsmasq.conf).
      - Kea with O(control_agent_url) - where C(config-write) saves the running config (default - the file Kea was
        started with) and where the backup goes.
    type: path
  dropin_dir:
    description:
      - ISC dhcpd and dnsmasq - the directory of the managed drop-in files. Defaults - C(pbxops-autoprov) (dhcpd) or
        C(dnsmasq.pbxops-autoprov) (dnsmasq) next to O(config_file). Must not be a conf-dir dnsmasq already reads.
    type: path
  config_dirs:
    description:
      - dnsmasq - directories the service reads besides O(config_file) (its C(--conf-dir) on the command line, as
        Debian's C(/etc/dnsmasq.d)), in dnsmasq's C(DIR[,filters]) form; searched for the subnet's dhcp-range and
        passed to the checker.
    type: list
    elements: path
    default: []
  check_command:
    description: The server's config checker, instead of the default; it must exit non-zero on a bad config.
    type: list
    elements: str
  control_agent_url:
    description: Kea only - the control agent's URL, for example V(http://127.0.0.1:8000/). Without it the file is edited.
    type: str
  control_agent_user:
    description: User for the control agent's HTTP basic authentication.
    type: str
  control_agent_password:
    description: Password for the control agent's HTTP basic authentication.
    type: str
  validate_certs:
    description: Verify the control agent's TLS certificate.
    type: bool
    default: true
  ca_path:
    description: CA certificate file for the control agent's TLS.
    type: path
  service:
    description:
      - How the server picks up the new config and how its health is judged. Without commands or O(service.pid_file),
        systemd - Kea gets SIGHUP (C(systemctl kill -s HUP)), dhcpd and dnsmasq are restarted (dnsmasq re-reads only
        its host files on SIGHUP, dhcpd has no reload).
      - With the control agent, Kea applies the config itself; only O(service.health_command) and
        O(service.timeout) are used.
    type: dict
    default: {}
    suboptions:
      manage:
        description: V(false) - only write the config (checked); the caller reloads the server.
        type: bool
        default: true
      name:
        description: The systemd unit. Defaults - C(kea-dhcp4-server), C(isc-dhcp-server), C(dnsmasq).
        type: str
      reload_command:
        description: Command (argument list, no shell) that makes the server load the new config.
        type: list
        elements: str
      restart_command:
        description: Command that restarts the server; used to reload dhcpd and dnsmasq and after a rollback.
        type: list
        elements: str
      pid_file:
        description:
          - The server's pid file. The server is healthy while that process runs; Kea is reloaded with SIGHUP to it
            unless O(service.reload_command) is given. dhcpd and dnsmasq also need O(service.restart_command).
        type: path
      health_command:
        description: An extra health check run after the reload; non-zero means unhealthy and rolls the change back.
        type: list
        elements: str
      settle:
        description: Seconds the server must stay up after the reload before it counts as healthy.
        type: float
        default: 1.0
      timeout:
        description: Seconds to wait for the server (and for the control agent).
        type: float
        default: 15.0
  scope:
    description: Internal, set by the action plugin. Do not set it in a task.
    type: dict
notes:
  - Runs for the same server config on one host wait for each other (a lock in the temporary directory), so a play
    with forks may add many subnets to one server.
  - The option values go out byte for byte as given, except that dnsmasq always ends options 66 and 67 with a NUL
    byte (its fix for old PXE ROMs, which no setting turns off); see C(docs/dhcp.md).
  - Kea through the control agent - C(config-write) saves the running config, so the file loses its comments and
    includes; edit the file (no O(control_agent_url)) to keep them.
seealso:
  - module: pbxops.autoprov.device_configs
"""

EXAMPLES = r"""
- name: Option 66 on the site's Kea server (third party), through its control agent
  pbxops.autoprov.dhcp_scope:
    backend: kea
    subnet: 192.0.2.0/24
    provisioning_url: "{{ autoprov_server_url }}"
    control_agent_url: http://127.0.0.1:8000/
    control_agent_user: kea
    control_agent_password: "{{ vault_kea_agent_password }}"

- name: Option 66 for everyone, option 160 only for Polycom phones, on dnsmasq
  pbxops.autoprov.dhcp_scope:
    backend: dnsmasq
    subnet: 192.0.2.0/24
    provisioning_url: "{{ autoprov_server_url }}"
    options:
      - code: 160
        value: "{{ autoprov_server_url }}"
        vendor_class: Polycom
      - code: 42
        value: [192.0.2.1]

- name: The PBX is the DHCP server (ISC dhcpd, no systemd here)
  pbxops.autoprov.dhcp_scope:
    backend: isc_dhcpd
    create: true
    subnet: 192.0.2.0/24
    pools: [192.0.2.100-192.0.2.199]
    routers: [192.0.2.1]
    dns_servers: [192.0.2.1]
    lease_time: 86400
    provisioning_url: http://192.0.2.10:8080/p/TOKEN/
    service:
      pid_file: /run/dhcpd.pid
      restart_command: [/usr/local/sbin/restart-dhcpd]

- name: Take our options out again
  pbxops.autoprov.dhcp_scope:
    backend: kea
    subnet: 192.0.2.0/24
    state: absent
"""

RETURN = r"""
backend:
  description: The backend used (V(kea) through the control agent is reported as V(kea)).
  returned: always
  type: str
subnet:
  description: The subnet, normalised.
  returned: always
  type: str
  sample: 192.0.2.0/24
files:
  description: Config files written, created or removed (none with the control agent).
  returned: always
  type: list
  elements: str
backups:
  description: Timestamped copies of the previous config (names end in C(.autoprov~)).
  returned: always
  type: list
  elements: str
notes:
  description: What the backend decided, for example which dnsmasq tag scopes the options to the subnet.
  returned: always
  type: list
  elements: str
rolled_back:
  description: On failure - the previous config was restored (or never left).
  returned: failure
  type: bool
"""

from urllib.parse import quote

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.pbxops.autoprov.plugins.module_utils._dhcp.backend import DhcpError, Runner, exclusive
from ansible_collections.pbxops.autoprov.plugins.module_utils._dhcp.dnsmasq import Dnsmasq
from ansible_collections.pbxops.autoprov.plugins.module_utils._dhcp.isc import IscDhcpd
from ansible_collections.pbxops.autoprov.plugins.module_utils._dhcp.kea import KeaAgent, KeaFile
from ansible_collections.pbxops.autoprov.plugins.module_utils._dhcp.spec import ARGUMENT_SPEC
from ansible_collections.pbxops.autoprov.plugins.module_utils._urls import with_credentials


def backend_for(params, scope, runner):
    if params["backend"] == "kea":
        return (KeaAgent if params.get("control_agent_url") else KeaFile)(params, scope, runner)
    return {"isc_dhcpd": IscDhcpd, "dnsmasq": Dnsmasq}[params["backend"]](params, scope, runner)


def add_credentials(module, scope):
    """Put provisioning_username/password into option 66, here on the DHCP host (never in the task's scope)."""
    username, password = module.params["provisioning_username"], module.params["provisioning_password"]
    if not username:
        return
    # The URL carries the password %-quoted: mask that spelling in every output (the diff included) too.
    module.no_log_values.add(quote(password or "", safe=""))
    for option in scope["options"]:
        if option["code"] == 66 and option["vendor_class"] is None and option["value"] == module.params["provisioning_url"]:
            option["value"] = with_credentials(option["value"], username, password)


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    scope = module.params["scope"]
    if not scope:
        module.fail_json(msg="pbxops.autoprov.dhcp_scope checks its input on the controller; run it as a task, not as a bare module")
    add_credentials(module, scope)
    result = dict(changed=False, backend=module.params["backend"], subnet=scope["subnet"], files=[], backups=[], notes=[])
    try:
        backend = backend_for(module.params, scope, Runner(module))
        with exclusive(backend.lock_name):
            plan = backend.plan()
            result.update(changed=plan.changed, files=sorted(plan.files), notes=plan.notes)
            if module._diff:
                result["diff"] = plan.diffs()
            if plan.changed and not module.check_mode:
                result["backups"] = backend.apply(plan)
    except DhcpError as exc:
        result.update(exc.details)
        module.fail_json(msg=exc.msg, **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
