"""A DHCP server namespace with two subnets and a client namespace wired to both, for dhcp_scope tests.

Subnet A (10.99.41.0/24) has a reservation for RESERVED_MAC; subnet B
(10.99.42.0/24) is the site's second subnet. The servers run inside the server
namespace with their pid files in the lab directory; close() ends them by PID.
dhcp_scope runs inside the server namespace too (helpers.netns_inventory).
"""

from __future__ import annotations

import glob
import os
import signal
import subprocess
from pathlib import Path

from helpers import dhcp_request, netns_inventory, run_playbook, wait_for

NET_A, NET_B = "10.99.41.0/24", "10.99.42.0/24"
SERVER_A, SERVER_B = "10.99.41.1", "10.99.42.1"
RESERVED_MAC, RESERVED_IP = "02:99:41:00:00:05", "10.99.41.50"
DYNAMIC_MAC = "02:99:41:00:00:77"
URL = "http://10.99.41.1:8080/p/Zt4kq9/"

KEA_CONF = """// The site's Kea config, kept by hand: dhcp_scope must leave all of this alone.
{
  "Dhcp4": {
    "interfaces-config": { "interfaces": [ "%(if_a)s", "%(if_b)s" ], "dhcp-socket-type": "raw" },
    /* the control socket lets dhcp_scope confirm that Kea took a new config */
    "control-socket": { "socket-type": "unix", "socket-name": "%(dir)s/kea4.sock" },
    "lease-database": { "type": "memfile", "persist": false },
    "valid-lifetime": 600,
    "max-valid-lifetime": 3600,
    # a global option of the site
    "option-data": [ { "name": "domain-name", "data": "example.org" } ],
    "subnet4": [
      {
        "id": 1,
        "subnet": "10.99.41.0/24",
        "pools": [ { "pool": "10.99.41.100 - 10.99.41.150" } ],
        "option-data": [ { "name": "routers", "data": "10.99.41.1" } ],
        "reservations": [ { "hw-address": "02:99:41:00:00:05", "ip-address": "10.99.41.50" } ]
      }%(second)s
    ]
  }
}
"""
KEA_SECOND = """,
      {
        "id": 2,
        "subnet": "10.99.42.0/24",  // the second site subnet
        "pools": [ { "pool": "10.99.42.100 - 10.99.42.150" } ]
      }"""

DHCPD_CONF = """# The site's dhcpd.conf, kept by hand.
ping-check false;
default-lease-time 600;
option domain-name "example.org";

subnet 10.99.41.0 netmask 255.255.255.0 {
  range 10.99.41.100 10.99.41.150;
  option routers 10.99.41.1;
  host reserved-phone { hardware ethernet 02:99:41:00:00:05; fixed-address 10.99.41.50; }
}
%(second)s"""
DHCPD_SECOND = """
# the second site subnet
subnet 10.99.42.0 netmask 255.255.255.0 { range 10.99.42.100 10.99.42.150; }
"""

DNSMASQ_CONF = """# The site's dnsmasq.conf, kept by hand.
port=0
interface=%(if_a)s
interface=%(if_b)s
bind-interfaces
no-ping
dhcp-leasefile=%(dir)s/dnsmasq.leases
pid-file=%(dir)s/dnsmasq.pid
dhcp-option=option:domain-name,example.org
dhcp-range=10.99.41.100,10.99.41.150,255.255.255.0,10m
dhcp-host=02:99:41:00:00:05,10.99.41.50
%(second)s"""
DNSMASQ_SECOND = "dhcp-range=set:second,10.99.42.100,10.99.42.150,255.255.255.0,10m  # the second site subnet\n"

AGENT_USER, AGENT_PASSWORD = "autoprov", "Agent-S3cret-7f2c"
CTRL_AGENT = """{ "Control-agent": { "http-host": "127.0.0.1", "http-port": 8000,
  "authentication": { "type": "basic", "realm": "kea", "clients": [ { "user": "%(user)s", "password": "%(password)s" } ] },
  "control-sockets": { "dhcp4": { "socket-type": "unix", "socket-name": "%(dir)s/kea4.sock" } } } }
"""
AGENT_URL = "http://127.0.0.1:8000/"


class Lab:
    def __init__(self, netns, tmp_path, backend, second_subnet=True):
        self.netns, self.backend = netns, backend
        self.dir = Path(tmp_path) / "lab"
        self.dir.mkdir(parents=True)
        self.srv, self.cli = netns.add("srv"), netns.add("cli")
        self.if_a, self.cli_a = netns.wire(self.srv, SERVER_A + "/24", self.cli, None)
        self.if_b, self.cli_b = netns.wire(self.srv, SERVER_B + "/24", self.cli, None)
        self.pid_files, self.handles, self.outputs = [], [], []
        self.env = dict(os.environ, KEA_PIDFILE_DIR=str(self.dir), KEA_LOCKFILE_DIR=str(self.dir))
        values = dict(if_a=self.if_a, if_b=self.if_b, dir=self.dir)
        template, second = {
            "kea": (KEA_CONF, KEA_SECOND),
            "isc_dhcpd": (DHCPD_CONF, DHCPD_SECOND),
            "dnsmasq": (DNSMASQ_CONF, DNSMASQ_SECOND),
        }[backend]
        values["second"] = second if second_subnet else ""
        self.config = self.dir / {"kea": "kea-dhcp4.conf", "isc_dhcpd": "dhcpd.conf", "dnsmasq": "dnsmasq.conf"}[backend]
        self.config.write_text(template % values)
        self.original = self.config.read_bytes()
        self.dropin_dir = self.dir / "dropin"
        self.restart_script = self.dir / "restart.sh"
        self._write_restart_script()

    # -- the server

    def _write_restart_script(self):
        """What the service's restart command does here (no systemd): stop by pid file, start again."""
        if self.backend == "kea":
            return
        if self.backend == "isc_dhcpd":
            (self.dir / "dhcpd.leases").touch()
            pid = self.dir / "dhcpd.pid"
            start = "dhcpd -4 -q -cf %s -lf %s -pf %s %s %s" % (self.config, self.dir / "dhcpd.leases", pid, self.if_a, self.if_b)
        else:
            pid = self.dir / "dnsmasq.pid"
            start = "dnsmasq --conf-file=%s" % self.config
        self.pid_file = pid
        self.restart_script.write_text(
            "#!/bin/sh\n"
            'pid=$(cat %s 2>/dev/null)\nif [ -n "$pid" ]; then kill "$pid" 2>/dev/null\n'
            # a killed daemon stays a zombie until init reaps it: count that as gone
            '  while kill -0 "$pid" 2>/dev/null && [ "$(cut -d" " -f3 /proc/$pid/stat 2>/dev/null)" != Z ]; do sleep 0.02; done\n'
            'fi\nrm -f "%s"\nexec %s\n' % (pid, pid, start)
        )
        self.restart_script.chmod(0o755)
        self.pid_files.append(pid)

    def start(self):
        if self.backend == "kea":
            log = self._log("kea.log")
            self.netns.popen(self.srv, ["kea-dhcp4", "-c", self.config], env=self.env, stdout=log, stderr=subprocess.STDOUT)
            self.pid_file = Path(wait_for(lambda: glob.glob(str(self.dir / "*.kea-dhcp4.pid")), what="Kea's pid file")[0])
            wait_for((self.dir / "kea4.sock").exists, what="Kea's control socket")
        else:
            self.netns.run(self.srv, [str(self.restart_script)])
            wait_for(self.pid_file.exists, what="the server's pid file")
        return self

    def start_agent(self):
        (self.dir / "ca.json").write_text(CTRL_AGENT % dict(dir=self.dir, user=AGENT_USER, password=AGENT_PASSWORD))
        self.netns.popen(
            self.srv, ["kea-ctrl-agent", "-c", self.dir / "ca.json"], env=self.env, stdout=self._log("ca.log"), stderr=subprocess.STDOUT
        )
        probe = ["-o", "/dev/null", "-w", "%{http_code}"]
        wait_for(lambda: self.agent_call("list-commands", probe).stdout == "200", what="the Kea control agent")
        return AGENT_URL

    def agent_call(self, command, extra=()):
        """curl to the control agent, as its own admin would."""
        body = '{"command": "%s", "service": ["dhcp4"]}' % command
        argv = ["curl", "-s", "-u", "%s:%s" % (AGENT_USER, AGENT_PASSWORD), "-X", "POST", "-H", "Content-Type: application/json"]
        return self.netns.run(self.srv, argv + list(extra) + ["-d", body, AGENT_URL], check=False)

    def _log(self, name):
        handle = open(self.dir / name, "ab")
        self.handles.append(handle)
        return handle

    def server_pid(self):
        try:
            return int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None

    def service(self, **extra):
        """The dhcp_scope `service` settings for this lab's server."""
        spec = dict(pid_file=str(self.pid_file), settle=0.3, timeout=10)
        if self.backend != "kea":
            spec["restart_command"] = [str(self.restart_script)]
        spec.update(extra)
        return spec

    def close(self):
        for pid_file in self.pid_files:
            try:
                os.kill(int(Path(pid_file).read_text().strip()), signal.SIGTERM)
            except (OSError, ValueError):
                pass
        for handle in self.handles:
            handle.close()

    # -- ansible

    def args(self, **extra):
        args = dict(backend=self.backend, config_file=str(self.config), service=self.service())
        if self.backend != "kea":
            args["dropin_dir"] = str(self.dropin_dir)
        args.update(extra)
        return args

    def run(self, args, check=False, diff=True):
        play = [{"hosts": "all", "gather_facts": False, "tasks": [{"name": "scope", "pbxops.autoprov.dhcp_scope": args}]}]
        flags = (["--check"] if check else []) + (["--diff"] if diff else [])
        run = run_playbook(self.dir / "ansible", play, inventory=netns_inventory(self.srv, self.dir), args=flags)
        self.outputs.append(run.output + "".join(p.read_text() for p in (self.dir / "ansible").glob("results-*.jsonl")))
        return run

    # -- the client

    def request(self, side="a", mac=RESERVED_MAC, vendor_class=None, codes=(66,)):
        ifname = self.cli_a if side == "a" else self.cli_b
        lease = dhcp_request(self.cli, ifname, self.dir, codes=codes, vendor_class=vendor_class, mac=mac)
        assert lease is not None, "no lease on subnet %s; server log:\n%s" % (side, self.log())
        return lease

    def log(self):
        return "".join(p.read_text(errors="replace")[-2000:] for p in self.dir.glob("*.log"))

    def files(self):
        """Every config file of the lab (name: bytes), to prove what changed and what did not."""
        found = {self.config.name: self.config.read_bytes()}
        if self.dropin_dir.exists():
            found.update({"dropin/" + p.name: p.read_bytes() for p in sorted(self.dropin_dir.iterdir()) if not p.name.endswith("~")})
        return found
