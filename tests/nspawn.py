"""A real systemd host for role tests: a Debian bookworm container booted with systemd-nspawn, reached over SSH.

The root file system is built once with debootstrap and cached under
.cache/nspawn/ (rebuilt only when the package list or the recipe changes).
Each boot runs on a throwaway overlay of it, on a veth wire whose host side
gets an address of 10.99.50.0/24-10.99.54.0/24; the container is stopped by
its PID and the overlay removed at teardown. See /work/shared/TESTBED.md.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import ipaddress
import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from pathlib import Path

from helpers import ROOT, sh, wait_for

SUITE = "bookworm"
# Everything a role may need at run time must be in here: the container has no mirror.
PACKAGES = (
    "systemd",
    "systemd-sysv",
    "dbus",
    "openssh-server",
    "python3",
    "iproute2",
    "sudo",
    "ca-certificates",
    "libpam-systemd",
    # The PBX as DHCP server (roles/provision with autoprov_dhcp.serve) installs it, with apt.
    "dnsmasq",
    "python3-apt",
)
# Bump when build_rootfs() changes what it writes into the tree.
RECIPE = 1
CACHE = ROOT / ".cache" / "nspawn"
NETWORKS = [ipaddress.ip_network("10.99.%d.0/24" % n) for n in range(50, 55)]
HOSTNAME = "autoprov-pbx"


def missing_tools():
    return [tool for tool in ("systemd-nspawn", "debootstrap", "ssh", "ssh-keygen", "ip") if shutil.which(tool) is None]


def apt_mirror():
    """The Debian mirror apt on this machine uses (deb822 or one-line sources)."""
    sources = [Path("/etc/apt/sources.list")] + sorted(Path("/etc/apt/sources.list.d").glob("*.sources"))
    for path in sources:
        if not path.is_file():
            continue
        text = path.read_text(errors="replace")
        if path.suffix == ".sources":
            for stanza in text.split("\n\n"):
                fields = dict(line.split(":", 1) for line in stanza.splitlines() if ":" in line and not line.startswith("#"))
                suites = fields.get("Suites", "").split()
                if SUITE in suites and "deb" in fields.get("Types", "").split():
                    return fields["URIs"].split()[0]
        else:
            for line in text.splitlines():
                words = line.split()
                if len(words) >= 3 and words[0] == "deb" and words[2] == SUITE:
                    return [w for w in words[1:] if not w.startswith("[")][0]
    return "http://deb.debian.org/debian"


def _stamp():
    return hashlib.sha256(("%s %s %d" % (SUITE, ",".join(sorted(PACKAGES)), RECIPE)).encode()).hexdigest()[:12]


@contextlib.contextmanager
def _locked(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def ssh_key():
    """The test SSH key pair (private key path), made once."""
    key = CACHE / "ssh" / "id_ed25519"
    with _locked(CACHE / ".ssh.lock"):
        if not key.exists():
            key.parent.mkdir(parents=True, exist_ok=True)
            sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "autoprov-tests", "-f", key)
    return key


def build_rootfs():
    """The cached root file system (built with debootstrap on first use). Returns (path, seconds spent building)."""
    rootfs = CACHE / ("%s-%s" % (SUITE, _stamp()))
    with _locked(CACHE / ".build.lock"):
        if (rootfs / ".autoprov-ready").exists():
            return rootfs, 0.0
        started = time.monotonic()
        for old in CACHE.glob("%s-*" % SUITE):
            shutil.rmtree(old, ignore_errors=True)
        partial = CACHE / ("partial-%s" % _stamp())
        shutil.rmtree(partial, ignore_errors=True)
        debs = CACHE / "debs"
        debs.mkdir(parents=True, exist_ok=True)
        sh(
            "debootstrap",
            "--variant=minbase",
            "--include=" + ",".join(PACKAGES),
            "--cache-dir=%s" % debs,
            SUITE,
            partial,
            apt_mirror(),
            timeout=900,
        )
        _customise(partial)
        (partial / ".autoprov-ready").write_text("%s\n" % _stamp())
        partial.rename(rootfs)
        return rootfs, time.monotonic() - started


def _customise(tree):
    """What every boot needs: networkd on host0, fast name resolution, no background apt runs."""
    sh("systemctl", "--root=%s" % tree, "enable", "systemd-networkd.service", "ssh.service")
    sh("systemctl", "--root=%s" % tree, "mask", "apt-daily.timer", "apt-daily-upgrade.timer", "systemd-networkd-wait-online.service")
    resolv = tree / "etc" / "resolv.conf"
    if resolv.is_symlink() or resolv.exists():
        resolv.unlink()
    # Nothing listens there: look-ups fail at once instead of waiting on a server that is not reachable.
    resolv.write_text("nameserver 127.0.0.1\noptions timeout:1 attempts:1\n")
    (tree / "etc" / "hostname").write_text(HOSTNAME + "\n")
    (tree / "etc" / "hosts").write_text("127.0.0.1 localhost\n127.0.1.1 %s\n::1 localhost ip6-localhost\n" % HOSTNAME)
    # A clean image: each boot gets its own machine id.
    (tree / "etc" / "machine-id").write_text("")
    shutil.rmtree(tree / "var" / "cache" / "apt" / "archives", ignore_errors=True)


def _free_network():
    used = set()
    for line in sh("ip", "-o", "-4", "addr", "show").stdout.splitlines():
        words = line.split()
        if "inet" in words:
            used.add(ipaddress.ip_interface(words[words.index("inet") + 1]).network)
    for net in NETWORKS:
        if not any(net.overlaps(u) for u in used):
            return net
    raise RuntimeError("no free network among %s for the test container" % ", ".join(map(str, NETWORKS)))


class NspawnHost:
    """One booted throwaway container. Use boot() / stop() (or the nspawn_host fixture)."""

    def __init__(self, rootfs, key):
        self.rootfs = rootfs
        self.key = key
        self.name = "aprole%s" % uuid.uuid4().hex[:5]
        self.run_dir = CACHE / "runs" / self.name
        self.tree = self.run_dir / "root"
        self.network = _free_network()
        hosts = list(self.network.hosts())
        self.host_address, self.address = str(hosts[0]), str(hosts[1])
        self.veth = "ve-%s" % self.name
        self.proc = None
        self.console = None
        self.boot_seconds = None

    # -- lifecycle ---------------------------------------------------------
    def boot(self, timeout=60):
        started = time.monotonic()
        for sub in ("upper", "work", "root"):
            (self.run_dir / sub).mkdir(parents=True, exist_ok=True)
        sh(
            "mount",
            "-t",
            "overlay",
            "overlay",
            "-o",
            "lowerdir=%s,upperdir=%s,workdir=%s" % (self.rootfs, self.run_dir / "upper", self.run_dir / "work"),
            self.tree,
        )
        self._personalise()
        self.console = open(self.run_dir / "console.log", "wb")
        self.proc = subprocess.Popen(
            [
                "systemd-nspawn",
                "--boot",
                "--directory=%s" % self.tree,
                "--machine=%s" % self.name,
                "--hostname=%s" % HOSTNAME,
                "--register=no",
                "--keep-unit",
                "--network-veth",
                "--resolv-conf=off",
                "--console=read-only",
            ],
            stdin=subprocess.DEVNULL,
            stdout=self.console,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            wait_for(self._veth_ready, timeout=timeout, what="the container's veth %s" % self.veth)
            sh("ip", "addr", "add", "%s/%d" % (self.host_address, self.network.prefixlen), "dev", self.veth)
            sh("ip", "link", "set", self.veth, "up")
            wait_for(self._ssh_ready, timeout=timeout, interval=0.2, what="SSH on %s" % self.address)
        except Exception:
            self.stop()
            raise AssertionError("container did not come up; console:\n%s" % self.console_text()[-3000:]) from None
        self.boot_seconds = time.monotonic() - started
        return self

    def _personalise(self):
        """Per-boot files in the overlay: this boot's address and the test key."""
        network = self.tree / "etc" / "systemd" / "network" / "10-host0.network"
        network.parent.mkdir(parents=True, exist_ok=True)
        network.write_text(
            "[Match]\nName=host0\n\n[Network]\nAddress=%s/%d\nLinkLocalAddressing=no\nIPv6AcceptRA=no\n"
            % (self.address, self.network.prefixlen)
        )
        ssh_dir = self.tree / "root" / ".ssh"
        ssh_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        (ssh_dir / "authorized_keys").write_text(Path(str(self.key) + ".pub").read_text())
        os.chmod(ssh_dir / "authorized_keys", 0o600)

    def _veth_ready(self):
        if self.proc.poll() is not None:
            raise AssertionError("systemd-nspawn exited with %s" % self.proc.returncode)
        return sh("ip", "link", "show", self.veth, check=False).returncode == 0

    def _ssh_ready(self):
        if self.proc.poll() is not None:
            raise AssertionError("systemd-nspawn exited with %s" % self.proc.returncode)
        try:
            with socket.create_connection((self.address, 22), timeout=0.5):
                pass
        except OSError:
            return False
        return self.ssh("true", check=False).returncode == 0

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)  # nspawn shuts the container down cleanly on TERM
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        if self.console:
            self.console.close()
        if os.path.ismount(self.tree):
            sh("umount", self.tree, check=False)
        if not os.path.ismount(self.tree):
            shutil.rmtree(self.run_dir, ignore_errors=True)

    # -- use ---------------------------------------------------------------
    def ssh_options(self):
        return [
            "-i",
            str(self.key),
            "-o",
            "StrictHostKeyChecking=no",
            "-o",
            "UserKnownHostsFile=/dev/null",
            "-o",
            "LogLevel=ERROR",
            "-o",
            "BatchMode=yes",
            "-o",
            "ConnectTimeout=5",
        ]

    def ssh(self, command, check=True, timeout=60):
        """Run a shell command in the container as root."""
        return sh("ssh", *self.ssh_options(), "root@%s" % self.address, command, check=check, timeout=timeout)

    def inventory(self, name="pbx", **host_vars):
        """An Ansible inventory (dict) with this container as one host reached over SSH as root."""
        host = {
            "ansible_host": self.address,
            "ansible_user": "root",
            "ansible_ssh_private_key_file": str(self.key),
            "ansible_ssh_common_args": "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR",
            "ansible_python_interpreter": "/usr/bin/python3",
        }
        host.update(host_vars)
        return {"all": {"hosts": {name: host}}}

    def console_text(self):
        try:
            return (self.run_dir / "console.log").read_text(errors="replace")
        except OSError:
            return ""
