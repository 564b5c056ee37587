"""Day-two runs of the site playbook (issue 15): everything checked before the first change, the parts
left out by variable and by tag, backend none, and check mode that sends nothing to a vendor's RPS.

The PBX runs in the DHCP lab's server namespace with a real dnsmasq (tests/integration/dhcp_lab.py);
the responder runs there as a plain process on the lab's address.
"""

from __future__ import annotations

import json
import socket
import sys
import threading

import pytest
from dhcp_lab import NET_A, SERVER_A, Lab
from helpers import netns_inventory, run_playbook

HTTP_PASSWORD = "Http-S3cret-day2"
SIP_SECRET = "Sip-S3cret-day2-101"
TOKEN = "Zt4kq9Day2Token"
PHONE = {"mac": "00:15:65:4a:a9:37", "model": "T46S", "lines": [{"extension": "101", "secret": SIP_SECRET}]}
POLY = {"mac": "00:04:f2:aa:bb:01", "model": "VVX450", "lines": [{"extension": "103", "secret": SIP_SECRET + "p"}]}
TYPO = {"mac": "00:15:65:4a:a9:38", "model": "T46X", "lines": [{"extension": "102", "secret": SIP_SECRET + "x"}]}
SITE = "pbxops.autoprov.site"


def pbx_vars(work, devices, dhcp):
    return {
        "autoprov_method": "dhcp",
        "autoprov_sip_server": SERVER_A,
        "autoprov_server_url": "http://%s:18080/" % SERVER_A,
        "autoprov_url_token": TOKEN,
        "autoprov_http_username": "phones",
        "autoprov_http_password": HTTP_PASSWORD,
        "autoprov_config_root": str(work / "configs"),
        "autoprov_responder_service_manager": "process",
        "autoprov_responder_user": "",
        "autoprov_responder_install_dir": str(work / "responder" / "install"),
        "autoprov_responder_config_dir": str(work / "responder" / "etc"),
        "autoprov_responder_state_dir": str(work / "responder" / "state"),
        "autoprov_responder_sip_listen": ["%s:15060" % SERVER_A],
        "autoprov_responder_http_listen": ["%s:18080" % SERVER_A],
        "autoprov_devices": devices,
        "autoprov_dhcp": dhcp,
    }


def site(lab, work, devices, dhcp, *args):
    inventory = netns_inventory(lab.srv, lab.dir, host="pbx-a", hostvars=pbx_vars(work, devices, dhcp))
    inventory = {"all": {"children": {"autoprov_pbx": {"hosts": inventory["all"]["hosts"]}}}}
    return run_playbook(work / "ansible", SITE, inventory=inventory, args=list(args))


@pytest.fixture
def lab(netns, tmp_path):
    lab = Lab(netns, tmp_path, "dnsmasq").start()
    try:
        yield lab
    finally:
        lab.close()


def test_validation_first_switches_tags_and_backend_none(lab, tmp_path):
    work = tmp_path / "pbx"
    dhcp = dict(lab.args(), subnet=NET_A)
    original = lab.files()
    server_pid = lab.server_pid()
    url = "http://%s:18080/%s/" % (SERVER_A, TOKEN)

    # A model typo on a fresh PBX: nothing anywhere - no responder, no configs, the DHCP server untouched.
    typo = site(lab, work, [PHONE, TYPO], dhcp)
    assert typo.rc != 0
    assert "device 00:15:65:4a:a9:38 (autoprov_devices[1]): model: unknown Yealink model 'T46X'" in typo.output
    assert "nothing was changed" in typo.output
    assert not work.joinpath("configs").exists() and not work.joinpath("responder").exists()
    assert lab.files() == original and lab.server_pid() == server_pid
    # So is a bad DHCP option: checked on the controller before the responder starts.
    bad_option = site(lab, work, [PHONE], dict(dhcp, options=[{"code": 67, "value": "boot\nfile"}]))
    assert bad_option.rc != 0 and "options[0] (option 67).value" in bad_option.output
    assert not work.joinpath("responder").exists() and lab.files() == original
    # So is a rotation without a usable end of its grace window; the replaced password is never shown.
    rotation = {"autoprov_http_previous": {"password": "Old-Http-Pass-1", "until": "next week"}}
    bad_rotation = site(lab, work, [PHONE], dhcp, "-e", json.dumps(rotation))
    assert bad_rotation.rc != 0 and "pbx-a: autoprov_http_previous: a rotation's grace window needs password" in bad_rotation.output
    assert "(until: next week)" in bad_rotation.output and "Old-Http-Pass-1" not in bad_rotation.output
    assert not work.joinpath("responder").exists() and lab.files() == original

    # Left out by tag and by variable: only what was asked for runs.
    configs_only = site(lab, tmp_path / "tags", [PHONE], dhcp, "--tags", "autoprov_configs")
    assert configs_only.rc == 0, configs_only.output[-3000:]
    assert tmp_path.joinpath("tags", "configs", "0015654aa937.cfg").is_file()
    assert not tmp_path.joinpath("tags", "responder").exists() and lab.files() == original
    no_dhcp = site(lab, work, [PHONE], dhcp, "-e", "autoprov_manage_dhcp=false")
    assert no_dhcp.rc == 0, no_dhcp.output[-3000:]
    assert work.joinpath("responder", "state").is_dir() and lab.files() == original
    # backend none: the values a person sets on a router we do not manage; the password never shown.
    manual = site(lab, work, [PHONE], {"backend": "none", "subnet": NET_A, "options": [{"code": 150, "value": [SERVER_A]}]})
    assert manual.rc == 0, manual.output[-3000:]
    shown = manual.task("pbxops.autoprov.provision : Show the DHCP options to set by hand (backend none; the password as ********)")
    text = shown["result"]["msg"]
    masked = (url + "dhcp/").replace("http://", "http://phones:********@")  # its segment: status tells DHCP arrivals
    assert "option 66 (tftp-server-name): %s" % masked in text and "option 150 (tftp-server-address): %s [hex 0a63" % SERVER_A in text
    assert HTTP_PASSWORD not in manual.output and SIP_SECRET not in manual.output
    assert lab.files() == original

    skip = site(lab, work, [PHONE], dhcp, "--skip-tags", "autoprov_dhcp,autoprov_responder")
    assert skip.rc == 0 and skip.changed_tasks() == [] and lab.files() == original

    # Everything: the real dnsmasq now hands out the value backend none printed (with the real password).
    full = site(lab, work, [PHONE], dhcp)
    assert full.rc == 0, full.output[-3000:]
    assert lab.files() != original
    lease = lab.request()
    assert lease["options"][66] == masked.replace("********", HTTP_PASSWORD).encode() + b"\0"
    probe_checks(lab, work, dhcp)
    stopped = site(lab, work, [PHONE, POLY], dhcp, "-e", "autoprov_responder_state=stopped", "--tags", "autoprov_responder")
    assert stopped.rc == 0 and not work.joinpath("responder", "state", "responder.pid").exists()


def probe_checks(lab, work, dhcp):
    """pbxops.autoprov.probe: the PBX's own SIP listen address by default, every catalog vendor, a clear word for a
    MAC that is not in the inventory."""
    added = site(lab, work, [PHONE, POLY], dhcp)
    assert added.rc == 0, added.output[-3000:]
    inventory = netns_inventory(lab.srv, lab.dir, host="pbx-a", hostvars=pbx_vars(work, [PHONE, POLY], dhcp))
    inventory = {"all": {"children": {"autoprov_pbx": {"hosts": inventory["all"]["hosts"]}}}}

    def probe(mac):
        return run_playbook(work / "ansible", "pbxops.autoprov.probe", inventory=inventory, extra_vars={"autoprov_probe_mac": mac})

    booted = probe(PHONE["mac"]).task("Boot the phone (PnP, then fetch its files)")["result"]
    assert booted["answered_by"] == "%s:15060" % SERVER_A, booted  # autoprov_responder_sip_listen, no target given
    assert {f["status"] for f in booted["fetched"]} == {200}, booted["fetched"]
    poly = probe(POLY["mac"]).task("Boot the phone (PnP, then fetch its files)")["result"]
    assert poly["answered_by"] is None and poly["url"] == "http://phones:***@%s:18080/%s/" % (SERVER_A, TOKEN), poly
    got = {f["url"].rsplit("/", 1)[1]: f["status"] for f in poly["fetched"]}
    assert sorted(got) == ["000000000000.cfg", "0004f2aabb01-autoprov.cfg", "0004f2aabb01.cfg", "autoprov-site.cfg"], got
    # Poly's User-Agent carries no MAC, so the responder's User-Agent gate does not apply to it: every file comes
    # with the credentials of the URL, the one with the SIP password too.
    assert set(got.values()) == {200}, got
    stranger = probe("00:15:65:99:99:99")
    assert stranger.rc != 0 and "No first item" not in stranger.output
    assert "pbx-a: autoprov_probe_mac 00:15:65:99:99:99: not a device of this PBX's autoprov_devices (2 device(s):" in stranger.output


class Listener:
    """A TCP port that counts connections: any call to the 'RPS' shows up here."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.port, self.connections, self.stop = self.sock.getsockname()[1], 0, False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while not self.stop:
            try:
                conn, _addr = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            conn.close()

    def close(self):
        self.stop = True
        self.thread.join(2)
        self.sock.close()


def test_rps_left_out_and_check_mode_sends_nothing(tmp_path):
    listener = Listener()
    try:
        host = dict(
            pbx_vars(tmp_path, [PHONE], None),
            ansible_connection="local",
            autoprov_method="rps",
            autoprov_public_url="https://198.51.100.20:8443/",
            autoprov_rps_allow_private_url=True,
            autoprov_rps_credentials={"yealink": {"key_id": "day2-key", "secret": "Rps-S3cret-day2"}},
            autoprov_rps_api_urls={"yealink": "http://127.0.0.1:%d" % listener.port},
            autoprov_manage_responder=False,
        )
        del host["autoprov_dhcp"]
        host["ansible_python_interpreter"] = sys.executable
        inventory = {"all": {"children": {"autoprov_pbx": {"hosts": {"pbx-rps": host}}}}}

        def play(*args):
            return run_playbook(tmp_path / "ansible", SITE, inventory=inventory, args=list(args))

        left_out = play("-e", "autoprov_manage_rps=false")
        assert left_out.rc == 0, left_out.output[-3000:]
        checked = play("--check")
        assert checked.rc == 0, checked.output[-3000:]
        rps = checked.task("pbxops.autoprov.provision : Point each device's MAC at the PBX's public provisioning URL (or take it out)")
        assert "nothing was sent to the" in rps["result"]["results"][0]["msg"], rps
        skipped = play("--skip-tags", "autoprov_rps")
        assert skipped.rc == 0, skipped.output[-3000:]
        assert listener.connections == 0
        # The real run does call (the listener is no RPS, so it fails): the count above could have moved.
        real = play()
        assert real.rc != 0 and listener.connections > 0
        assert "Rps-S3cret-day2" not in real.output
    finally:
        listener.close()
