"""pnp_probe and provision_status against the real responder, in network namespaces this test makes.

- Multicast: a "phone" namespace probes 224.0.1.75 as each of the five vendors;
  the responder in the "pbx" namespace joined the group on its LAN interface.
- Loopback: inside the pbx namespace, unicast to 127.0.0.1 (what the demo does),
  then provision_status after real fetches, and playbooks/status.yml.
"""

from __future__ import annotations

import json
import socket

import yaml
from helpers import ROOT, run_playbook, wait_for
from responder_support import ResponderProcess, user_agent, write_root

PBX_IP, PHONE_IP = "10.99.55.1", "10.99.55.2"
TOKEN = "pr0be"
SECRETS = ("Prob3-Secret-A", "Prob3-Secret-B", "Prob3-Secret-C", "Prob3-Changed-A")
# Files that hold secrets are served only with credentials: they travel in the NOTIFY's URL.
HTTP_USER, HTTP_PASSWORD = "prov", "Prob3-Http-Pass"
AUTH = {"username": HTTP_USER, "password": HTTP_PASSWORD}


def with_credentials(url):
    return url.replace("http://", "http://%s:%s@" % (HTTP_USER, HTTP_PASSWORD), 1)


def as_shown(url):
    """A URL with credentials as pnp_probe returns it (password masked)."""
    return url.replace("http://", "http://%s:***@" % HTTP_USER, 1)


# One device per vendor (the manifest's vendor table has their pnp_url forms).
PHONES = {
    "yealink": ("001565aa0001", "001565aa0001.cfg"),
    "snom": ("000413aa0002", "000413AA0002.xml"),
    "fanvil": ("0c383eaa0003", "0c383eaa0003.cfg"),
    "grandstream": ("000b82aa0004", "cfg000b82aa0004.xml"),
    "htek": ("001fc1aa0005", "cfg001fc1aa0005.xml"),
}


def probe_play(name, tasks):
    return [{"name": name, "hosts": "localhost", "gather_facts": False, "tasks": tasks}]


def test_multicast_probe_as_each_vendor(netns, tmp_path):
    pbx, phone = netns.add("pbx"), netns.add("phone")
    if_pbx, if_phone = netns.wire(pbx, PBX_IP + "/24", phone, PHONE_IP + "/24")
    url = "http://%s:8080/p/%s/" % (PBX_IP, TOKEN)
    devices = {
        mac: {"vendor": vendor, "model": "M", "files": {name: ("config of %s\n" % mac, True)}} for vendor, (mac, name) in PHONES.items()
    }
    write_root(tmp_path / "root", devices, provisioning_url=url)
    settings = {
        "root": str(tmp_path / "root"),
        "url": with_credentials(url),
        "auth": AUTH,
        "sip_listen": ["0.0.0.0:5060"],
        "interfaces": [if_pbx],
        "http_listen": ["%s:8080" % PBX_IP],
    }
    responder = ResponderProcess(netns, pbx, tmp_path / "responder", settings).start()
    try:
        tasks = [
            {
                "name": "probe %s" % vendor,
                "pbxops.autoprov.pnp_probe": {
                    "vendor": vendor,
                    "mac": mac,
                    "interface": if_phone,
                    "fetch": True,
                    "files": [name],
                    "timeout": 5,
                },
            }
            for vendor, (mac, name) in PHONES.items()
        ]
        tasks.append(
            {
                "name": "probe unknown",
                "pbxops.autoprov.pnp_probe": {
                    "vendor": "fanvil",
                    "mac": "0c383e0000ff",
                    "interface": if_phone,
                    "timeout": 1.5,
                    "require_answer": False,
                },
            }
        )
        run = run_playbook(tmp_path, probe_play("multicast probes", tasks), prefix=("ip", "netns", "exec", phone))
        assert run.rc == 0, run.output + responder.log()
        for vendor, (mac, name) in PHONES.items():
            result = run.task("probe %s" % vendor)["result"]
            pnp_url = json.loads((tmp_path / "root" / ".autoprov-manifest.json").read_text())["vendors"][vendor]["pnp_url"]
            assert result["url"] == pnp_url.format(url=as_shown(url), mac=mac, MAC=mac.upper()), (vendor, result)
            assert result["subscribe_status"] == 200 and result["answered_by"] == "%s:5060" % PBX_IP
            assert result["source"].startswith(PHONE_IP + ":")
            assert [(f["url"].rsplit("/", 1)[1], f["status"]) for f in result["fetched"]] == [(name, 200)], (vendor, result["fetched"])
        unknown = run.task("probe unknown")["result"]
        assert unknown["answered"] is False and unknown["subscribe_status"] is None
        # The responder saw each probe as the vendor's phone: MAC, vendor and model parsed from our SUBSCRIBE forms.
        rows = responder.rows("SELECT mac, vendor_key, answered, notify FROM pnp_events", expect=lambda r: len(r) == 6)
        seen = {r["mac"]: r for r in rows}
        for vendor, (mac, _file) in PHONES.items():
            assert seen[mac]["vendor_key"] == vendor and seen[mac]["answered"] == 1, seen[mac]
        assert seen["0c383e0000ff"]["answered"] == 0
        # Every NOTIFY was answered 200 by the probe, so the responder stopped retransmitting.
        wait_for(
            lambda: all(r["notify"] == "delivered" for r in responder.rows("SELECT notify FROM pnp_events WHERE answered = 1")),
            timeout=5,
            what="NOTIFYs delivered",
        )
    finally:
        responder.stop()


DEVICES = [
    {"mac": "00:15:65:bb:00:01", "model": "T46S", "lines": [{"extension": "201", "secret": SECRETS[0]}]},
    {"mac": "00:15:65:bb:00:02", "model": "T46S", "lines": [{"extension": "202", "secret": SECRETS[1]}]},
    {"mac": "00:15:65:bb:00:03", "model": "T54W", "lines": [{"extension": "203", "secret": SECRETS[2]}]},
]


def render(tmp_path, root, url, devices):
    play = [
        {
            "name": "configs",
            "hosts": "localhost",
            "gather_facts": False,
            "tasks": [
                {
                    "name": "device configs",
                    "pbxops.autoprov.device_configs": {"devices": devices, "dest": str(root), "sip_server": "127.0.0.1", "server_url": url},
                }
            ],
        }
    ]
    run = run_playbook(tmp_path, play)
    assert run.rc == 0, run.output


def test_loopback_probe_then_status(netns, tmp_path):
    pbx = netns.add("pbx")
    url = "http://127.0.0.1:8080/p/%s/" % TOKEN
    root = tmp_path / "root"
    render(tmp_path, root, url, DEVICES)
    settings = {
        "root": str(root),
        "url": with_credentials(url),
        "auth": AUTH,
        "sip_listen": ["127.0.0.1:5060"],
        "http_listen": ["127.0.0.1:8080"],
    }
    responder = ResponderProcess(netns, pbx, tmp_path / "responder", settings).start()
    in_pbx = ("ip", "netns", "exec", pbx)
    try:
        # Device 1 boots: PnP over loopback, then fetches its files with its User-Agent. A Fanvil nobody
        # told us about sends PnP too.
        tasks = [
            {
                "name": "probe",
                "pbxops.autoprov.pnp_probe": {"vendor": "yealink", "mac": "001565bb0001", "target": "127.0.0.1:5060", "fetch": True},
            },
            {
                "name": "stranger",
                "pbxops.autoprov.pnp_probe": {
                    "vendor": "fanvil",
                    "mac": "0c:38:3e:cc:00:09",
                    "model": "X7C",
                    "target": "127.0.0.1:5060",
                    "timeout": 1.5,
                    "require_answer": False,
                },
            },
        ]
        run = run_playbook(tmp_path, probe_play("loopback", tasks), prefix=in_pbx)
        assert run.rc == 0, run.output + responder.log()
        probe = run.task("probe")["result"]
        assert probe["url"] == as_shown(url)
        assert HTTP_PASSWORD not in run.output
        assert sorted(f["status"] for f in probe["fetched"]) == [200, 200, 200]
        assert probe["user_agent"] == "Yealink SIP-T46S 66.86.0.15 00:15:65:bb:00:01"
        # Device 2 fetches only its boot file (curl with its User-Agent); device 3 never shows up.
        agent = user_agent("yealink", "001565bb0002")
        curl = netns.run(pbx, ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-A", agent, url + "001565bb0002.boot"])
        assert curl.stdout == "200"
        responder.rows("SELECT id FROM fetches", expect=lambda rows: len(rows) >= 4)
        responder.rows("SELECT id FROM pnp_events", expect=lambda rows: len(rows) >= 2)

        status = status_of(tmp_path, in_pbx, responder)
        by_mac = {d["mac"]: d for d in status["devices"]}
        assert by_mac["001565bb0001"]["state"] == "current"
        assert by_mac["001565bb0001"]["firmware"] == "66.86.0.15" and by_mac["001565bb0001"]["firmware_from"] == "user-agent"
        assert by_mac["001565bb0001"]["source"] == "127.0.0.1"
        assert by_mac["001565bb0001"]["last_pnp"]["answered"] is True
        assert by_mac["001565bb0002"]["state"] == "partial" and by_mac["001565bb0002"]["missing"] == ["001565bb0002.cfg"]
        assert by_mac["001565bb0003"]["state"] == "never seen"
        assert [(d["mac"], d["vendor"], d["model"]) for d in status["discovered"]] == [("0c383ecc0009", "Fanvil", "X7C")]
        assert status["summary"] == {"current": 1, "partial": 1, "never seen": 1, "discovered": 1}

        # Device 1's line gets a new secret: what it fetched is no longer the current file.
        changed = [dict(DEVICES[0], lines=[{"extension": "201", "secret": SECRETS[3]}])] + DEVICES[1:]
        render(tmp_path, root, url, changed)
        status = status_of(tmp_path, in_pbx, responder)
        first = status["devices"][0]
        assert first["state"] == "outdated" and first["outdated"] == ["001565bb0001.cfg"]

        # The playbook people run prints it as a table.
        inventory = {
            "autoprov_pbx": {
                "hosts": {
                    "pbx-test": {
                        "ansible_connection": "local",
                        "ansible_python_interpreter": str(ROOT / ".venv" / "bin" / "python"),
                        "autoprov_devices": changed,
                        "autoprov_responder_config_dir": str(responder.config_path.parent),
                    }
                }
            }
        }
        discovered_dir = tmp_path / "discovered"
        discovered_dir.mkdir()
        shown = run_playbook(
            tmp_path,
            ROOT / "playbooks" / "status.yml",
            inventory=inventory,
            extra_vars={"autoprov_discovered_dir": str(discovered_dir)},
            prefix=in_pbx,
        )
        assert shown.rc == 0, shown.output
        # The stranger, ready to paste into the PBX's autoprov_devices.
        snippet = yaml.safe_load((discovered_dir / "pbx-test.yml").read_text())
        assert snippet == {"autoprov_devices": [{"mac": "0c:38:3e:cc:00:09", "vendor": "fanvil", "model": "X7C", "lines": []}]}
        shown_msg = shown.task("Show the status")["result"]["msg"]  # a block (YAML results) or a list of lines (JSON)
        lines = shown_msg if isinstance(shown_msg, list) else shown_msg.splitlines()
        assert lines[0] == "pbx-test: 3 device(s): 1 never seen, 1 outdated, 1 partial; 1 discovered, not in the inventory"
        assert lines[2].split() == ["MAC", "VENDOR", "MODEL", "LAST", "FETCH", "(UTC)", "FROM", "FIRMWARE", "FILES", "STATE"]
        row = next(line for line in lines if line.startswith("00:15:65:bb:00:01"))
        assert "127.0.0.1" in row and "66.86.0.15" in row and "3/3" in row and row.endswith("outdated: 001565bb0001.cfg")
        assert next(line for line in lines if line.startswith("00:15:65:bb:00:03")).endswith("never seen")
        assert any(line.startswith("0c:38:3e:cc:00:09") and "X7C" in line for line in lines)
        for line in lines:
            assert line in shown.stdout  # a line per row
        for secret in SECRETS:
            assert secret not in shown.output and secret not in run.output
    finally:
        responder.stop()


def status_of(tmp_path, prefix, responder):
    task = {
        "name": "status",
        "pbxops.autoprov.provision_status": {
            "devices": [d["mac"] for d in DEVICES],
            "responder_config": str(responder.config_path),
        },
    }
    run = run_playbook(tmp_path, probe_play("status", [task]), prefix=prefix)
    assert run.rc == 0, run.output
    result = run.task("status")["result"]
    assert result["changed"] is False
    return result


def test_probe_reports_a_missing_responder_clearly(tmp_path):
    port = _free_udp_port()
    task = {
        "name": "probe",
        "pbxops.autoprov.pnp_probe": {"vendor": "snom", "mac": "000413000001", "target": "127.0.0.1:%d" % port, "timeout": 1},
    }
    run = run_playbook(tmp_path, probe_play("nobody there", [task]))
    assert run.rc != 0
    msg = run.task("probe")["result"]["msg"]
    assert "no answer to the snom SUBSCRIBE of device 000413000001" in msg and "127.0.0.1:%d" % port in msg


def _free_udp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
