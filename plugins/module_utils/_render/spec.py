# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Argument spec of device_configs, shared by the module and its action plugin."""

from __future__ import annotations

ARGUMENT_SPEC = dict(
    devices=dict(type="list", elements="dict", default=[]),
    dest=dict(type="path", required=True),
    sip_server=dict(type="str"),
    sip_port=dict(type="int", default=5060),
    sip_transport=dict(type="str", default="udp", choices=["udp", "tcp", "tls"]),
    server_url=dict(type="str"),
    method=dict(type="str", choices=["pnp", "dhcp", "rps"]),
    template_dir=dict(type="path"),
    prune=dict(type="bool", default=True),
    reopen=dict(type="list", elements="str", default=[]),
    follow_moves=dict(type="bool", default=True),
    moves_done=dict(type="list", elements="str", default=[]),
    owner=dict(type="str"),
    group=dict(type="str"),
    mode=dict(type="raw", default="0640"),
    ntp_server=dict(type="str", default="pool.ntp.org"),
    timezone=dict(type="str", default="UTC"),
    language=dict(type="str", default="en"),
    admin_password=dict(type="str", no_log=True),
    device_key=dict(type="str", no_log=True),
    derive_device_key=dict(type="bool", default=False),
    resync_interval=dict(type="int", default=1440),
    firmware_url=dict(type="str"),
    firmware=dict(type="dict", default={}),
    vlan=dict(type="int"),
    codecs=dict(type="list", elements="str", default=["G722", "PCMA", "PCMU"]),
    voicemail=dict(type="str"),
    vars=dict(type="dict", default={}),
    fleet_check=dict(type="bool", default=True),
    pbx_name=dict(type="str"),
    validate_only=dict(type="bool", default=False),
    compare=dict(type="bool", default=False),
    plan=dict(type="dict"),
    sync=dict(type="dict"),
    contents=dict(type="dict", no_log=True),
)

# The options a template sees as settings.<name>.
SETTINGS = (
    "sip_server",
    "sip_port",
    "sip_transport",
    "server_url",
    "ntp_server",
    "timezone",
    "language",
    "admin_password",
    "resync_interval",
    "firmware_url",
    "firmware",
    "vlan",
    "codecs",
    "voicemail",
)
