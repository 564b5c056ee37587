"""The PBX as the site's DHCP server, on a real systemd host (Debian bookworm in systemd-nspawn, over SSH).

`pbxops.autoprov.site` with `autoprov_dhcp.serve: true` (dnsmasq) installs and enables the
server, creates the phones' subnet and pool, and runs the responder under systemd; a real
DHCP client on the other end of the container's wire then gets a lease with option 66 = the
provisioning URL (with the config host's credentials) and fetches its file with them.
`pbxops.autoprov.deprovision` with `autoprov_deprovision_all` takes it all away again.

The container is this module's own (not the session's nspawn_host), so that the users and
services the role creates here never meet the responder role's own tests.
"""

from __future__ import annotations

import ipaddress
import os
import subprocess

import pytest
from helpers import ROOT, dhcp_request, run_playbook

TOKEN, HTTP_USER, HTTP_PASSWORD = "dhcpSrvTok3n", "phones", "Dhcp-Srv-Pass"
PHONE = "00:15:65:d5:00:01"
SIP_SECRET = "Dhcp-Srv-Sip-101"


@pytest.fixture(scope="module")
def pbx():
    import nspawn

    if os.geteuid() != 0 or nspawn.missing_tools():
        pytest.skip("needs root and systemd-nspawn, debootstrap, ssh")
    rootfs, _seconds = nspawn.build_rootfs()
    host = nspawn.NspawnHost(rootfs, nspawn.ssh_key()).boot()
    yield host
    host.stop()


def inventory(host):
    hosts = list(host.network.hosts())
    pool = "%s-%s" % (hosts[99], hosts[149])
    hostvars = {
        "autoprov_method": "dhcp",
        "autoprov_server_url": "http://%s:8080/" % host.address,
        "autoprov_url_token": TOKEN,
        "autoprov_http_username": HTTP_USER,
        "autoprov_http_password": HTTP_PASSWORD,
        "autoprov_sip_server": host.address,
        "autoprov_config_root": "/var/lib/autoprov/configs",
        "autoprov_responder_interfaces": ["host0"],
        "autoprov_devices": [{"mac": PHONE, "model": "T46S", "lines": [{"extension": "101", "secret": SIP_SECRET}]}],
        "autoprov_dhcp": {
            "backend": "dnsmasq",
            "serve": True,
            "scopes": [{"subnet": str(host.network), "pools": [pool], "routers": [host.host_address], "lease_time": 600}],
        },
    }
    return {"autoprov_pbx": host.inventory(**hostvars)["all"]}


def site(host, tmp_path, playbook="pbxops.autoprov.site", *args):
    return run_playbook(tmp_path, playbook, inventory=inventory(host), args=args)


def test_the_pbx_serves_dhcp_with_the_provisioning_url(pbx, tmp_path):
    first = site(pbx, tmp_path, "pbxops.autoprov.site", "--diff")
    assert first.rc == 0, first.output[-4000:]
    assert pbx.ssh("systemctl is-active dnsmasq autoprov-responder").stdout.split() == ["active", "active"]
    assert pbx.ssh("systemctl is-enabled dnsmasq").stdout.strip() == "enabled"

    # A phone on the other end of the wire asks for an address (this side of the veth: no address
    # is applied, the client only reports what it got).
    lease = dhcp_request(None, pbx.veth, tmp_path)
    assert lease is not None, pbx.ssh("journalctl -u dnsmasq --no-pager | tail -20", check=False).stdout
    hosts = list(pbx.network.hosts())
    assert hosts[99] <= ipaddress.ip_address(lease["ip"]) <= hosts[149]
    assert lease["env"]["new_routers"] == pbx.host_address
    base = "http://%s:8080/%s/" % (pbx.address, TOKEN)
    url = base.replace("http://", "http://%s:%s@" % (HTTP_USER, HTTP_PASSWORD)) + "dhcp/"  # status: arrived by DHCP
    assert lease["options"][66] == url.encode() + b"\0"  # dnsmasq ends options 66/67 with a NUL (docs/dhcp.md)

    # With the credentials option 66 carried, the phone gets its file (passwords and all).
    agent = "Yealink SIP-T46S 66.86.0.15 %s" % PHONE
    credentials = "%s:%s" % (HTTP_USER, HTTP_PASSWORD)
    fetched = subprocess.run(
        ["curl", "-s", "--digest", "-u", credentials, "-A", agent, base + "dhcp/001565d50001.cfg"],
        capture_output=True, text=True, timeout=20, check=False,
    )  # fmt: skip
    assert "account.1.password = %s" % SIP_SECRET in fetched.stdout

    second = site(pbx, tmp_path)
    assert second.rc == 0, second.output[-4000:]
    assert second.changed_tasks() == []
    for run in (first, second):
        assert HTTP_PASSWORD not in run.output and SIP_SECRET not in run.output

    gone = site(pbx, tmp_path, str(ROOT / "playbooks" / "deprovision.yml"), "-e", "autoprov_deprovision_all=true")
    assert gone.rc == 0, gone.output[-4000:]
    assert pbx.ssh("systemctl is-active autoprov-responder", check=False).stdout.strip() != "active"
    assert pbx.ssh("ls /var/lib/autoprov/configs").stdout.split() == []
    assert dhcp_request(None, pbx.veth, tmp_path, timeout=4) is None, "the phones' scope is gone with the PBX"
