"""resync against real phones' SIP stacks: sipp as the phone (UAS), the real responder's status store, namespaces.

LAN 10.99.70.0/24 (a switch): the PBX (responder + the resync module) and one namespace per phone.
Each phone fetched its file with curl first, so the address resync uses is the one the responder recorded.
The loss test has its own wire, 10.99.71.0/24.
"""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
from helpers import run_playbook
from responder_support import ResponderProcess, user_agent, write_root

pytestmark = pytest.mark.skipif(shutil.which("sipp") is None, reason="needs sipp (Debian sip-tester)")

PBX_IP = "10.99.70.1"
URL = "http://%s:8080/p/rs/" % PBX_IP
# name: (mac, vendor, extension, phone address or None (never seen), file)
PHONES = {
    "takes": ("001565cc0001", "yealink", "201", "10.99.70.11", "001565cc0001.cfg"),
    "refuses": ("001565cc0002", "yealink", "202", "10.99.70.12", "001565cc0002.cfg"),
    "off": ("0c383ecc0003", "fanvil", "203", "10.99.70.13", "0c383ecc0003.cfg"),
    "never": ("000b82cc0004", "grandstream", "204", None, "cfg000b82cc0004.xml"),
    "registered": ("001fc1cc0005", "htek", "205", "10.99.70.15", "cfg001fc1cc0005.xml"),
}
EVENT = "check-sync;reboot=false"
# The Event each vendor acts on where it is not EVENT, as the references record it: Grandstream and Htek
# "resync" (templates/{grandstream,htek}/reference.yml), Fanvil the plain "check-sync" that wazo-provd
# sends (templates/fanvil/reference.yml).
EVENT_OF = {"grandstream": "resync", "htek": "resync", "fanvil": "check-sync"}


def scenario(uri, event, answer, linger_ms=3000):
    """A phone's SIP stack for one NOTIFY: the Request-URI and Event must be exactly these (else sipp fails the call),
    then it answers; it stays for linger_ms to answer retransmissions (sipp repeats its answer to a repeated request)."""
    return """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="phone takes check-sync">
  <recv request="NOTIFY">
    <action>
      <ereg regexp="^NOTIFY %s SIP/2\\.0" search_in="msg" check_it="true" assign_to="uri"/>
      <ereg regexp="^ *%s *$" search_in="hdr" header="Event:" check_it="true" assign_to="ev"/>
      <ereg regexp="^ *terminated *$" search_in="hdr" header="Subscription-State:" check_it="true" assign_to="ss"/>
    </action>
  </recv>
  <send>
    <![CDATA[
SIP/2.0 %s
[last_Via:]
[last_From:]
[last_To:];tag=[pid]SIPpTag01[call_number]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0

]]>
  </send>
  <pause milliseconds="%d"/>
  <Reference variables="uri,ev,ss"/>
</scenario>
""" % (re.escape(uri), re.escape(event), answer, linger_ms)


class Sipp:
    """sipp as a phone's SIP stack in namespace ns; every message it receives lands in its message log."""

    def __init__(self, netns, ns, workdir, address, port, text):
        self.dir = workdir / ("sipp-%s-%d" % (address, port))
        self.dir.mkdir(parents=True)
        (self.dir / "scenario.xml").write_text(text)
        self.messages = self.dir / "messages.log"
        cmd = ["sipp", "-sf", self.dir / "scenario.xml", "-i", address, "-p", port, "-m", "1", "-nostdin"]
        cmd += ["-trace_msg", "-message_file", self.messages, "-trace_err", "-error_file", self.dir / "errors.log"]
        cmd += ["-timeout", "60s", "-timeout_error"]
        self.proc = netns.popen(ns, cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def received(self):
        """The requests sipp received, each as its list of lines."""
        text = self.messages.read_text() if self.messages.exists() else ""
        blocks = re.split(r"^-{20,}.*\n(?:UDP message received \[\d+\] bytes :\n\n)?", text, flags=re.M)
        return [block.strip("\n").split("\n") for block in blocks if block.startswith("NOTIFY ")]

    def finished(self, timeout=15):
        """sipp's exit code: 0 when its one call succeeded (every check of the scenario held)."""
        rc = self.proc.wait(timeout=timeout)
        errors = self.dir / "errors.log"
        return rc, errors.read_text() if errors.exists() else ""


def header(lines, name):
    return [line.split(":", 1)[1].strip() for line in lines if line.lower().startswith(name.lower() + ":")]


def start_responder(netns, pbx, tmp_path, devices, pbx_ip, url):
    write_root(tmp_path / "root", devices, provisioning_url=url)
    settings = {"root": str(tmp_path / "root"), "url": url, "sip_listen": ["%s:5060" % pbx_ip], "http_listen": ["%s:8080" % pbx_ip]}
    return ResponderProcess(netns, pbx, tmp_path / "responder", settings).start()


def fetch_as_phone(netns, ns, vendor, mac, url):
    agent = user_agent(vendor, mac)
    got = netns.run(ns, ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-A", agent, url])
    assert got.stdout == "200", (mac, got.stdout, got.stderr)


def resync_play(name, args, check_mode=False, ignore_errors=False):
    task = {"name": name, "pbxops.autoprov.resync": args}
    if check_mode:
        task["check_mode"] = True
    if ignore_errors:
        task["ignore_errors"] = True
    return task


def test_resync_outcomes_per_device_against_sipp_phones(netns, tmp_path):
    lan = netns.switch("lan")
    pbx = netns.add("pbx")
    netns.plug(lan, pbx, PBX_IP + "/24")
    spaces = {}
    for name, (_mac, _vendor, _ext, address, _file) in PHONES.items():
        if address:
            spaces[name] = netns.add(name)
            netns.plug(lan, spaces[name], address + "/24")
    devices = {
        mac: {"vendor": vendor, "model": "M", "files": {file: ("config of %s\n" % mac, False)}, "extensions": [ext, "299"]}
        for mac, vendor, ext, _address, file in PHONES.values()
    }
    responder = start_responder(netns, pbx, tmp_path, devices, PBX_IP, URL)
    in_pbx = ("ip", "netns", "exec", pbx)
    try:
        # The phones that boot fetch their file: the responder records where from. "registered" never
        # fetched: only the PBX's registrations know it (the addresses option), on SIP port 5070.
        for name in ("takes", "refuses", "off"):
            mac, vendor, _ext, _address, file = PHONES[name]
            fetch_as_phone(netns, spaces[name], vendor, mac, URL + file)
        responder.rows("SELECT DISTINCT mac FROM fetches", expect=lambda rows: len(rows) == 3)

        def uri(name, port=5060):
            return "sip:%s@%s:%d" % (PHONES[name][2], PHONES[name][3], port)

        phones = {
            "takes": Sipp(netns, spaces["takes"], tmp_path, PHONES["takes"][3], 5060, scenario(uri("takes"), EVENT, "200 OK")),
            "refuses": Sipp(
                netns, spaces["refuses"], tmp_path, PHONES["refuses"][3], 5060, scenario(uri("refuses"), EVENT, "489 Bad Event")
            ),
            "registered": Sipp(
                netns,
                spaces["registered"],
                tmp_path,
                PHONES["registered"][3],
                5070,
                scenario(uri("registered", 5070), EVENT_OF["htek"], "200 OK"),
            ),
        }
        args = {
            "devices": ["00:15:65:CC:00:01", "001565-cc0002", "0c38.3ecc.0003", "000b82cc0004", "00:1f:c1:cc:00:05"],
            "responder_config": str(responder.config_path),
            "addresses": {"001fc1cc0005": "%s:5070" % PHONES["registered"][3]},
            "timeout": 3,
            "pbx_name": "pbx-rs",
        }
        # Check mode: says what it would send, sends nothing.
        dry = run_playbook(tmp_path, [play("dry run", [resync_play("resync", args, check_mode=True)])], prefix=in_pbx)
        assert dry.rc == 0, dry.output
        result = dry.task("resync")["result"]
        assert result["changed"] is True and result["summary"] == {"skipped": 4, "no_address": 1}
        planned = {d["mac"]: d for d in result["devices"]}
        assert planned["001565cc0001"]["request_uri"] == uri("takes") and planned["001565cc0001"]["event"] == EVENT
        assert planned["001fc1cc0005"]["address"] == "10.99.70.15:5070" and planned["001fc1cc0005"]["address_from"] == "addresses"
        assert all(d["transmissions"] == 0 for d in result["devices"])

        run = run_playbook(tmp_path, [play("resync", [resync_play("resync", args)])], prefix=in_pbx)
        assert run.rc == 0, run.output
        result = run.task("resync")["result"]
        assert result["changed"] is True
        got = {d["mac"]: d for d in result["devices"]}
        assert [d["mac"] for d in result["devices"]] == [p[0] for p in PHONES.values()]
        expected = {
            "takes": ("delivered", 200, "OK", "10.99.70.11:5060", "status_db"),
            "refuses": ("rejected", 489, "Bad Event", "10.99.70.12:5060", "status_db"),
            "off": ("timeout", None, None, "10.99.70.13:5060", "status_db"),
            "never": ("no_address", None, None, None, None),
            "registered": ("delivered", 200, "OK", "10.99.70.15:5070", "addresses"),
        }
        for name, (outcome, status, reason, address, address_from) in expected.items():
            device = got[PHONES[name][0]]
            assert (device["outcome"], device["sip_status"], device["sip_reason"]) == (outcome, status, reason), (name, device)
            assert (device["address"], device["address_from"]) == (address, address_from), (name, device)
            assert device["vendor"] == PHONES[name][1] and device["event"] == EVENT_OF.get(PHONES[name][1], EVENT)
        assert got["0c383ecc0003"]["transmissions"] == 3  # at 0, 0.5 and 1.5 s (RFC 3261 timer E); the next would be at 3.5 s
        assert result["summary"] == {"delivered": 2, "rejected": 1, "timeout": 1, "no_address": 1}

        # Each phone's SIP stack saw one NOTIFY (the check mode run sent none), in exactly this form.
        for name, sipp in phones.items():
            rc, errors = sipp.finished()
            assert rc == 0, (name, errors)
            received = sipp.received()
            assert len(received) == 1, (name, received)
            lines = received[0]
            assert lines[0] == "NOTIFY %s SIP/2.0" % uri(name, 5070 if name == "registered" else 5060)
            assert header(lines, "Event") == [EVENT_OF.get(PHONES[name][1], EVENT)] and header(lines, "Subscription-State") == [
                "terminated"
            ]
            assert header(lines, "To") == ["<%s>" % uri(name, 5070 if name == "registered" else 5060)]
            assert header(lines, "Content-Length") == ["0"] and header(lines, "Max-Forwards") == ["70"]
            via = header(lines, "Via")[0]
            assert re.match(r"^SIP/2\.0/UDP 10\.99\.70\.1:\d+;branch=z9hG4bK\w+;rport$", via), via
            assert re.match(r"^<sip:autoprov@10\.99\.70\.1>;tag=\w+$", header(lines, "From")[0])
            assert header(lines, "Contact") == ["<sip:autoprov@%s>" % via.split()[1].split(";")[0]]
            assert header(lines, "CSeq") == ["1 NOTIFY"] and header(lines, "Call-ID")[0].endswith("@10.99.70.1")
    finally:
        responder.stop()

    # Bad input fails before anything is sent, naming the PBX, the device and the field.
    listener = Sipp(netns, spaces["takes"], tmp_path / "bad", PHONES["takes"][3], 5060, scenario(uri("takes"), EVENT, "200 OK"))
    garbage = tmp_path / "garbage.sqlite"
    garbage.write_bytes(b"this is no database" * 100)
    base = {"responder_config": str(responder.config_path), "pbx_name": "pbx-rs", "timeout": 1}
    tasks = [
        resync_play("not a mac", dict(base, devices=["001565cc0001", "00:15:65:zz:00:01"]), ignore_errors=True),
        resync_play("not in the manifest", dict(base, devices=["001565cc0001", "001565ffff01"]), ignore_errors=True),
        resync_play("unreadable db", dict(base, devices=["001565cc0001"], db=str(garbage)), ignore_errors=True),
        resync_play(
            "bad address", dict(base, devices=["001565cc0001"], addresses={"001565cc0001": "10.99.70.11:70000"}), ignore_errors=True
        ),
    ]
    # Nothing changed in this run: nothing to send, nothing read, no change.
    tasks.append(resync_play("nothing changed", {"devices": [], "responder_config": str(tmp_path / "absent.json")}))
    bad = run_playbook(tmp_path, [play("bad input", tasks)], prefix=in_pbx)
    nothing = bad.task("nothing changed")
    assert nothing["status"] == "ok" and nothing["result"]["changed"] is False and nothing["result"]["devices"] == []
    records = {name: bad.task(name) for name in ("not a mac", "not in the manifest", "unreadable db", "bad address")}
    assert {r["status"] for r in records.values()} == {"failed"}, records
    messages = {name: record["result"] for name, record in records.items()}
    assert messages["not a mac"]["msg"].startswith("pbx-rs: devices[1]: mac: '00:15:65:zz:00:01' is not a MAC address")
    assert messages["not in the manifest"]["msg"].startswith("pbx-rs: device 001565ffff01: mac: not in the manifest %s/root/" % tmp_path)
    assert messages["unreadable db"]["msg"].startswith("pbx-rs: db: cannot open the status database %s" % garbage)
    assert (
        "device 001565cc0001: addresses[001565cc0001]: '10.99.70.11:70000': port 70000 is not a UDP port" in messages["bad address"]["msg"]
    )
    listener.proc.terminate()
    listener.proc.wait(timeout=10)
    assert listener.received() == []


def test_retransmission_gets_the_notify_through_lost_packets(netns, tmp_path):
    pbx, phone = netns.add("pbx"), netns.add("phone")
    pbx_ip, phone_ip = "10.99.71.1", "10.99.71.2"
    if_pbx, if_phone = netns.wire(pbx, pbx_ip + "/24", phone, phone_ip + "/24")
    url = "http://%s:8080/p/rs/" % pbx_ip
    mac = "001565dd0001"
    devices = {mac: {"vendor": "yealink", "model": "M", "files": {"%s.cfg" % mac: ("cfg\n", False)}, "extensions": ["301"]}}
    responder = start_responder(netns, pbx, tmp_path, devices, pbx_ip, url)
    try:
        fetch_as_phone(netns, phone, "yealink", mac, url + "%s.cfg" % mac)
        responder.rows("SELECT id FROM fetches", expect=lambda rows: len(rows) == 1)
        sipp = Sipp(netns, phone, tmp_path, phone_ip, 5060, scenario("sip:301@%s:5060" % phone_ip, EVENT, "200 OK", linger_ms=4000))
        # From now on the first IPv4 packet to reach the phone is lost (the first NOTIFY), and the first to reach
        # the PBX (the phone's 200 to the second NOTIFY): only the third NOTIFY, at 1.5 s, is answered and heard.
        netns.add_loss(phone, if_phone, 1, deterministic=True)
        netns.add_loss(pbx, if_pbx, 1, deterministic=True)
        task = resync_play("resync", {"devices": [mac], "responder_config": str(responder.config_path), "timeout": 6})
        run = run_playbook(tmp_path, [play("resync through loss", [task])], prefix=("ip", "netns", "exec", pbx))
        assert run.rc == 0, run.output
        device = run.task("resync")["result"]["devices"][0]
        assert (device["outcome"], device["sip_status"], device["transmissions"]) == ("delivered", 200, 3), device
        assert device["elapsed_ms"] >= 1400
        rc, errors = sipp.finished()
        assert rc == 0, errors
        received = sipp.received()
        assert len(received) == 2  # the second and the third: one request, retransmitted unchanged
        assert received[0] == received[1] and received[0][0] == "NOTIFY sip:301@%s:5060 SIP/2.0" % phone_ip
    finally:
        responder.stop()


def play(name, tasks):
    return {"name": name, "hosts": "localhost", "gather_facts": False, "tasks": tasks}
