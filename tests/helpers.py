"""Shared test helpers: run Ansible the way a user does, and build test hosts in network namespaces.

Namespaces and addresses: only 10.99.0.0/16 and 192.0.2.0/24, only inside
namespaces a test created; everything is deleted at teardown, processes are
ended by PID.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
import uuid
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
COLLECTIONS = ROOT / ".ansible" / "collections"
VENV_BIN = ROOT / ".venv" / "bin"


def ansible_env(results_file=None, extra=None):
    env = dict(os.environ)
    env.update(
        ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
        ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS),
        ANSIBLE_CALLBACK_PLUGINS=str(ROOT / "tests" / "callback_plugins"),
        ANSIBLE_CALLBACKS_ENABLED="results_jsonl",
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_FORCE_COLOR="0",
        ANSIBLE_RETRY_FILES_ENABLED="0",
        ANSIBLE_LOCALHOST_WARNING="0",
        ANSIBLE_INVENTORY_UNPARSED_WARNING="0",
        PATH="%s:%s" % (VENV_BIN, env.get("PATH", "")),
    )
    if results_file:
        env["AUTOPROV_RESULTS"] = str(results_file)
    env.update(extra or {})
    return env


class PlaybookRun:
    """The outcome of one ansible-playbook run: exit code, output, and every task result."""

    def __init__(self, rc, stdout, stderr, results):
        self.rc = rc
        self.stdout = stdout
        self.stderr = stderr
        self.results = results

    @property
    def output(self):
        return self.stdout + self.stderr

    def task(self, name, host=None):
        """The last result of the task with this name (and host)."""
        found = [r for r in self.results if r["task"] == name and (host is None or r["host"] == host)]
        assert found, "no result for task %r (host %r); tasks seen: %s" % (name, host, sorted({r["task"] for r in self.results}))
        return found[-1]

    def changed_tasks(self):
        return [(r["host"], r["task"]) for r in self.results if r["result"].get("changed")]


def run_playbook(tmp_path, playbook, inventory=None, extra_vars=None, args=(), env=None, timeout=600, prefix=()):
    """Run ansible-playbook. playbook: a path or a list of plays (written to tmp_path).

    inventory: a path, or a dict written as YAML; default: localhost with the
    venv's python. prefix: a command to run it under (e.g. ip netns exec NS).
    """
    tmp_path = Path(tmp_path)
    tmp_path.mkdir(parents=True, exist_ok=True)
    tag = uuid.uuid4().hex[:8]
    if not isinstance(playbook, (str, Path)):
        path = tmp_path / ("playbook-%s.yml" % tag)
        path.write_text(yaml.safe_dump(playbook, sort_keys=False))
        playbook = path
    if inventory is None:
        inventory = {
            "all": {"hosts": {"localhost": {"ansible_connection": "local", "ansible_python_interpreter": str(VENV_BIN / "python")}}}
        }
    if isinstance(inventory, dict):
        path = tmp_path / ("inventory-%s.yml" % tag)
        path.write_text(yaml.safe_dump(inventory, sort_keys=False))
        inventory = path
    results_file = tmp_path / ("results-%s.jsonl" % tag)
    cmd = [str(c) for c in prefix] + [str(VENV_BIN / "ansible-playbook"), "-i", str(inventory), str(playbook)]
    if extra_vars:
        cmd += ["-e", json.dumps(extra_vars)]
    cmd += list(args)
    proc = subprocess.run(
        cmd, cwd=str(ROOT), env=ansible_env(results_file, env), capture_output=True, text=True, timeout=timeout, check=False
    )
    results = []
    if results_file.exists():
        results = [json.loads(line) for line in results_file.read_text().splitlines() if line.strip()]
    return PlaybookRun(proc.returncode, proc.stdout, proc.stderr, results)


def sh(*cmd, check=True, **kw):
    return subprocess.run([str(c) for c in cmd], check=check, capture_output=True, text=True, **kw)


def have_netns():
    return os.geteuid() == 0 and shutil.which("ip") is not None


class Netns:
    """Network namespaces and veth wires for one test; deleted again by close()."""

    def __init__(self):
        self.prefix = "ap%s" % uuid.uuid4().hex[:6]
        self.namespaces = []
        self.procs = []

    def add(self, name):
        full = "%s-%s" % (self.prefix, name)
        sh("ip", "netns", "add", full)
        self.namespaces.append(full)
        sh("ip", "-n", full, "link", "set", "lo", "up")
        return full

    def wire(self, ns_a, addr_a, ns_b, addr_b):
        """A veth pair between two namespaces; addresses in CIDR form (or None). Returns the interface names."""
        tag = uuid.uuid4().hex[:5]
        if_a, if_b = "va%s" % tag, "vb%s" % tag
        sh("ip", "link", "add", if_a, "type", "veth", "peer", "name", if_b)
        for ns, ifname, addr in ((ns_a, if_a, addr_a), (ns_b, if_b, addr_b)):
            sh("ip", "link", "set", ifname, "netns", ns)
            if addr:
                sh("ip", "-n", ns, "addr", "add", addr, "dev", ifname)
            sh("ip", "-n", ns, "link", "set", ifname, "up")
        return if_a, if_b

    def switch(self, name):
        """A namespace holding one bridge: a LAN segment that members join with plug()."""
        ns = self.add(name)
        sh("ip", "-n", ns, "link", "add", "br0", "type", "bridge", "mcast_snooping", "0")
        sh("ip", "-n", ns, "link", "set", "br0", "up")
        return ns

    def plug(self, switch_ns, ns, addr=None):
        """Connect a namespace to a switch(); returns the interface name inside ns."""
        port, member = self.wire(switch_ns, None, ns, addr)
        sh("ip", "-n", switch_ns, "link", "set", port, "master", "br0")
        return member

    def add_loss(self, ns, ifname, percent, deterministic=False):
        """Drop `percent` % of the IPv4 packets crossing `ifname` at random; call it on both ends of a wire
        for loss both ways. tc netem (packets leaving) where the kernel has it, else an nftables ingress
        rule (packets arriving): kernels built without sch_netem exist, and an output-hook drop would
        fail the sender's sendto() with EPERM, which no real link does.

        deterministic: drop the first `percent` of every 100 IPv4 packets arriving from now on (nftables
        numgen inc), so a test knows which ones are lost."""
        if not deterministic:
            netem = sh(
                "ip", "netns", "exec", ns, "tc", "qdisc", "add", "dev", ifname, "root", "netem", "loss", "%d%%" % percent, check=False
            )
            if netem.returncode == 0:
                return "netem"
        table = (
            'table netdev loss_%s {\n chain in { type filter hook ingress device "%s" priority 0; '
            "meta protocol ip numgen %s mod 100 < %d drop; }\n}\n" % (ifname, ifname, "inc" if deterministic else "random", percent)
        )
        subprocess.run(["ip", "netns", "exec", ns, "nft", "-f", "-"], input=table, check=True, capture_output=True, text=True)
        return "nftables"

    def popen(self, ns, cmd, **kw):
        """Start a process inside a namespace; it is ended by PID at close()."""
        kw.setdefault("stdout", subprocess.PIPE)
        kw.setdefault("stderr", subprocess.PIPE)
        proc = subprocess.Popen(["ip", "netns", "exec", ns] + [str(c) for c in cmd], start_new_session=True, **kw)
        self.procs.append(proc)
        return proc

    def run(self, ns, cmd, check=True, **kw):
        return sh("ip", "netns", "exec", ns, *cmd, check=check, **kw)

    def close(self):
        for proc in reversed(self.procs):
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
                try:
                    proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait(timeout=5)
        for ns in reversed(self.namespaces):
            self._end_leftovers(ns)
            sh("ip", "netns", "del", ns, check=False)

    @staticmethod
    def _end_leftovers(ns):
        """Processes still in a namespace we made (daemons a test started through a script) end with it, by PID."""
        pids = [int(p) for p in sh("ip", "netns", "pids", ns, check=False).stdout.split()]
        for sig in (signal.SIGTERM, signal.SIGKILL):
            for pid in pids:
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    pass
            deadline = time.monotonic() + 2
            while pids and time.monotonic() < deadline:
                pids = [p for p in pids if _running(p)]
                time.sleep(0.02)
            if not pids:
                return


def _running(pid):
    """True while pid runs; a zombie (ended, not yet reaped) counts as ended."""
    try:
        with open("/proc/%d/stat" % pid) as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def wait_for(predicate, timeout=10.0, interval=0.05, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("timed out after %.1fs waiting for %s" % (timeout, what))


def netns_python(ns, directory):
    """A Python interpreter that runs inside network namespace `ns` (a wrapper script in `directory`).

    Give it as ansible_python_interpreter of a local-connection host and every
    module of that host runs in the namespace: see netns_inventory().
    """
    path = Path(directory) / ("python-in-%s" % ns)
    path.write_text('#!/bin/sh\nexec ip netns exec %s %s "$@"\n' % (ns, VENV_BIN / "python"))
    path.chmod(0o755)
    return path


def netns_inventory(ns, directory, host="dhcp-server", hostvars=None):
    """An inventory whose one host is namespace `ns`, reached with a local connection."""
    variables = {"ansible_connection": "local", "ansible_python_interpreter": str(netns_python(ns, directory))}
    variables.update(hostvars or {})
    return {"all": {"hosts": {host: variables}}}


def dhcp_request(ns, ifname, workdir, codes=(66,), vendor_class=None, mac=None, timeout=10):
    """One DHCP exchange by the real ISC client (dhclient) on `ifname` in namespace `ns` (None: this one).

    Returns {"ip": str, "env": {...}, "options": {code: bytes}} with the exact
    bytes of each option in `codes` (requested under raw names, so nothing is
    stripped), or None when no lease came. The interface gets no address.
    """
    work = Path(workdir) / ("dhclient-%s" % uuid.uuid4().hex[:6])
    work.mkdir(parents=True)
    if mac:
        sh("ip", "-n", ns, "link", "set", "dev", ifname, "address", mac)
    conf = ["timeout %d;" % timeout, "retry 1;", "initial-interval 1;"]
    conf += ["option raw%d code %d = array of unsigned integer 8;" % (c, c) for c in codes]
    if vendor_class:
        conf.append('send vendor-class-identifier "%s";' % vendor_class)
    raw = ", ".join("raw%d" % c for c in codes)
    conf.append("request subnet-mask, routers, domain-name, domain-name-servers, dhcp-lease-time, %s;" % raw)
    (work / "dhclient.conf").write_text("\n".join(conf) + "\n")
    script = work / "script.sh"
    script.write_text('#!/bin/sh\nenv > "%s/.env" && mv "%s/.env" "%s/env.$reason"\n' % (work, work, work))
    script.chmod(0o755)
    # In the foreground (-d) so that we hold its PID: it keeps running once bound, and we end it then.
    inside = ["ip", "netns", "exec", ns] if ns else []
    argv = ["dhclient", "-d", "-1", "-cf", work / "dhclient.conf", "-sf", script, "-lf", work / "leases", "-pf", work / "pid", ifname]
    proc = subprocess.Popen(inside + [str(a) for a in argv], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    env_file = work / "env.BOUND"
    try:
        deadline = time.monotonic() + timeout + 5
        while not env_file.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        if proc.poll() is None:
            proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
    if not env_file.exists():
        return None
    env = dict(line.split("=", 1) for line in env_file.read_text().splitlines() if "=" in line)
    options = {c: bytes(int(b) for b in env["new_raw%d" % c].split()) for c in codes if "new_raw%d" % c in env}
    return {"ip": env.get("new_ip_address"), "env": env, "options": options}
