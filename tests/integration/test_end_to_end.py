"""One site, end to end, the way an MSP runs it: `ansible-playbook pbxops.autoprov.site`, then phones boot.

A LAN segment (a bridge in a namespace of its own) joins:
- "pbx": the PBX host. Its modules run inside the namespace (helpers.netns_inventory);
  the role deploys the responder there (process mode: this machine has no systemd).
- "dhcp": the site's own Kea server with its control agent, configured by dhcp_scope
  through the agent; the site's reservation must keep working.
- "phone1": a factory-fresh Yealink T46S: the real ISC DHCP client gets option 66,
  then curl fetches its files with the phone's User-Agent and the credentials of the URL.
- "phone2": a factory-fresh Yealink T54W: sipp multicasts its PnP SUBSCRIBE, the NOTIFY
  carries the URL, curl fetches its files.
The PBX has a device key (autoprov_http_device_key): each phone's own file carries that phone's own
HTTP pair, which opens its own files and no other phone's; the PnP NOTIFY carries it too.
The method is rps, so the Yealink phones are also registered at a Yealink RPS contract
server (tests/rps_servers, HTTPS with a test CA, on this side of the wire: RPS calls run on the
controller); the Yeastar TA gateway is not (the catalog: no RPS). Then `pbxops.autoprov.status`
lists both phones as provisioned with the current files, and a second site run changes nothing.

Addresses: 10.99.60.0/24, only inside namespaces this test creates.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import shutil
import subprocess
from urllib.parse import urlsplit

import pytest
from helpers import dhcp_request, netns_inventory, run_playbook, wait_for
from responder_support import run_sipp
from rps_servers.common import make_test_ca
from rps_servers.yealink import YealinkFake

pytestmark = pytest.mark.skipif(
    not all(shutil.which(p) for p in ("kea-dhcp4", "kea-ctrl-agent", "dhclient", "sipp", "curl")),
    reason="needs Kea, dhclient, sipp and curl",
)

PBX_IP, DHCP_IP, PHONE2_IP = "10.99.60.10", "10.99.60.2", "10.99.60.52"
TOKEN, HTTP_USER, HTTP_PASSWORD = "e2eTok3n99", "phones", "E2e-Http-P@ss"
URL = "http://%s:8080/%s/" % (PBX_IP, TOKEN)
PUBLIC_URL = "https://pbx1.example.net:8443/%s/" % TOKEN
AGENT_USER, AGENT_PASSWORD = "kea-admin", "E2e-Agent-Pass"
PRINTER_MAC, PRINTER_IP = "02:99:60:00:00:09", "10.99.60.60"
PHONE1, PHONE2, GATEWAY = "00:15:65:e2:e0:01", "00:15:65:e2:e0:02", "f4:b5:49:e2:e0:03"
SECRETS = {"101": "E2e-Sip-101-xQ", "102": "E2e-Sip-102-vR", "201": "E2e-Sip-201-kP", "202": "E2e-Sip-202-mW"}
RPS = {"key_id": "yl-key-id", "secret": "yl-secret-Zq8p"}
DEVICE_KEY = "E2e-Device-Key-0123456789abcdef"
UA = "Yealink SIP-%s 66.86.0.15 %s"

KEA = """// The site's own Kea: dhcp_scope must leave all of this alone.
{ "Dhcp4": {
    "interfaces-config": { "interfaces": [ "%(ifname)s" ], "dhcp-socket-type": "raw" },
    "control-socket": { "socket-type": "unix", "socket-name": "%(dir)s/kea4.sock" },
    "lease-database": { "type": "memfile", "persist": false },
    "valid-lifetime": 600,
    "subnet4": [ {
        "id": 1, "subnet": "10.99.60.0/24",
        "pools": [ { "pool": "10.99.60.100 - 10.99.60.150" } ],
        "option-data": [ { "name": "routers", "data": "10.99.60.1" } ],
        "reservations": [ { "hw-address": "%(printer)s", "ip-address": "%(printer_ip)s" } ]  # the site's printer
    } ] } }
"""
AGENT = """{ "Control-agent": { "http-host": "%(ip)s", "http-port": 8000,
  "authentication": { "type": "basic", "realm": "kea", "clients": [ { "user": "%(user)s", "password": "%(password)s" } ] },
  "control-sockets": { "dhcp4": { "socket-type": "unix", "socket-name": "%(dir)s/kea4.sock" } } } }
"""


def device_password(mac):
    """docs/responder.md, auth.device_key: the first 24 hex digits of HMAC-SHA256(key, label + MAC)."""
    digest = hmac.new(DEVICE_KEY.encode(), b"pbxops.autoprov device password\0" + mac.replace(":", "").encode(), hashlib.sha256)
    return digest.hexdigest()[:24]


def yealink_values(text):
    return dict(re.findall(r"^([\w.]+) = (.*)$", text, re.M))


def line(extension, name):
    return {"extension": extension, "secret": SECRETS[extension], "display_name": name}


DEVICES = [
    {
        "mac": PHONE1,
        "model": "T46S",
        "lines": [line("101", "Reception"), line("201", "Hotline")],
        "keys": [{"type": "blf", "value": "102"}],
    },
    {"mac": PHONE2, "model": "T54W", "lines": [line("102", "Sales")]},
    {"mac": GATEWAY, "model": "TA400", "lines": [line("202", "Fax")]},
]


class Site:
    def __init__(self, netns, tmp_path):
        self.netns, self.tmp = netns, tmp_path
        lan = netns.switch("lan")
        self.pbx, self.dhcp = netns.add("pbx"), netns.add("dhcp")
        self.phone1, self.phone2 = netns.add("phone1"), netns.add("phone2")
        self.pbx_if = netns.plug(lan, self.pbx, PBX_IP + "/24")
        self.dhcp_if = netns.plug(lan, self.dhcp, DHCP_IP + "/24")
        self.phone1_if = netns.plug(lan, self.phone1)
        self.phone2_if = netns.plug(lan, self.phone2, PHONE2_IP + "/24")
        sh_dir = tmp_path / "kea"
        sh_dir.mkdir()
        self.kea_dir = sh_dir
        env = dict(os.environ, KEA_PIDFILE_DIR=str(sh_dir), KEA_LOCKFILE_DIR=str(sh_dir))
        values = dict(ifname=self.dhcp_if, dir=sh_dir, printer=PRINTER_MAC, printer_ip=PRINTER_IP, ip=DHCP_IP)
        (sh_dir / "kea-dhcp4.conf").write_text(KEA % values)
        (sh_dir / "ca.json").write_text(AGENT % dict(values, user=AGENT_USER, password=AGENT_PASSWORD))
        log = open(sh_dir / "kea.log", "ab")
        self.handles = [log]
        netns.popen(self.dhcp, ["kea-dhcp4", "-c", sh_dir / "kea-dhcp4.conf"], env=env, stdout=log, stderr=subprocess.STDOUT)
        wait_for((sh_dir / "kea4.sock").exists, what="Kea's control socket")
        netns.popen(self.dhcp, ["kea-ctrl-agent", "-c", sh_dir / "ca.json"], env=env, stdout=log, stderr=subprocess.STDOUT)
        wait_for(
            lambda: self.curl(self.pbx, "http://%s:8000/" % DHCP_IP, "-u", "%s:%s" % (AGENT_USER, AGENT_PASSWORD))[0], what="the agent"
        )
        self.rps = YealinkFake(make_test_ca(tmp_path / "ca"))
        self.ca = str(tmp_path / "ca" / "ca.pem")

    def close(self):
        self.rps.close()
        for handle in self.handles:
            handle.close()

    def inventory(self):
        pbx = self.tmp / "pbx"
        hostvars = {
            "autoprov_method": "rps",
            "autoprov_server_url": "http://%s:8080/" % PBX_IP,
            "autoprov_url_token": TOKEN,
            "autoprov_http_username": HTTP_USER,
            "autoprov_http_password": HTTP_PASSWORD,
            "autoprov_http_device_key": DEVICE_KEY,
            "autoprov_public_url": "https://pbx1.example.net:8443/",
            "autoprov_sip_server": PBX_IP,
            "autoprov_config_root": str(pbx / "configs"),
            "autoprov_timezone": "Europe/Berlin",
            "autoprov_devices": DEVICES,
            "autoprov_responder_service_manager": "process",
            "autoprov_responder_user": "",
            "autoprov_responder_install_dir": str(pbx / "responder"),
            "autoprov_responder_config_dir": str(pbx / "etc"),
            "autoprov_responder_state_dir": str(pbx / "state"),
            "autoprov_responder_sip_listen": ["0.0.0.0:5060"],
            "autoprov_responder_interfaces": [self.pbx_if],
            "autoprov_responder_http_listen": ["%s:8080" % PBX_IP],
            "autoprov_dhcp": {
                "backend": "kea",
                "subnet": "10.99.60.0/24",
                "control_agent_url": "http://%s:8000/" % DHCP_IP,
                "control_agent_user": AGENT_USER,
                "control_agent_password": AGENT_PASSWORD,
            },
            "autoprov_rps_credentials": {"yealink": RPS},
            "autoprov_rps_api_urls": {"yealink": self.rps.base},
            "autoprov_rps_ca_path": self.ca,
        }
        inventory = netns_inventory(self.pbx, self.tmp, host="pbx1", hostvars=hostvars)
        return {"autoprov_pbx": inventory["all"]}

    def play(self, name, *args):
        return run_playbook(self.tmp / "ansible", name, inventory=self.inventory(), args=args)

    def curl(self, ns, url, *args):
        """(HTTP status, body) as curl in namespace ns got them."""
        body = self.tmp / "body"
        body.unlink(missing_ok=True)
        out = self.netns.run(ns, ["curl", "-s", "-o", body, "-w", "%{http_code}", "--max-time", "5", *args, url], check=False)
        return int(out.stdout or 0), body.read_text(errors="replace") if body.exists() else ""

    def fetch(self, ns, url, mac, model):
        """What a phone does with its provisioning URL: its boot file, its model's file, its own file."""
        parts = urlsplit(url)
        base = url.replace("%s:%s@" % (parts.username, parts.password), "")
        auth = ["--digest", "-u", "%s:%s" % (parts.username, parts.password)] if parts.username else []
        bare = mac.replace(":", "")
        code = {"T46S": "66", "T54W": "96"}[model]
        agent = ["-A", UA % (model, mac)]
        return {name: self.curl(ns, base + name, *agent, *auth) for name in ("%s.boot" % bare, "y0000000000%s.cfg" % code, "%s.cfg" % bare)}


@pytest.fixture
def site(netns, tmp_path):
    s = Site(netns, tmp_path)
    yield s
    s.close()


def test_a_site_from_inventory_to_phones_provisioned(site):
    first = site.play("pbxops.autoprov.site", "--diff")
    assert first.rc == 0, first.output[-4000:]

    # Phone 1 boots by DHCP: option 66 is the provisioning URL with the config host's credentials and the
    # segment that tells status it came by DHCP (pbxops.autoprov.provisioning_url via=dhcp).
    lease = dhcp_request(site.phone1, site.phone1_if, site.tmp, mac=PHONE1)
    assert lease is not None and lease["ip"].startswith("10.99.60.1")
    url = lease["options"][66].decode()
    assert url == URL.replace("http://", "http://%s:%s@" % (HTTP_USER, "E2e-Http-P%40ss")) + "dhcp/"
    site.netns.run(site.phone1, ["ip", "addr", "add", lease["ip"] + "/24", "dev", site.phone1_if])
    got = site.fetch(site.phone1, url.replace("%40", "@"), PHONE1, "T46S")
    assert {name: status for name, (status, _body) in got.items()} == dict.fromkeys(got, 200)
    assert "account.2.password = %s" % SECRETS["201"] in got["001565e2e001.cfg"][1]
    # Its own file hands it its own pair (Yealink's provisioning credential keys, templates/yealink/reference.yml),
    # not the PBX-wide one of option 66; that pair opens its own file and not the other phone's.
    own = yealink_values(got["001565e2e001.cfg"][1])
    pair = (own["static.auto_provision.server.username"], own["static.auto_provision.server.password"])
    assert pair == ("001565e2e001", device_password(PHONE1)) and HTTP_PASSWORD not in got["001565e2e001.cfg"][1]
    agent1, agent2 = ["-A", UA % ("T46S", PHONE1)], ["-A", UA % ("T54W", PHONE2)]
    assert site.curl(site.phone1, URL + "001565e2e001.cfg", *agent1, "--digest", "-u", "%s:%s" % pair)[0] == 200
    assert site.curl(site.phone1, URL + "001565e2e002.cfg", *agent2, "--digest", "-u", "%s:%s" % pair)[0] == 401
    # The site's own reservation still works after dhcp_scope changed Kea.
    assert dhcp_request(site.phone1, site.phone1_if, site.tmp, mac=PRINTER_MAC)["ip"] == PRINTER_IP

    # Phone 2 boots by PnP: sipp multicasts the SUBSCRIBE, the NOTIFY carries the same URL.
    rc, log = run_sipp(site.netns, site.phone2, PHONE2_IP, "yealink", [PHONE2.replace(":", "")], site.tmp)
    assert rc == 0, log
    notified = re.search(r"NOTIFY-URL \S+ (\S+)", log).group(1)
    assert notified == URL.replace("http://", "http://001565e2e002:%s@" % device_password(PHONE2))
    got = site.fetch(site.phone2, notified, PHONE2, "T54W")
    assert {name: status for name, (status, _body) in got.items()} == dict.fromkeys(got, 200)
    # Without the credentials, or as another phone, its secret file stays closed.
    assert site.curl(site.phone2, URL + "001565e2e002.cfg", "-A", UA % ("T54W", PHONE2))[0] == 401
    assert (
        site.curl(site.phone2, URL + "001565e2e001.cfg", "-A", UA % ("T54W", PHONE2), "-u", "%s:%s" % (HTTP_USER, HTTP_PASSWORD))[0] == 403
    )

    # RPS: both Yealink phones point at the PBX's public URL; the Yeastar gateway is not an RPS device.
    servers = dict(site.rps.servers)
    registered = {mac: servers[d["serverId"]] for mac, d in site.rps.devices.items() if "serverId" in d}
    assert sorted(registered) == ["001565e2e001", "001565e2e002"]
    assert {(s["url"], s["authName"]) for s in registered.values()} == {(PUBLIC_URL, HTTP_USER)}

    # The status playbook shows both phones provisioned with the files they should have.
    status = site.play("pbxops.autoprov.status")
    assert status.rc == 0, status.output[-4000:]
    report = {d["mac"]: d for d in status.task("Read the responder's status database")["result"]["devices"]}
    assert report["001565e2e001"]["state"] == "current" and report["001565e2e001"]["source"] == lease["ip"]
    assert report["001565e2e001"]["credential"] == "device"  # its newest fetch: with its own pair
    assert report["001565e2e001"]["dhcp_fetch"] is not None and report["001565e2e002"]["dhcp_fetch"] is None
    assert status.task("Read the responder's status database")["result"]["summary"]["by DHCP"] == 1
    assert report["001565e2e002"]["state"] == "current" and report["001565e2e002"]["last_pnp"]["answered"] is True
    assert report["f4b549e2e003"]["state"] == "never seen"

    # Nothing to do the second time; no secret was ever printed.
    second = site.play("pbxops.autoprov.site")
    assert second.rc == 0, second.output[-4000:]
    assert second.changed_tasks() == []
    results = "".join(p.read_text() for p in (site.tmp / "ansible").glob("results-*.jsonl"))
    for run in (first, status, second):
        secrets = [HTTP_PASSWORD, "E2e-Http-P%40ss", AGENT_PASSWORD, RPS["secret"], DEVICE_KEY, *SECRETS.values()]
        for secret in secrets + [device_password(PHONE1), device_password(PHONE2)]:
            assert secret not in run.output and secret not in results, secret
    # The running config of Kea carries our option 66 (credentials included) on the site's subnet.
    running = json.loads(
        site.netns.run(
            site.pbx,
            ["curl", "-s", "-u", "%s:%s" % (AGENT_USER, AGENT_PASSWORD), "-H", "Content-Type: application/json",
             "-d", '{"command": "config-get", "service": ["dhcp4"]}', "http://%s:8000/" % DHCP_IP],
        ).stdout
    )[0]["arguments"]["Dhcp4"]  # fmt: skip
    option66 = [o for o in running["subnet4"][0]["option-data"] if o.get("code") == 66 or o.get("name") == "tftp-server-name"]
    assert len(option66) == 1 and option66[0]["data"].endswith("@%s:8080/%s/dhcp/" % (PBX_IP, TOKEN))
