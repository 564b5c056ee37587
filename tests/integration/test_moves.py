"""Moving a phone from one PBX to another (issue 15 item 2; docs/inventory.md, "Moving phones between PBXes").

Two PBXes of one inventory (their responders as processes in one namespace, on their own ports) and a
Yealink phone in another namespace, played by curl (its fetches) and sipp (its SIP stack, for the
resync NOTIFY). The device moves in the inventory; the old PBX hands it a file that points it at the
new one and asks it to fetch; the phone fetches there; the next run drops it from the old PBX.

Addresses: 10.99.41.0/24.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import shutil
import signal

import pytest
from helpers import netns_python, run_playbook
from responder_support import user_agent
from test_resync import EVENT, Sipp, scenario

PBX_IP, PHONE_IP, NEW_REGISTRAR = "10.99.41.1", "10.99.41.20", "10.99.41.2"
MAC, FILE = "0015654ab001", "0015654ab001.cfg"
PHONE = {"mac": "00:15:65:4a:b0:01", "model": "T46S", "lines": [{"extension": "301", "secret": "Sip-S3cret-move-301"}]}
PBX = {
    "pbx-old": {"port": 18080, "sip": 15060, "token": "OldT0kenMove", "password": "Old-Http-Pass-move", "registrar": PBX_IP},
    "pbx-new": {"port": 18081, "sip": 15061, "token": "NewT0kenMove", "password": "New-Http-Pass-move", "registrar": NEW_REGISTRAR},
}
STAYS = {"mac": "00:15:65:4a:b0:02", "model": "T46S", "lines": [{"extension": "302", "secret": "Sip-S3cret-stay-302"}]}
SECRETS = [PHONE["lines"][0]["secret"], STAYS["lines"][0]["secret"]] + [p["password"] for p in PBX.values()]
SITE = "pbxops.autoprov.site"

pytestmark = pytest.mark.skipif(shutil.which("sipp") is None, reason="needs sipp (Debian sip-tester)")


def pbx_vars(work, name, devices):
    pbx = PBX[name]
    base = work / name
    return {
        "ansible_connection": "local",
        "autoprov_method": "pnp",
        "autoprov_sip_server": pbx["registrar"],
        "autoprov_server_url": "http://%s:%d/" % (PBX_IP, pbx["port"]),
        "autoprov_url_token": pbx["token"],
        "autoprov_http_username": "phones",
        "autoprov_http_password": pbx["password"],
        "autoprov_config_root": str(base / "configs"),
        "autoprov_responder_service_manager": "process",
        "autoprov_responder_user": "",
        "autoprov_responder_install_dir": str(base / "responder" / "install"),
        "autoprov_responder_config_dir": str(base / "responder" / "etc"),
        "autoprov_responder_state_dir": str(base / "responder" / "state"),
        "autoprov_responder_sip_listen": ["%s:%d" % (PBX_IP, pbx["sip"])],
        "autoprov_responder_http_listen": ["%s:%d" % (PBX_IP, pbx["port"])],
        "autoprov_devices": devices,
    }


class Fleet:
    def __init__(self, netns, tmp_path):
        self.netns, self.work = netns, tmp_path
        self.srv, self.phone = netns.add("pbx"), netns.add("phone")
        netns.wire(self.srv, PBX_IP + "/24", self.phone, PHONE_IP + "/24")
        self.python = str(netns_python(self.srv, tmp_path))

    def site(self, old_devices, new_devices, *args):
        hosts = {}
        for name, devices in (("pbx-old", old_devices), ("pbx-new", new_devices)):
            hosts[name] = dict(pbx_vars(self.work, name, devices), ansible_python_interpreter=self.python)
        inventory = {"all": {"children": {"autoprov_pbx": {"hosts": hosts}}}}
        run = run_playbook(self.work / "ansible", SITE, inventory=inventory, args=list(args))
        for secret in SECRETS:
            assert secret not in run.output, "a secret reached the playbook's output"
        return run

    def fetch(self, name, file, pair=None, mac=MAC):
        """The phone's (`mac`'s) GET of one file from a PBX, with `pair` (default the PBX-wide one): (HTTP status, body)."""
        pbx = PBX[name]
        url = "http://%s:%d/%s/%s" % (PBX_IP, pbx["port"], pbx["token"], file)
        out = self.work / "fetched"
        cmd = ["curl", "-s", "-o", str(out), "-w", "%{http_code}", "-A", user_agent("yealink", mac), "-u"]
        cmd += ["%s:%s" % (pair or ("phones", pbx["password"])), url]
        got = self.netns.run(self.phone, cmd, check=False)
        body = out.read_text() if out.exists() else ""
        out.unlink(missing_ok=True)
        return int(got.stdout or 0), body

    def manifest(self, name):
        return json.loads((self.work / name / "configs" / ".autoprov-manifest.json").read_text())

    def stop(self):
        for name in PBX:
            pidfile = self.work / name / "responder" / "state" / "responder.pid"
            if pidfile.exists():
                try:
                    os.kill(int(pidfile.read_text()), signal.SIGTERM)
                except (ValueError, ProcessLookupError):
                    pass


@pytest.fixture
def fleet(netns, tmp_path):
    f = Fleet(netns, tmp_path)
    yield f
    f.stop()


def device_password(pbx_password, mac):
    """docs/responder.md, auth.derive_device_key then auth.device_key."""
    key = hmac.new(pbx_password.encode(), b"pbxops.autoprov device key\0", hashlib.sha256).hexdigest()
    return hmac.new(key.encode(), b"pbxops.autoprov device password\0" + mac.encode(), hashlib.sha256).hexdigest()[:24]


def _key(text, key):
    found = re.findall(r"^%s = (.*)$" % re.escape(key), text, re.M)
    return found[-1] if found else None  # the phone applies its files in order, the last value wins


CONFIGS_TASK = "pbxops.autoprov.provision : Render and ship the device configurations (prune removes the files of devices that left)"


def _moves(run):
    return [r["result"].get("moves") for r in run.results if r["task"] == CONFIGS_TASK and r["host"] == "pbx-old"]


def test_a_phone_moves_to_another_pbx_and_the_old_one_lets_it_go(fleet):
    first = fleet.site([PHONE, STAYS], [])
    assert first.rc == 0, first.output[-3000:]
    status, body = fleet.fetch("pbx-old", FILE)
    assert status == 200 and _key(body, "account.1.sip_server.1.address") == PBX_IP
    stays = fleet.work / "pbx-old" / "configs" / "0015654ab002.cfg"
    stays_before = stays.read_bytes()

    # The device moves in the inventory, but the run leaves its new PBX out: nothing is known of the
    # new PBX's settings, so the old one keeps the device's files as they are and says so.
    limited = fleet.site([STAYS], [PHONE], "--limit", "pbx-old")
    assert limited.rc == 0, limited.output[-3000:]
    assert _moves(limited)[-1] == [{"mac": MAC, "to": "pbx-new", "state": "kept"}]
    assert "00:15:65:4a:b0:01 moved to pbx-new, which is not in this run" in limited.output
    assert fleet.fetch("pbx-old", FILE) == (200, body)

    # The device moves in the inventory. The old PBX points it at the new one and asks it to fetch now.
    phone_sip = Sipp(fleet.netns, fleet.phone, fleet.work, PHONE_IP, 5060, scenario("sip:301@%s:5060" % PHONE_IP, EVENT, "200 OK"))
    moved = fleet.site([STAYS], [PHONE])
    assert moved.rc == 0, moved.output[-3000:]
    assert _moves(moved)[-1] == [{"mac": MAC, "to": "pbx-new", "state": "pointed"}]
    said = moved.task("pbxops.autoprov.provision : Say which moved devices have not fetched at their new PBX yet", "pbx-old")
    waiting = "pbx-old: still pointing 1 moved device(s) at their new PBX (they have not fetched there yet): 00:15:65:4a:b0:01"
    assert said["result"]["msg"] == waiting
    assert fleet.manifest("pbx-old")["devices"][MAC]["moved_to"] == "pbx-new"
    rc, errors = phone_sip.finished()
    assert rc == 0, errors  # the NOTIFY came from the old PBX, with the Event Yealink acts on
    # A rerun before the phone did anything: nothing changes, the move stays pointed.
    again = fleet.site([STAYS], [PHONE])
    assert again.rc == 0 and again.changed_tasks() == [] and _moves(again)[-1][0]["state"] == "pointed"

    # The phone asks the old PBX, as it was told to: what it gets there registers it at the new PBX and
    # sends its next fetch there, with its own pair of the new PBX (Yealink: <mac>.cfg is read after the
    # common file, so its values win; templates/yealink/reference.yml; the pair: docs/responder.md).
    status, body = fleet.fetch("pbx-old", FILE)
    assert status == 200
    new = PBX["pbx-new"]
    assert _key(body, "account.1.sip_server.1.address") == NEW_REGISTRAR
    assert _key(body, "static.auto_provision.server.url") == "http://%s:%d/%s/" % (PBX_IP, new["port"], new["token"])
    pair = (_key(body, "static.auto_provision.server.username"), _key(body, "static.auto_provision.server.password"))
    assert pair == (MAC, device_password(new["password"], MAC))
    status, at_new = fleet.fetch("pbx-new", FILE, pair=pair)
    assert status == 200 and at_new == body  # the same file as the new PBX's own

    # The new PBX's status shows the fetch: the old PBX drops the device, and a rerun changes nothing.
    done = fleet.site([STAYS], [PHONE])
    assert done.rc == 0, done.output[-3000:]
    assert _moves(done)[-1] == [{"mac": MAC, "to": "pbx-new", "state": "done"}]
    assert MAC not in fleet.manifest("pbx-old")["devices"]
    assert not (fleet.work / "pbx-old" / "configs" / FILE).exists()
    assert fleet.fetch("pbx-old", FILE)[0] in (403, 404)
    assert fleet.fetch("pbx-new", FILE)[0] == 200
    settled = fleet.site([STAYS], [PHONE])
    assert settled.rc == 0 and settled.changed_tasks() == []
    assert stays.read_bytes() == stays_before  # the phone that stayed: its file never changed


def _moves_of(run, host):
    return [r["result"].get("moves") for r in run.results if r["task"] == CONFIGS_TASK and r["host"] == host]


def test_a_whole_pbx_cuts_over_and_a_move_rolls_back(fleet):
    """Cutover: every device of the old PBX moves; rollback: one goes back by the reverse inventory change."""
    first = fleet.site([PHONE, STAYS], [])
    assert first.rc == 0, first.output[-3000:]
    old = PBX["pbx-old"]
    cut = fleet.site([], [PHONE, STAYS], "-e", "autoprov_resync_moves=false")  # no phone SIP stack in this test
    assert cut.rc == 0, cut.output[-3000:]
    assert sorted(m["mac"] for m in _moves_of(cut, "pbx-old")[-1] if m["state"] == "pointed") == [MAC, "0015654ab002"]
    assert not [r for r in cut.results if r["task"].endswith("(SIP NOTIFY check-sync)") and r["status"] != "skipped"]

    # Rollback of one: PHONE is the old PBX's own again (its own settings, no moved_to) and the new PBX
    # now points it back; STAYS keeps moving.
    back = fleet.site([PHONE], [STAYS], "-e", "autoprov_resync_moves=false")
    assert back.rc == 0, back.output[-3000:]
    assert _moves_of(back, "pbx-old")[-1] == [{"mac": "0015654ab002", "to": "pbx-new", "state": "pointed"}]
    assert _moves_of(back, "pbx-new")[-1] == [{"mac": MAC, "to": "pbx-old", "state": "pointed"}]
    assert "moved_to" not in fleet.manifest("pbx-old")["devices"][MAC]
    status, at_old = fleet.fetch("pbx-old", FILE)
    assert status == 200 and _key(at_old, "static.auto_provision.server.url") == "http://%s:%d/%s/" % (PBX_IP, old["port"], old["token"])
    status, at_new = fleet.fetch("pbx-new", FILE)
    assert status == 200 and at_new == at_old  # the new PBX hands it the old PBX's file

    # STAYS fetches at the old PBX, then at the new one; the next run finishes its move and the old
    # PBX holds only what is its own.
    status, body = fleet.fetch("pbx-old", "0015654ab002.cfg", mac="0015654ab002")
    assert status == 200 and _key(body, "account.1.sip_server.1.address") == NEW_REGISTRAR
    assert fleet.fetch("pbx-new", "0015654ab002.cfg", mac="0015654ab002")[0] == 200
    finished = fleet.site([PHONE], [STAYS], "-e", "autoprov_resync_moves=false")
    assert finished.rc == 0, finished.output[-3000:]
    assert {"mac": "0015654ab002", "to": "pbx-new", "state": "done"} in _moves_of(finished, "pbx-old")[-1]
    assert sorted(fleet.manifest("pbx-old")["devices"]) == [MAC]
    assert {"mac": MAC, "to": "pbx-old", "state": "done"} in _moves_of(finished, "pbx-new")[-1]  # it fetched at the old PBX
    assert sorted(fleet.manifest("pbx-new")["devices"]) == ["0015654ab002"]
