# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Argument spec of dhcp_scope, shared by the module and its action plugin."""

from __future__ import annotations

BACKENDS = ("kea", "isc_dhcpd", "dnsmasq", "none")
OPTION_TYPES = ("string", "hex", "ipv4-list", "uint8", "uint16", "uint32", "int32")

OPTION_SPEC = dict(
    code=dict(type="int", required=True),
    value=dict(type="raw", required=True),
    vendor_class=dict(type="str"),
    type=dict(type="str", choices=list(OPTION_TYPES)),
)

SERVICE_SPEC = dict(
    manage=dict(type="bool", default=True),
    name=dict(type="str"),
    reload_command=dict(type="list", elements="str"),
    restart_command=dict(type="list", elements="str"),
    pid_file=dict(type="path"),
    health_command=dict(type="list", elements="str"),
    settle=dict(type="float", default=1.0),
    timeout=dict(type="float", default=15.0),
)

ARGUMENT_SPEC = dict(
    backend=dict(type="str", required=True, choices=list(BACKENDS)),
    subnet=dict(type="str", required=True),
    state=dict(type="str", default="present", choices=["present", "absent"]),
    create=dict(type="bool", default=False),
    provisioning_url=dict(type="str"),
    provisioning_username=dict(type="str"),
    provisioning_password=dict(type="str", no_log=True),
    options=dict(type="list", elements="dict", default=[], options=OPTION_SPEC),
    pools=dict(type="list", elements="str", default=[]),
    routers=dict(type="list", elements="str", default=[]),
    dns_servers=dict(type="list", elements="str", default=[]),
    lease_time=dict(type="int"),
    pbx_address=dict(type="str"),
    config_file=dict(type="path"),
    dropin_dir=dict(type="path"),
    config_dirs=dict(type="list", elements="path", default=[]),
    check_command=dict(type="list", elements="str"),
    control_agent_url=dict(type="str"),
    control_agent_user=dict(type="str"),
    control_agent_password=dict(type="str", no_log=True),
    validate_certs=dict(type="bool", default=True),
    ca_path=dict(type="path"),
    service=dict(type="dict", default={}, options=SERVICE_SPEC),
    validate_only=dict(type="bool", default=False),
    scope=dict(type="dict"),
)
