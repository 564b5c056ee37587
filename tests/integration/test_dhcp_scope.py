"""dhcp_scope against the real servers: Kea (file and control agent), ISC dhcpd and dnsmasq.

Each test builds a server namespace with the site's own config (two subnets, a
reservation, global options, comments), runs dhcp_scope through ansible-playbook
inside that namespace, and asks the real ISC client (dhclient) in a second
namespace for leases, reading the exact bytes of the options it got.
"""

from __future__ import annotations

import difflib
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from dhcp_lab import AGENT_PASSWORD, AGENT_USER, DYNAMIC_MAC, NET_A, NET_B, RESERVED_IP, URL, Lab
from helpers import netns_inventory, netns_python, run_playbook

from ansible_collections.pbxops.autoprov.plugins.module_utils._dhcp.kea import KeaFile
from ansible_collections.pbxops.autoprov.plugins.module_utils._dhcp.model import build_scope

pytestmark = pytest.mark.usefixtures("netns")

VARIANTS = ["kea", "kea-agent", "isc_dhcpd", "dnsmasq"]
POLY_URL = "http://10.99.41.1:8080/p/Zt4kq9/polycom/"


def sent(backend, url):
    """The bytes of option 66 a client gets: dnsmasq always adds a NUL to 66 and 67 (docs/dhcp.md)."""
    return url.encode() + (b"\0" if backend == "dnsmasq" else b"")


@pytest.fixture
def lab_for(netns, tmp_path):
    labs = []

    def make(variant, second_subnet=True):
        lab = Lab(netns, tmp_path, "kea" if variant.startswith("kea") else variant, second_subnet)
        labs.append(lab)
        lab.start()
        lab.agent_url = lab.start_agent() if variant == "kea-agent" else None
        return lab

    yield make
    for lab in labs:
        lab.close()


def scope_args(lab, subnet=NET_A, **extra):
    args = lab.args(subnet=subnet, **extra)
    if lab.agent_url:
        args.update(control_agent_url=lab.agent_url, control_agent_user=AGENT_USER, control_agent_password=AGENT_PASSWORD)
        args.pop("service")
    return args


def changed_lines(diffs):
    """The - and + lines of the task's diff."""
    out = []
    for d in diffs:
        for line in difflib.unified_diff(d["before"].splitlines(), d["after"].splitlines(), lineterm="", n=0):
            if line[:1] in "+-" and not line.startswith(("+++", "---")):
                out.append(line)
    return out


def running(lab):
    """Kea's running config, asked from its control agent."""
    return json.loads(lab.agent_call("config-get").stdout)[0]["arguments"]["Dhcp4"]


@pytest.mark.parametrize("variant", VARIANTS)
def test_third_party_server(lab_for, variant):
    lab = lab_for(variant)
    agent = variant == "kea-agent"
    before = lab.request()
    assert before["ip"] == RESERVED_IP and 66 not in before["options"]
    original_running = running(lab) if agent else None
    server_pid = lab.server_pid()

    options = [{"code": 160, "value": POLY_URL, "vendor_class": "Polycom"}]
    args = scope_args(lab, provisioning_url=URL, options=options)

    # check mode: a diff, nothing written
    run = lab.run(args, check=True)
    assert run.rc == 0, run.output
    task = run.task("scope")["result"]
    assert task["changed"] and task.get("diff")
    assert lab.files() == {lab.config.name: lab.original}
    if agent:
        assert running(lab) == original_running

    run = lab.run(args)
    assert run.rc == 0, run.output
    assert run.task("scope")["result"]["changed"]
    lease = lab.request()
    assert lease["ip"] == RESERVED_IP, "the reservation still works"
    assert lease["options"][66] == sent(lab.backend, URL)
    polycom = lab.request(mac=DYNAMIC_MAC, vendor_class="Polycom-VVX410", codes=(66, 160))
    assert polycom["options"][160] == POLY_URL.encode()
    assert 160 not in lab.request(codes=(66, 160))["options"], "only Polycom phones get option 160"
    second = lab.request(side="b", mac=None)
    assert second["ip"].startswith("10.99.42.") and 66 not in second["options"], "the second subnet works, untouched"
    assert lease["env"].get("new_domain_name") == "example.org", "global options still apply"

    run = lab.run(args)
    assert run.rc == 0 and not run.task("scope")["result"]["changed"], "second run changes nothing"
    after_first = lab.files()

    # an update: the diff shows exactly the option line that changes
    new_url = URL + "v2/"
    run = lab.run(dict(args, provisioning_url=new_url))
    assert run.rc == 0, run.output
    lines = changed_lines(run.task("scope")["result"]["diff"])
    assert len(lines) == 2 and lines[0].startswith("-") and lines[1].startswith("+") and new_url in lines[1], lines
    assert lab.request()["options"][66] == sent(lab.backend, new_url)
    updated = lab.files()
    assert updated != after_first

    # a change the server itself rejects: option 7 is the log-servers address list to every server
    run = lab.run(dict(args, provisioning_url=URL, options=[{"code": 7, "type": "string", "value": "nowhere"}]))
    assert run.rc != 0
    result = run.task("scope")["result"]
    assert run.task("scope")["status"] == "failed" and result["rolled_back"], result
    assert "rejected" in result["msg"] and "nothing was changed" in result["msg"], result["msg"]
    assert "host dhcp-server" in result["msg"]
    assert lab.files() == updated, "a rejected change leaves the files as they were"
    assert lab.request()["options"][66] == sent(lab.backend, new_url), "the old config stays in force and the server answers"

    # state absent: back to the site's own config
    run = lab.run(scope_args(lab, state="absent"))
    assert run.rc == 0 and run.task("scope")["result"]["changed"], run.output
    if agent:
        assert running(lab) == original_running
        assert json.loads(lab.config.read_text())["Dhcp4"] == original_running, "config-write saved the running config"
    else:
        assert lab.files() == {lab.config.name: lab.original}, "byte for byte what it was"
    assert 66 not in lab.request()["options"]
    if lab.backend == "kea" and not agent:
        assert lab.server_pid() == server_pid, "Kea was reloaded, not restarted"
    backups = sorted(p.name for p in lab.dir.rglob("*.autoprov~"))
    assert backups, "timestamped backups are kept"
    assert lab.outputs and not any(AGENT_PASSWORD in out for out in lab.outputs), "the agent's password never shows"


@pytest.mark.parametrize("variant", ["kea", "isc_dhcpd", "dnsmasq"])
def test_pbx_as_server_creates_the_subnet(lab_for, variant):
    lab = lab_for(variant, second_subnet=False)
    args = lab.args(
        subnet=NET_B,
        create=True,
        pools=["10.99.42.100-10.99.42.120", "10.99.42.200/29"],
        routers=["10.99.42.1"],
        dns_servers=["10.99.42.1", "192.0.2.53"],
        lease_time=1800,
        provisioning_url="http://10.99.42.1:8080/p/Zt4kq9/",
        options=[{"code": 42, "value": ["10.99.42.1"]}],
    )
    run = lab.run(args)
    assert run.rc == 0, run.output
    lease = lab.request(side="b", mac=None, codes=(66, 42))
    pool_addresses = ["10.99.42.%d" % i for i in list(range(100, 121)) + list(range(200, 208))]
    assert lease["ip"] in pool_addresses
    assert lease["env"]["new_routers"] == "10.99.42.1"
    assert lease["env"]["new_domain_name_servers"] == "10.99.42.1 192.0.2.53"
    assert lease["env"]["new_dhcp_lease_time"] == "1800"
    assert lease["options"][66] == sent(lab.backend, "http://10.99.42.1:8080/p/Zt4kq9/")
    assert lease["options"][42] == bytes([10, 99, 42, 1])
    assert lab.request()["ip"] == RESERVED_IP, "the existing subnet still works"

    run = lab.run(args)
    assert run.rc == 0 and not run.task("scope")["result"]["changed"]

    run = lab.run(lab.args(subnet=NET_B, state="absent"))
    assert run.rc == 0 and run.task("scope")["result"]["changed"]
    assert lab.files() == {lab.config.name: lab.original}


@pytest.mark.parametrize("variant", ["kea", "kea-agent"])
def test_kea_rejects_a_lease_time_above_its_maximum(lab_for, variant):
    """The site's global max-valid-lifetime (3600) is Kea's to enforce: it rejects the created subnet, nothing changes."""
    lab = lab_for(variant, second_subnet=False)
    before = running(lab) if lab.agent_url else None
    args = scope_args(lab, subnet=NET_B, create=True, pools=["10.99.42.100-10.99.42.120"], lease_time=7200, provisioning_url=URL)
    run = lab.run(args)
    assert run.rc != 0
    msg = run.task("scope")["result"]["msg"]
    assert "rejected" in msg and "max-valid-lifetime" in msg, msg
    assert lab.files() == {lab.config.name: lab.original}
    if before is not None:
        assert running(lab) == before
    assert lab.request()["ip"] == RESERVED_IP


@pytest.mark.parametrize("variant", ["isc_dhcpd", "kea"])
def test_unhealthy_server_is_rolled_back(lab_for, variant):
    """The server comes back, but the site's health check says no: the old config returns and the server answers."""
    lab = lab_for(variant)
    args = scope_args(lab, provisioning_url=URL)
    args["service"] = lab.service(health_command=["sh", "-c", "echo phones cannot reach the PBX >&2; exit 3"])
    run = lab.run(args)
    assert run.rc != 0
    msg = run.task("scope")["result"]["msg"]
    assert "did not come back healthy" in msg and "phones cannot reach the PBX" in msg and "running again" in msg, msg
    assert lab.files() == {lab.config.name: lab.original}
    lease = lab.request()
    assert lease["ip"] == RESERVED_IP and 66 not in lease["options"]


def test_missing_subnet_on_a_third_party_server(lab_for):
    lab = lab_for("isc_dhcpd", second_subnet=False)
    run = lab.run(lab.args(subnet=NET_B, provisioning_url=URL))
    assert run.rc != 0
    msg = run.task("scope")["result"]["msg"]
    assert "host dhcp-server" in msg and "no subnet 10.99.42.0 netmask 255.255.255.0" in msg, msg
    assert lab.files() == {lab.config.name: lab.original}


def test_bad_input_changes_nothing(lab_for):
    lab = lab_for("dnsmasq")
    run = lab.run(
        lab.args(subnet=NET_A, create=True, pools=["10.99.41.90-10.99.41.110", "10.99.42.1-10.99.42.9"], provisioning_url="ftp//x y")
    )
    assert run.rc != 0
    msg = run.task("scope")["result"]["msg"]
    assert msg.startswith("host dhcp-server: dhcp_scope (dnsmasq, subnet 10.99.41.0/24)"), msg
    assert "provisioning_url" in msg and "pools[1]" in msg and "10.99.41.1-10.99.41.254" in msg, msg
    assert lab.files() == {lab.config.name: lab.original}


def test_many_subnets_of_one_server_in_one_play(lab_for):
    """Two PBXes update the same dnsmasq at the same time (forks); one change is rolled back, the other must survive that."""
    lab = lab_for("dnsmasq")
    python = str(netns_python(lab.srv, lab.dir))
    failing = lab.service(health_command=["sh", "-c", "sleep 1; exit 1"])
    local = {"ansible_connection": "local", "ansible_python_interpreter": python}
    hosts = {
        "pbx-a": dict(local, subnet=NET_A, url=URL, service=failing),
        "pbx-b": dict(local, subnet=NET_B, url=URL + "b/", service=lab.service()),
    }
    args = dict(lab.args(), subnet="{{ subnet }}", provisioning_url="{{ url }}", service="{{ service }}")
    play = [{"hosts": "all", "gather_facts": False, "tasks": [{"name": "scope", "pbxops.autoprov.dhcp_scope": args}]}]
    run = run_playbook(lab.dir / "many", play, inventory={"all": {"hosts": hosts}})
    assert run.task("scope", "pbx-a")["status"] == "failed" and run.task("scope", "pbx-b")["status"] == "ok", run.output
    assert 66 not in lab.request()["options"], "pbx-a's change was rolled back"
    assert lab.request(side="b", mac=None)["options"][66] == sent("dnsmasq", URL + "b/"), "pbx-b's change survived the rollback"


@pytest.mark.parametrize(
    "params",
    [
        dict(subnet="192.0.2.0/24", provisioning_url="http://192.0.2.10/p/"),
        dict(subnet="203.0.113.0/24", create=True, pools=["203.0.113.100-203.0.113.150"], provisioning_url="http://203.0.113.10/p/"),
    ],
    ids=["third-party", "create"],
)
def test_kea_edits_debians_stock_config(tmp_path, params):
    """The packaged kea-dhcp4.conf (comments, example classes, subnets without ids): Kea accepts our edit, absent restores it."""
    stock = "/etc/kea/kea-dhcp4.conf"
    if not shutil.which("kea-dhcp4") or not Path(stock).exists():
        pytest.skip("needs Debian's kea-dhcp4-server")
    path = tmp_path / "kea-dhcp4.conf"
    shutil.copy(stock, path)
    original = path.read_text()
    options = [{"code": 160, "value": "http://192.0.2.10/poly/", "vendor_class": "Polycom"}]

    class Runner:
        def run(self, argv, cwd=None):
            return 0, "", ""

        def which(self, name):
            return name

    def plan(**scope):
        return KeaFile({"config_file": str(path), "service": {}}, build_scope(scope), Runner()).plan().files[str(path)]

    path.write_text(plan(options=options, **params))
    check = subprocess.run(["kea-dhcp4", "-t", str(path)], capture_output=True, text=True, check=False)
    assert check.returncode == 0, check.stdout[-2000:]
    path.write_text(plan(subnet=params["subnet"], state="absent"))
    assert path.read_text() == original


def test_option_66_defaults_to_the_pbxs_provisioning_url(lab_for):
    lab = lab_for("kea")
    inventory = netns_inventory(
        lab.srv, lab.dir, hostvars={"autoprov_server_url": "{{ base }}p/Zt4kq9/", "base": "http://10.99.41.1:8080/"}
    )
    play = [{"hosts": "all", "gather_facts": False, "tasks": [{"name": "scope", "pbxops.autoprov.dhcp_scope": lab.args(subnet=NET_A)}]}]
    run = run_playbook(lab.dir / "default", play, inventory=inventory)
    assert run.rc == 0, run.output
    assert lab.request()["options"][66] == URL.encode()


@pytest.mark.parametrize("variant", ["kea", "dnsmasq"])
def test_credentials_reach_the_phone_but_no_output(lab_for, variant):
    lab = lab_for(variant)
    password = "Dhcp-P@ss/66"  # needs %-quoting in the URL
    args = scope_args(lab, provisioning_url=URL, provisioning_username="prov", provisioning_password=password)
    run = lab.run(args)
    assert run.rc == 0, run.output
    with_credentials = URL.replace("://", "://prov:Dhcp-P%40ss%2F66@", 1)
    assert lab.request()["options"][66] == sent(lab.backend, with_credentials)
    # Neither spelling of the password in the output, the diff (--diff) and the task results included.
    for spelling in (password, "Dhcp-P%40ss%2F66"):
        assert spelling not in lab.outputs[-1]
    assert lab.run(args).task("scope")["result"]["changed"] is False
