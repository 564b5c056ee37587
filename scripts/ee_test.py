# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The execution environment of docs/ee, built on this machine and used the way AWX uses it.

Run by scripts/ee-test.sh (`make ee-test`, root). Phases, each timed:

1. Base image. No image registry is reachable here, so the base is Debian bookworm made
   with `debootstrap --variant=minbase` (debs cached in .cache/ee/debs) and `podman
   import`ed; skipped while an image of the same package list is in the cache
   (.cache/ee/storage, podman's storage for this test only).
2. The collection tarball into docs/ee/collections/ (as docs/awx.md says), and a
   wheelhouse: `pip wheel` on the host, with the host's package index configuration, of
   every Python requirement the generated Containerfile and the collection name (cached
   per requirement set).
3. `ansible-builder build -f docs/ee/execution-environment.yml`, the definition as it is,
   with three build arguments for the Debian base (EE_BASE_IMAGE, PKGMGR, PYPKG) and
   `podman build --network=none`, the wheelhouse and a pip configuration bind-mounted for
   the RUN steps only (docs/ee/README.md says why and what differs).
4. PBX hosts: one namespace per PBX on one LAN (a bridge namespace), each with an sshd of
   its own; the responder runs there as a process (service manager "process") with its
   own directories on this machine's file system. The jobs' container joins a controller
   namespace on the same LAN (podman --network ns:PATH): traffic stays in our namespaces.
5. Jobs as AWX runs them (awx/main/tasks/jobs.py): one private data dir per job with the
   site repository as project (vaulted group_vars/host_vars next to site.yml, which is the
   site play itself: see write_site_repository), the
   inventory without secrets, the SSH key as env/ssh_key (ssh-agent in the container), the
   vault password answered to --ask-vault-pass from env/passwords, `-u root`, and
   `ansible-runner run --process-isolation --process-isolation-executable podman
   --container-image IMAGE --container-option=--user=root`. Job slicing: N jobs, the
   hosts ordered by name and dealt round robin (AWX's Inventory.get_script_data:
   hosts[slice_number - 1::slice_count]), each slice as `-l` in its own job; the slices
   of a round run at the same time. Two rounds: first run, no-change rerun.

Checks: every job rc 0 and status successful, each touched exactly its slice's hosts;
each PBX's responder serves a device's file to a phone on the LAN (curl in a namespace of
its own) with the PBX's pair and with the device's own pair, with its SIP secret in it,
and refuses a wrong password; the first run changes every host, the rerun reports
changed=0 on every host; no secret
(vault password, every vaulted value, the device passwords derived from them, the SSH
private key) appears in any file under the jobs' artifacts/ (stdout, job_events/*.json,
...) or in ansible-runner's own output.

    scripts/ee_test.py [--rebuild] [--hosts 3] [--slices 2]

--rebuild: debootstrap and import again, a fresh wheelhouse, ansible-builder --no-cache.
Last line: one JSON object with the figures (seconds; image_mb).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import fcntl
import hashlib
import json
import os
import re
import secrets
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
for _path in (ROOT / "tests", ROOT / "files" / "responder"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from helpers import VENV_BIN, Netns, sh, wait_for  # noqa: E402
from nspawn import apt_mirror  # noqa: E402
from responder_support import user_agent  # noqa: E402

from autoprov_responder.auth import device_key_from_password, device_password  # noqa: E402

CACHE = ROOT / ".cache" / "ee"
DEFINITION = ROOT / "docs" / "ee" / "execution-environment.yml"
TARBALL = ROOT / "docs" / "ee" / "collections" / "pbxops-autoprov.tar.gz"
IMAGE = "localhost/pbxops-autoprov-ee:local"
BASE_REPO = "localhost/pbxops-autoprov-ee-base"
SUITE = "bookworm"
# What the build installs with the system package manager must be in the base already: the
# build has no network. python3.11 python3-pip are PYPKG (below); git and openssh-client are
# what bindep makes of the collection's bindep.txt on Debian (checked in the build log).
BASE_PACKAGES = ("python3.11", "python3-pip", "git", "openssh-client", "ca-certificates")
BASE_RECIPE = 2  # bump when build_base() changes what goes into the image
BUILD_ARGS = {"PKGMGR": "/usr/bin/apt-get", "PYPKG": "python3.11 python3-pip"}
BINDEP_INSTALL = "+ /usr/bin/apt-get install -y git openssh-client"
# The LAN of the test: 10.99.77.0/24 (controller .1, PBXes .11 and up, the phone .100).
LAN = "10.99.77.%d"
HTTP_PORT, SIP_PORT = 8080, 5060
SITE_PLAYBOOK = """\
---
- name: Provision every PBX
  hosts: "{{ autoprov_hosts | default('autoprov_pbx') }}"
  gather_facts: false
  roles:
    - role: pbxops.autoprov.provision
"""
VAULT_PROMPT = r"Vault password:\s*?$"  # AWX RunJob.get_password_prompts, answered by pexpect
CONTAINERS_CONF = """\
# podman for scripts/ee-test.sh: crun fails on this kind of machine ("setrlimit RLIMIT_NOFILE:
# Operation not permitted", then "cgroups in hybrid mode not supported"); no journald.
[containers]
default_ulimits = []
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
runtime = "runc"
"""


def log(message):
    sys.stderr.write("\033[1m==> %s\033[0m\n" % message)
    sys.stderr.flush()


class Failed(Exception):
    pass


def check(condition, message):
    if not condition:
        raise Failed(message)


def run(cmd, logfile=None, timeout=3600, **kw):
    """Run a command; its output goes to logfile (appended) or is returned. Raises Failed with the tail."""
    cmd = [str(c) for c in cmd]
    if logfile:
        with open(logfile, "a") as out:
            out.write("\n$ %s\n" % shlex.join(cmd))
            out.flush()
            proc = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT, timeout=timeout, check=False, **kw)
        if proc.returncode:
            tail = Path(logfile).read_text(errors="replace")[-4000:]
            raise Failed("%s exited %d (log %s):\n%s" % (cmd[0], proc.returncode, logfile, tail))
        return proc
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False, **kw)
    if proc.returncode:
        raise Failed("%s exited %d:\n%s%s" % (shlex.join(cmd), proc.returncode, proc.stdout[-3000:], proc.stderr[-3000:]))
    return proc


def podman(*args, check_rc=True, **kw):
    cmd = ["podman", *[str(a) for a in args]]
    if check_rc:
        return run(cmd, **kw)
    return subprocess.run(cmd, capture_output=True, text=True, check=False)


def setup_podman():
    """containers.conf for this machine, and a storage of our own under .cache/ee (the image cache)."""
    conf = CACHE / "conf"
    conf.mkdir(parents=True, exist_ok=True)
    (conf / "containers.conf").write_text(CONTAINERS_CONF)
    (conf / "storage.conf").write_text(
        '[storage]\ndriver = "overlay"\ngraphroot = "%s"\nrunroot = "/run/pbxops-autoprov-ee"\n' % (CACHE / "storage")
    )
    # ansible-builder and ansible-runner call podman with this environment.
    os.environ["CONTAINERS_CONF"] = str(conf / "containers.conf")
    os.environ["CONTAINERS_STORAGE_CONF"] = str(conf / "storage.conf")


# -- 1. base image -------------------------------------------------------------------------


def base_tag():
    stamp = "%s %s %s %d" % (SUITE, ",".join(BASE_PACKAGES), apt_mirror(), BASE_RECIPE)
    return "%s:%s-%s" % (BASE_REPO, SUITE, hashlib.sha256(stamp.encode()).hexdigest()[:12])


def build_base(figures, work, rebuild):
    tag = base_tag()
    if not rebuild and podman("image", "exists", tag, check_rc=False).returncode == 0:
        log("base image %s: cached" % tag)
        figures.update(debootstrap_s=None, import_s=None, base="cached")
        return tag
    rootfs = CACHE / "rootfs"
    shutil.rmtree(rootfs, ignore_errors=True)
    (CACHE / "debs").mkdir(parents=True, exist_ok=True)
    log("debootstrap --variant=minbase %s (%s)" % (SUITE, ", ".join(BASE_PACKAGES)))
    started = time.monotonic()
    run(
        ["debootstrap", "--variant=minbase", "--include=" + ",".join(BASE_PACKAGES), "--cache-dir=%s" % (CACHE / "debs"),
         SUITE, rootfs, apt_mirror()],
        logfile=work / "debootstrap.log",
    )  # fmt: skip
    figures["debootstrap_s"] = round(time.monotonic() - started, 1)
    # As Debian's own images: no package lists (an `apt-get update` fetches them), no apt caches, and
    # not the .debs that debootstrap leaves in /var/cache/apt/archives when given a --cache-dir.
    apt = rootfs / "var" / "cache" / "apt"
    for path in [*(rootfs / "var" / "lib" / "apt" / "lists").glob("*"), *apt.glob("*.bin"), *(apt / "archives").glob("*.deb")]:
        if path.is_file():
            path.unlink()
    log("podman import -> %s" % tag)
    started = time.monotonic()
    tar = subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE)
    imported = subprocess.run(
        ["podman", "import", "--change", 'CMD ["/bin/bash"]', "-", tag], stdin=tar.stdout, capture_output=True, text=True, check=False
    )
    tar.stdout.close()
    check(tar.wait() == 0 and imported.returncode == 0, "podman import failed: %s" % imported.stderr[-2000:])
    figures["import_s"] = round(time.monotonic() - started, 1)
    figures["base"] = "built"
    shutil.rmtree(rootfs)
    for line in podman("images", "--format", "{{.Repository}}:{{.Tag}}", BASE_REPO).stdout.split():
        if line != tag:  # an older recipe's base
            podman("rmi", line, check_rc=False)
    return tag


# -- 2. collection tarball and wheelhouse --------------------------------------------------


def build_tarball(figures, work):
    started = time.monotonic()
    dist = work / "dist"
    run([VENV_BIN / "ansible-galaxy", "collection", "build", "--force", "--output-path", dist, ROOT], cwd=str(ROOT))
    (tarball,) = dist.glob("pbxops-autoprov-*.tar.gz")
    shutil.copy(tarball, TARBALL)
    figures["collection_build_s"] = round(time.monotonic() - started, 1)


def pip_specs(containerfile):
    """The requirements the generated Containerfile installs with pip: ANSIBLE_INSTALL_REFS and each `pip
    install` line (the collection's requirements.txt, which introspection hands to assemble, comes on top)."""
    specs = []
    refs = re.search(r'^ARG ANSIBLE_INSTALL_REFS="([^"]*)"', containerfile, re.M)
    if refs:
        specs += refs.group(1).split()
    for match in re.finditer(r"^RUN \$PYCMD -m pip install --no-cache-dir (.+)$", containerfile, re.M):
        specs += [s for s in shlex.split(match.group(1)) if not s.startswith("$")]
    return specs


def build_wheelhouse(figures, work, rebuild):
    """Every wheel the image build installs, made on the host (cached by requirement set)."""
    check(sys.version_info[:2] == (3, 11), "the wheelhouse must be made by Python 3.11, the image's")
    context = work / "create-context"
    run([VENV_BIN / "ansible-builder", "create", "-f", DEFINITION, "-c", context, "--output-filename", "Containerfile"])
    specs = sorted(set(pip_specs((context / "Containerfile").read_text())))
    requirements = (ROOT / "requirements.txt").read_text()
    digest = hashlib.sha256(json.dumps([specs, requirements, sys.platform]).encode()).hexdigest()[:12]
    wheelhouse = CACHE / "wheelhouse" / digest
    figures["wheel_specs"] = specs
    if (wheelhouse / ".complete").exists() and not rebuild:
        log("wheelhouse %s: cached" % wheelhouse.name)
        figures["wheelhouse_s"] = None
        return wheelhouse
    shutil.rmtree(wheelhouse, ignore_errors=True)
    log("pip wheel: %s + requirements.txt" % " ".join(specs))
    started = time.monotonic()
    run([VENV_BIN / "python", "-m", "pip", "wheel", "--quiet", "-w", wheelhouse, *specs, "-r", ROOT / "requirements.txt"],
        logfile=work / "wheelhouse.log")  # fmt: skip
    (wheelhouse / ".complete").write_text("%s\n" % " ".join(specs))
    figures["wheelhouse_s"] = round(time.monotonic() - started, 1)
    for old in (CACHE / "wheelhouse").iterdir():
        if old != wheelhouse:
            shutil.rmtree(old, ignore_errors=True)
    return wheelhouse


# -- 3. ansible-builder build ---------------------------------------------------------------


def step_output(build_log, step):
    """What a build step did: "cached" when podman took it from its cache, else its `set -x` trace of the
    apt-get install (or "" when there is none)."""
    lines = build_log.splitlines()
    for i, line in enumerate(lines):
        if "STEP" in line and step in line:
            following = lines[i + 1 : i + 400]
            if following and following[0].startswith("--> Using cache"):
                return "cached"
            for later in following:
                if later.startswith("+ /usr/bin/apt-get install"):
                    return later.strip()
                if "STEP" in later:
                    break
            return ""
    return ""


def build_image(figures, work, base, wheelhouse, rebuild):
    # pip in the RUN steps reads /etc/xdg/pip/pip.conf (pip's site-wide configuration); /mnt is an
    # empty directory of the base, so neither mount leaves anything but an empty /etc/xdg behind.
    xdg = CACHE / "build-config"
    (xdg / "pip").mkdir(parents=True, exist_ok=True)
    (xdg / "pip" / "pip.conf").write_text("[global]\nno-index = true\nfind-links = /mnt\ndisable-pip-version-check = true\n")
    extra = "--network=none --volume %s:/mnt:ro --volume %s:/etc/xdg:ro" % (shlex.quote(str(wheelhouse)), shlex.quote(str(xdg)))
    cmd = [VENV_BIN / "ansible-builder", "build", "-v3", "-f", DEFINITION, "-c", CACHE / "context", "-t", IMAGE, "--prune-images"]
    cmd += ["--build-arg", "EE_BASE_IMAGE=%s" % base]
    for key, value in BUILD_ARGS.items():
        cmd += ["--build-arg", "%s=%s" % (key, value)]
    cmd += ["--extra-build-cli-args", extra]
    if rebuild:
        cmd.append("--no-cache")
    log("ansible-builder build -f docs/ee/execution-environment.yml -t %s" % IMAGE)
    started = time.monotonic()
    logfile = work / "ansible-builder.log"
    run(cmd, logfile=logfile, cwd=str(ROOT))
    figures["builder_build_s"] = round(time.monotonic() - started, 1)
    TARBALL.unlink()  # it is in the build context now; docs/ee/collections/ holds nothing stale
    build_log = logfile.read_text(errors="replace")
    figures["build_steps_cached"] = build_log.count("--> Using cache")
    check(
        step_output(build_log, "RUN /output/scripts/install-from-bindep") in ("cached", BINDEP_INSTALL),
        "install-from-bindep did not ask apt-get for git and openssh-client (see %s)" % logfile,
    )

    size = int(podman("image", "inspect", "--format", "{{.Size}}", IMAGE).stdout.strip())
    figures["image_mb"] = round(size / 1e6)
    figures["base_image_mb"] = round(int(podman("image", "inspect", "--format", "{{.Size}}", base).stdout.strip()) / 1e6)
    label = podman("image", "inspect", "--format", '{{index .Labels "ansible-execution-environment"}}', IMAGE).stdout.strip()
    check(label == "true", "the image lacks the label ansible-execution-environment=true")
    probe = (
        "set -e; ansible --version | head -1; ansible-runner --version; ansible-galaxy collection list pbxops.autoprov 2>/dev/null"
        " | tail -1; python3.11 -c 'import netaddr, requests, mohawk, defusedxml'; ssh -V 2>&1; git --version;"
        " dpkg-query -W git openssh-client >/dev/null;"
        ' command -v ssh-agent; command -v dumb-init; test -z "$(ls -A /mnt)"; test -z "$(ls -A /etc/xdg)";'
        " test ! -e /etc/pip.conf; echo clean"
    )
    out = podman("run", "--rm", "--network=none", "--pull=never", "--user=root", IMAGE, "sh", "-c", probe).stdout
    check(re.search(r"ansible \[core 2\.19\.\d+\]", out), "ansible-core 2.19 missing from the image:\n%s" % out)
    version = yaml.safe_load((ROOT / "galaxy.yml").read_text())["version"]
    check(
        re.search(r"^pbxops\.autoprov\s+%s\s*$" % re.escape(version), out, re.M),
        "pbxops.autoprov %s is not in the image:\n%s" % (version, out),
    )
    check(out.rstrip().endswith("clean"), "the image is not as expected:\n%s" % out)
    figures["image_contents"] = [line.strip() for line in out.splitlines() if line.strip() and line.strip() != "clean"]


# -- 4. PBX hosts ---------------------------------------------------------------------------


class Lab:
    """The LAN: a controller namespace for the jobs' container, a phone, one namespace and sshd per PBX."""

    def __init__(self, work, hosts):
        self.work = work
        self.netns = Netns()
        self.names = ["pbx-%s" % chr(ord("a") + i) for i in range(hosts)]
        self.address = {name: LAN % (11 + i) for i, name in enumerate(self.names)}
        self.namespace = {}
        self.made_run_sshd = False
        self.key = work / "ssh" / "id_ed25519"

    def start(self):
        lan = self.netns.switch("lan")
        self.ctl = self.netns.add("ctl")
        self.netns.plug(lan, self.ctl, (LAN % 1) + "/24")
        self.phone = self.netns.add("phone")
        self.netns.plug(lan, self.phone, (LAN % 100) + "/24")
        self.key.parent.mkdir(parents=True)
        sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "ee-test", "-f", self.key)
        authorized = self.key.parent / "authorized_keys"
        shutil.copy(str(self.key) + ".pub", authorized)
        if not Path("/run/sshd").is_dir():  # sshd's privilege separation directory
            Path("/run/sshd").mkdir(mode=0o755)
            self.made_run_sshd = True
        for name in self.names:
            ns = self.namespace[name] = self.netns.add(name)
            self.netns.plug(lan, ns, self.address[name] + "/24")
            home = self.work / "pbx" / name
            (home / "tmp").mkdir(parents=True)
            sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", home / "ssh_host_ed25519_key")
            (home / "sshd_config").write_text(
                "ListenAddress %s:22\nHostKey %s\nPidFile %s\nAuthorizedKeysFile %s\nPermitRootLogin prohibit-password\n"
                "PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\nStrictModes no\nUseDNS no\n"
                "PrintMotd no\nSubsystem sftp /usr/lib/openssh/sftp-server\n"
                % (self.address[name], home / "ssh_host_ed25519_key", home / "sshd.pid", authorized)
            )
            self.netns.popen(ns, ["/usr/sbin/sshd", "-D", "-e", "-f", home / "sshd_config"], stdout=subprocess.DEVNULL,
                             stderr=open(home / "sshd.log", "wb"))  # fmt: skip
        for name in self.names:
            wait_for(lambda n=name: self.ssh(n, "true").returncode == 0, timeout=20, interval=0.2, what="sshd of %s" % name)

    def ssh(self, name, command):
        options = ["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes", "-o", "LogLevel=ERROR"]
        return self.netns.run(self.ctl, ["ssh", "-i", self.key, *options, "root@%s" % self.address[name], command], check=False)

    def close(self):
        self.netns.close()  # sshd, the responders and anything else in our namespaces end by PID
        if self.made_run_sshd:
            shutil.rmtree("/run/sshd", ignore_errors=True)


# -- 5. the site repository, the inventory, the jobs ----------------------------------------


def make_secrets(names):
    """Fresh per run, so that finding one anywhere means it leaked from this run."""
    token = secrets.token_urlsafe
    values = {"vault_password": token(18), "admin": token(12), "pbx": {}}
    for i, name in enumerate(names):
        values["pbx"][name] = {
            "vault_http_password": token(15),
            "vault_url_token": "tok" + secrets.token_hex(8),
            "vault_sip_secrets": {str(200 + 10 * i + k): token(12) for k in (1, 2)},
        }
    return values


def devices(index):
    """Two phones per PBX (a Yealink the phone namespace fetches for, a Grandstream); their secrets are vaulted."""
    yealink, grandstream = str(200 + 10 * index + 1), str(200 + 10 * index + 2)
    return [
        {"mac": "00:15:65:77:%02x:01" % index, "model": "T46S", "description": "Reception",
         "lines": [{"extension": yealink, "secret": "{{ vault_sip_secrets['%s'] }}" % yealink, "display_name": "Reception"}]},
        {"mac": "c0:74:ad:77:%02x:02" % index, "model": "GRP2612", "description": "Office",
         "lines": [{"extension": grandstream, "secret": "{{ vault_sip_secrets['%s'] }}" % grandstream, "display_name": "Office"}]},
    ]  # fmt: skip


def host_vars(lab, index, name):
    home = lab.work / "pbx" / name
    address = lab.address[name]
    return {
        "ansible_host": address,
        "ansible_python_interpreter": "/usr/bin/python3",
        "ansible_remote_tmp": str(home / "tmp"),
        "autoprov_method": "pnp",
        "autoprov_sip_server": address,
        "autoprov_server_url": "http://%s:%d/" % (address, HTTP_PORT),
        "autoprov_url_token": "{{ vault_url_token }}",
        "autoprov_http_username": "phones",
        "autoprov_http_password": "{{ vault_http_password }}",
        "autoprov_admin_password": "{{ vault_admin_password }}",
        "autoprov_timezone": "Europe/Berlin",
        "autoprov_config_root": str(home / "configs"),
        "autoprov_responder_service_manager": "process",
        "autoprov_responder_user": "",
        "autoprov_responder_install_dir": str(home / "responder" / "install"),
        "autoprov_responder_config_dir": str(home / "responder" / "etc"),
        "autoprov_responder_state_dir": str(home / "responder" / "state"),
        "autoprov_responder_sip_listen": ["%s:%d" % (address, SIP_PORT)],
        "autoprov_responder_http_listen": ["%s:%d" % (address, HTTP_PORT)],
        "autoprov_devices": devices(index),
    }


def write_site_repository(lab, values):
    """The site repository of docs/awx.md: the site play, vaulted vars next to it; the inventory without secrets."""
    from ansible.parsing.vault import VaultLib, VaultSecret

    vault = VaultLib([("default", VaultSecret(values["vault_password"].encode()))])

    def vaulted(path, data):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(vault.encrypt(yaml.safe_dump(data, sort_keys=False)))

    repo = lab.work / "site-repo"
    repo.mkdir()
    # The play itself, not `import_playbook: pbxops.autoprov.site`: Ansible reads the group_vars/ and
    # host_vars/ next to the playbook a play comes from (PlaybookExecutor sets the loader's basedir to
    # play._included_path, VariableManager reads vars from there), and the plays of an imported collection
    # playbook come from the collection's playbooks/ (ansible/playbook/playbook_include.py); with the
    # one-line import the vaulted files here are never read ("'vault_url_token' is undefined").
    (repo / "site.yml").write_text(SITE_PLAYBOOK)
    # Like the site repository's own ansible.cfg: no collections_path (the image's collection is in
    # /usr/share/ansible/collections); fresh PBX host keys each run.
    (repo / "ansible.cfg").write_text(
        "[defaults]\nhost_key_checking = false\ninterpreter_python = auto_silent\nforks = 20\n\n[ssh_connection]\npipelining = true\n"
    )
    vaulted(repo / "group_vars" / "autoprov_pbx" / "vault.yml", {"vault_admin_password": values["admin"]})
    for name in lab.names:
        vaulted(repo / "host_vars" / name / "vault.yml", values["pbx"][name])
    inventory = {"autoprov_pbx": {"hosts": {name: host_vars(lab, i, name) for i, name in enumerate(lab.names)}}}
    (lab.work / "hosts.yml").write_text(yaml.safe_dump(inventory, sort_keys=False))
    return repo


def slices(names, count):
    """AWX's job slicing: hosts ordered by name, slice k (1-based) gets hosts k, k+N, k+2N, ..."""
    ordered = sorted(names)
    return [ordered[k::count] for k in range(count)]


def private_data_dir(lab, repo, values, ident, hosts):
    """One job's private data dir, laid out as AWX writes it (awx/main/tasks/jobs.py)."""
    pdd = lab.work / "jobs" / ident
    shutil.copytree(repo, pdd / "project")
    (pdd / "inventory").mkdir(parents=True)
    shutil.copy(lab.work / "hosts.yml", pdd / "inventory" / "hosts.yml")
    (pdd / "cp").mkdir(mode=0o700)  # AWX: ANSIBLE_SSH_CONTROL_PATH_DIR=/runner/cp
    env = pdd / "env"
    env.mkdir(mode=0o700)
    files = {
        "passwords": json.dumps({VAULT_PROMPT: values["vault_password"]}),
        "ssh_key": Path(lab.key).read_text(),
        # BaseTask.write_args_file: RunJob.build_args with no Machine user (root), a Vault credential, the slice.
        "cmdline": shlex.join(["-u", "root", "--ask-vault-pass", "--forks=20", "-l", ",".join(hosts)]),
        "envvars": json.dumps({"ANSIBLE_SSH_CONTROL_PATH_DIR": "/runner/cp", "ANSIBLE_RETRY_FILES_ENABLED": "False"}),
        "settings": json.dumps({"job_timeout": 600, "suppress_ansible_output": True}),
    }
    for name, text in files.items():
        path = env / name
        path.write_text(text)
        path.chmod(0o600)
    return pdd


def run_job(lab, pdd, ident):
    cmd = [
        VENV_BIN / "ansible-runner", "run", pdd, "-p", "site.yml", "--ident", ident,
        "--process-isolation", "--process-isolation-executable", "podman", "--container-image", IMAGE,
        "--container-option=--user=root",  # AWX's build_execution_environment_params
        # AWX adds DEFAULT_CONTAINER_RUN_OPTIONS (--network slirp4netns:...); here the container joins
        # the controller's namespace, on the PBXes' LAN.
        "--container-option=--network=ns:/run/netns/%s" % lab.ctl,
        "--container-option=--pull=never",
    ]  # fmt: skip
    started = time.monotonic()
    with open(pdd / "runner-output.log", "wb") as out:
        proc = subprocess.run([str(c) for c in cmd], stdout=out, stderr=subprocess.STDOUT, timeout=900, check=False)
    seconds = time.monotonic() - started
    artifacts = pdd / "artifacts" / ident
    status = (artifacts / "status").read_text().strip() if (artifacts / "status").exists() else "none"
    rc = (artifacts / "rc").read_text().strip() if (artifacts / "rc").exists() else "none"
    return {"ident": ident, "exit": proc.returncode, "rc": rc, "status": status, "seconds": round(seconds, 1), "artifacts": artifacts}


def job_stats(artifacts):
    """The playbook_on_stats event of a job: {ok, changed, failures, dark, ...} per host."""
    for path in sorted((artifacts / "job_events").glob("*.json")):
        event = json.loads(path.read_text())
        if event.get("event") == "playbook_on_stats":
            return event["event_data"]
    raise Failed("no playbook_on_stats event in %s" % artifacts)


def run_round(lab, repo, values, label, groups, figures):
    jobs, planned = [], []
    for k, hosts in enumerate(groups, start=1):
        ident = "%s-slice%d" % (label, k)
        planned.append((ident, hosts, private_data_dir(lab, repo, values, ident, hosts)))
        figures["jobs"][ident] = {}
    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(groups)) as pool:
        futures = [(hosts, pdd, pool.submit(run_job, lab, pdd, ident)) for ident, hosts, pdd in planned]
        for hosts, pdd, future in futures:
            job = future.result()
            job["hosts"], job["pdd"] = hosts, pdd
            jobs.append(job)
    figures["%s_round_s" % label] = round(time.monotonic() - started, 1)
    for job in jobs:
        figures["jobs"][job["ident"]].update(seconds=job["seconds"], hosts=job["hosts"])
        if job["exit"] or job["rc"] != "0" or job["status"] != "successful":
            output = ""
            for path in (job["artifacts"] / "stdout", job["pdd"] / "runner-output.log"):
                if path.exists():
                    output += "--- %s\n%s\n" % (path.relative_to(lab.work), path.read_text(errors="replace")[-4000:])
            raise Failed("job %s: exit %s, rc %s, status %s\n%s" % (job["ident"], job["exit"], job["rc"], job["status"], output))
        stats = job_stats(job["artifacts"])
        touched = set(stats.get("ok", {})) | set(stats.get("changed", {}))
        check(touched == set(job["hosts"]), "job %s ran on %s, its slice is %s" % (job["ident"], sorted(touched), job["hosts"]))
        check(not stats.get("failures") and not stats.get("dark"), "job %s: failures %s" % (job["ident"], stats))
        job["changed"] = {h: stats.get("changed", {}).get(h, 0) for h in job["hosts"]}
        figures["jobs"][job["ident"]]["changed"] = job["changed"]
    return jobs


# -- 6. checks ------------------------------------------------------------------------------


def check_responders(lab, values):
    """A phone on the LAN fetches its file from each PBX: the PBX's pair and its own pair open it, with its
    SIP secret in it; a wrong password does not."""
    results = {}
    for index, name in enumerate(lab.names):
        pbx = values["pbx"][name]
        mac = "00156577%02x01" % index
        url = "http://%s:%d/%s/%s.cfg" % (lab.address[name], HTTP_PORT, pbx["vault_url_token"], mac)
        own = device_password(device_key_from_password(pbx["vault_http_password"]), mac)

        def fetch(user, password, url=url, mac=mac):
            cmd = ["curl", "-sS", "-m", "10", "-o", "-", "-w", "\n%{http_code}", "-A", user_agent("yealink", mac),
                   "-u", "%s:%s" % (user, password), url]  # fmt: skip
            out = lab.netns.run(lab.phone, cmd, check=False).stdout
            body, code = out.rsplit("\n", 1) if "\n" in out else ("", out)
            return code, body

        secret = pbx["vault_sip_secrets"][str(200 + 10 * index + 1)]
        for user, password in (("phones", pbx["vault_http_password"]), (mac, own)):
            code, body = fetch(user, password)
            check(code == "200", "%s: %s with %s's pair answered %s" % (name, url.replace(pbx["vault_url_token"], "TOKEN"), user, code))
            check(secret in body, "%s: the device's file lacks its (vaulted) SIP secret" % name)
        code = fetch("phones", "wrong-" + pbx["vault_http_password"])[0]
        check(code == "401", "%s: a wrong password got %s" % (name, code))
        results[name] = "200 with the PBX's pair and the device's own pair, 401 with a wrong one"
    return results


def all_secrets(lab, values):
    found = {"vault password": values["vault_password"], "admin password": values["admin"]}
    for index, name in enumerate(lab.names):
        pbx = values["pbx"][name]
        found["%s HTTP password" % name] = pbx["vault_http_password"]
        found["%s URL token" % name] = pbx["vault_url_token"]
        for ext, secret in pbx["vault_sip_secrets"].items():
            found["%s SIP secret %s" % (name, ext)] = secret
        key = device_key_from_password(pbx["vault_http_password"])
        found["%s device key" % name] = key
        for mac in ("00156577%02x01" % index, "c074ad77%02x02" % index):
            found["%s device password %s" % (name, mac)] = device_password(key, mac)
    private_key = Path(lab.key).read_text().splitlines()
    found["SSH private key"] = max(private_key[1:-1], key=len)
    return found


def search(paths, wanted):
    """{label: [file, ...]} of the secrets found in these files (regular files only: not the SSH key's fifo)."""
    found = {}
    for path in paths:
        if path.is_file():
            data = path.read_bytes()
            for label, value in wanted.items():
                if value in data:
                    found.setdefault(label, []).append(path)
    return found


def check_no_secrets(lab, values, jobs):
    """Every file under each job's artifacts/ and ansible-runner's own output, searched for every secret; the
    same search must find them where they belong, or finding none would mean nothing."""
    wanted = {label: value.encode() for label, value in all_secrets(lab, values).items()}
    paths = []
    for job in jobs:
        paths += [*(job["pdd"] / "artifacts").rglob("*"), job["pdd"] / "runner-output.log"]
    leaks = search(paths, wanted)
    check(not leaks, "secrets in the artifacts:\n  " + "\n  ".join("%s: %s" % (k, v) for k, v in leaks.items()))
    # Where they belong: the vault password in the jobs' env/passwords (the Vault credential), the SIP secrets
    # and device passwords in the PBXes' files; the project's vault files and the inventory hold none in clear.
    inputs = [p for job in jobs for p in (job["pdd"] / "project").rglob("*")] + [job["pdd"] / "inventory" / "hosts.yml" for job in jobs]
    check(not search(inputs, wanted), "a secret in clear in the project or the inventory")
    check(search([job["pdd"] / "env" / "passwords" for job in jobs], wanted).keys() == {"vault password"}, "env/passwords")
    on_pbx = search((lab.work / "pbx").rglob("*"), wanted)
    sip = {label for label in wanted if " SIP secret " in label or " device password " in label}
    check(sip <= on_pbx.keys(), "the search did not find %s in the PBXes' files" % sorted(sip - on_pbx.keys()))
    events = sum(len(list((job["artifacts"] / "job_events").glob("*.json"))) for job in jobs)
    return {"files": sum(1 for p in paths if p.is_file()), "job_events": events, "secrets": len(wanted)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rebuild", action="store_true", help="no cached base image, wheelhouse or build layers")
    parser.add_argument("--hosts", type=int, default=3, help="PBX hosts (2-9)")
    parser.add_argument("--slices", type=int, default=2, help="job slices")
    args = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("scripts/ee_test.py needs root")
    check(2 <= args.hosts <= 9 and 1 <= args.slices <= args.hosts, "--hosts 2-9, --slices 1..hosts")

    CACHE.mkdir(parents=True, exist_ok=True)
    lock = open(CACHE / ".lock", "w")
    fcntl.flock(lock, fcntl.LOCK_EX)
    work = CACHE / "last-run"  # what the last run left: logs, the jobs' private data dirs (throwaway secrets)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    started = time.monotonic()
    figures = {"hosts": args.hosts, "slices": args.slices, "jobs": {}}
    setup_podman()
    lab = None
    try:
        base = build_base(figures, work, args.rebuild)
        build_tarball(figures, work)
        wheelhouse = build_wheelhouse(figures, work, args.rebuild)
        build_image(figures, work, base, wheelhouse, args.rebuild)
        log("image %s: %d MB (base %d MB)" % (IMAGE, figures["image_mb"], figures["base_image_mb"]))

        lab = Lab(work, args.hosts)
        phase = time.monotonic()
        lab.start()
        figures["pbx_setup_s"] = round(time.monotonic() - phase, 1)
        values = make_secrets(lab.names)
        repo = write_site_repository(lab, values)
        groups = slices(lab.names, args.slices)
        log("jobs: %d slices %s, first run" % (len(groups), groups))
        first = run_round(lab, repo, values, "first", groups, figures)
        unchanged = sorted(h for job in first for h, n in job["changed"].items() if not n)
        check(not unchanged, "the first run changed nothing on %s" % unchanged)
        figures["responders"] = check_responders(lab, values)
        log("jobs: no-change rerun")
        second = run_round(lab, repo, values, "rerun", groups, figures)
        changed = {h: n for job in second for h, n in job["changed"].items() if n}
        check(not changed, "the rerun changed something: %s" % changed)
        figures["changed_on_rerun"] = 0
        figures["secrets_search"] = check_no_secrets(lab, values, first + second)
    except (Failed, AssertionError, subprocess.TimeoutExpired) as exc:
        sys.stderr.write("\nFAILED: %s\n(everything of this run is in %s)\n" % (exc, work))
        sys.exit(1)
    finally:
        for ident in figures["jobs"]:  # a container of a job that did not end (it is removed when it does)
            podman("rm", "--force", "--ignore", "ansible_runner_%s" % ident, check_rc=False)
        if lab:
            lab.close()
        if TARBALL.exists():
            TARBALL.unlink()
    figures["total_s"] = round(time.monotonic() - started, 1)

    print(
        "execution environment %s (%d MB, base %d MB) from docs/ee/execution-environment.yml"
        % (IMAGE, figures["image_mb"], figures["base_image_mb"])
    )
    for phase in ("debootstrap_s", "import_s", "collection_build_s", "wheelhouse_s", "builder_build_s", "pbx_setup_s"):
        value = figures.get(phase)
        print("  %-20s %s" % (phase[:-2], "cached" if value is None else "%.1f s" % value))
    for ident, job in figures["jobs"].items():
        print("  job %-15s %6.1f s  hosts %s  changed %s" % (ident, job["seconds"], ",".join(job["hosts"]), job.get("changed")))
    print("  first round %.1f s, rerun round %.1f s (slices run at the same time)" % (figures["first_round_s"], figures["rerun_round_s"]))
    for name, outcome in figures["responders"].items():
        print("  %s responder: %s" % (name, outcome))
    search = figures["secrets_search"]
    print("  no secret in %d files of artifacts/ (%d job events) and ansible-runner's output: %d secrets searched"
          % (search["files"], search["job_events"], search["secrets"]))  # fmt: skip
    print("  total %.1f s" % figures["total_s"])
    print(json.dumps(figures, default=str))


if __name__ == "__main__":
    main()
