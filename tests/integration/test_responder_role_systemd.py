"""The responder role on a real systemd host (Debian bookworm in systemd-nspawn, over SSH).

One container for the module: converge twice (the second run changes nothing),
check the unit's hardening as systemd applied it, fetch files from the host side
with a phone's User-Agent, PnP over multicast on the container's LAN and unicast
from the host, then move HTTP to port 80 (the capability appears, the service
restarts) and remove everything with state absent.
"""

from __future__ import annotations

import subprocess

import pytest
from helpers import run_playbook, wait_for

TOKEN = "Zt4hqRole"
SECRETS = ("S3cret-101x", "S3cret-102x")
PASSWORD = "Prov-Pa55-Secret"
DEVICES = [
    {"mac": "00:15:65:aa:bb:01", "model": "T46S", "lines": [{"extension": "101", "secret": SECRETS[0]}]},
    {"mac": "00:15:65:aa:bb:02", "model": "T54W", "lines": [{"extension": "102", "secret": SECRETS[1]}]},
]
UA_01 = "Yealink SIP-T46S 66.86.0.15 00:15:65:aa:bb:01"
ROLE = "pbxops.autoprov.responder : "
INSTALL = ROLE + "Install the responder (Python standard library only, no pip), its directories and configuration"


def converge(host, tmp_path, args=(), configs=True, **overrides):
    pbx_vars = {
        "autoprov_server_url": "http://%s:8080/p/%s/" % (host.address, TOKEN),
        "autoprov_config_root": "/var/lib/autoprov/configs",
        "autoprov_responder_interfaces": ["host0"],
    }
    pbx_vars.update(overrides)
    play = {
        "name": "responder on a systemd host",
        "hosts": "pbx",
        "gather_facts": False,
        "roles": [{"role": "pbxops.autoprov.responder"}],
        "tasks": []
        if not configs
        else [
            {
                "name": "device configs",
                "pbxops.autoprov.device_configs": {
                    "devices": DEVICES,
                    "dest": "{{ autoprov_config_root }}",
                    "sip_server": host.address,
                    "server_url": "{{ autoprov_server_url }}",
                    "group": "autoprov",
                },
            }
        ],
    }
    return run_playbook(tmp_path, [play], inventory=host.inventory(**pbx_vars), args=args)


def curl(host, path, agent, port=8080, scheme="http", extra=()):
    url = "%s://%s:%d/p/%s/%s" % (scheme, host.address, port, TOKEN, path)
    cmd = ["curl", "-s", "-k", "-o", "/dev/null", "-w", "%{http_code}", "-A", agent, *extra, url]
    return int(subprocess.run(cmd, capture_output=True, text=True, timeout=20, check=False).stdout or 0)


def show(host, *props):
    out = host.ssh("systemctl show autoprov-responder -p %s" % ",".join(props)).stdout
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


@pytest.fixture(scope="module")
def converged(nspawn_host, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("role-systemd")
    # Check mode on a host that never had the responder (the role alone: device_configs cannot
    # know the group the role would create).
    dry = converge(nspawn_host, tmp, args=("--check",), configs=False)
    assert dry.rc == 0, dry.output
    assert nspawn_host.ssh("test -e /opt/pbxops-autoprov || getent passwd autoprov", check=False).returncode != 0
    first = converge(nspawn_host, tmp)
    assert first.rc == 0, first.output
    second = converge(nspawn_host, tmp)
    return nspawn_host, tmp, first, second


def test_converges_then_changes_nothing(converged):
    host, _tmp, first, second = converged
    # The unit comes with the code, in the install's one call; one more call enables and starts it.
    assert "/etc/systemd/system/autoprov-responder.service" in first.task(INSTALL)["result"]["written"]
    assert first.task(ROLE + "Enable and start (or stop) the service")["result"]["changed"] is True
    assert second.rc == 0, second.output
    assert second.changed_tasks() == [], second.changed_tasks()
    assert host.ssh("systemctl is-active autoprov-responder").stdout.strip() == "active"
    assert host.ssh("systemctl is-enabled autoprov-responder").stdout.strip() == "enabled"
    for secret in SECRETS:
        assert secret not in first.output + second.output


def test_unit_is_hardened(converged):
    host = converged[0]
    props = show(
        host,
        "User",
        "NoNewPrivileges",
        "ProtectSystem",
        "ProtectHome",
        "PrivateTmp",
        "PrivateDevices",
        "StateDirectory",
        "CapabilityBoundingSet",
        "AmbientCapabilities",
        "RestrictAddressFamilies",
        "SystemCallFilter",
        "LimitNOFILE",
        "MainPID",
    )
    assert props["User"] == "autoprov"
    assert props["NoNewPrivileges"] == "yes"
    assert props["ProtectSystem"] == "strict"
    assert props["ProtectHome"] == "yes"
    assert props["PrivateTmp"] == "yes"
    assert props["PrivateDevices"] == "yes"
    assert props["StateDirectory"] == "autoprov-responder"
    assert props["CapabilityBoundingSet"] == "" and props["AmbientCapabilities"] == ""  # no port below 1024
    assert set(props["RestrictAddressFamilies"].split()) == {"AF_INET", "AF_INET6", "AF_UNIX"}
    assert props["SystemCallFilter"]
    # Descriptors above the connection cap (1,024 by default: 2 each while streaming), soft and hard.
    assert int(props["LimitNOFILE"]) >= 2 * 1024 + 128
    # What the kernel says about the running process: the service user, no capabilities, no new privileges.
    status = host.ssh("cat /proc/%s/status" % props["MainPID"]).stdout
    fields = dict(line.split(":", 1) for line in status.splitlines())
    assert fields["CapEff"].strip() == "0000000000000000" and fields["CapBnd"].strip() == "0000000000000000"
    assert fields["NoNewPrivs"].strip() == "1"
    limits = host.ssh("cat /proc/%s/limits" % props["MainPID"]).stdout
    soft_nofile = next(line.split()[3] for line in limits.splitlines() if line.startswith("Max open files"))
    assert int(soft_nofile) >= 2 * 1024 + 128, limits
    uid = host.ssh("id -u autoprov").stdout.strip()
    assert fields["Uid"].split()[0] == uid
    # Read-only everywhere but the state directory.
    probe = host.ssh("nsenter -t %s -m sh -c 'touch /etc/x /var/lib/autoprov/configs/x 2>&1; echo rc=$?'" % props["MainPID"]).stdout
    assert "Read-only file system" in probe
    files = host.ssh("ls /var/lib/autoprov-responder").stdout.split()
    assert "status.sqlite" in files


def test_serves_files_to_the_phone(converged):
    host = converged[0]
    assert curl(host, "001565aabb01.boot", UA_01) == 200
    # No credentials are configured yet (test_credentials_and_tls_never_shown adds them): the files
    # that hold SIP passwords are refused even to their own phone.
    assert curl(host, "001565aabb01.cfg", UA_01) == 403
    assert curl(host, "001565aabb02.cfg", UA_01) == 403
    assert curl(host, "../../etc/passwd", UA_01) in (400, 403, 404)


def test_pnp_multicast_on_the_lan_and_unicast_from_the_host(converged, tmp_path):
    host = converged[0]
    url = "http://%s:8080/p/%s/" % (host.address, TOKEN)
    # On the PBX host itself: multicast out of host0 (looped back to the responder joined there).
    on_host = run_playbook(
        tmp_path,
        [
            {
                "name": "probe",
                "hosts": "pbx",
                "gather_facts": False,
                "tasks": [
                    {
                        "name": "multicast probe",
                        "pbxops.autoprov.pnp_probe": {"vendor": "yealink", "mac": "001565aabb01", "interface": "host0", "timeout": 5},
                    }
                ],
            }
        ],
        inventory=host.inventory(),
    )
    assert on_host.rc == 0, on_host.output
    result = on_host.task("multicast probe")["result"]
    assert result["url"] == url and result["subscribe_status"] == 200
    assert result["subscribe"].startswith("SUBSCRIBE sip:MAC001565aabb01@224.0.1.75 SIP/2.0")
    # From this machine over the wire, unicast, as a Snom phone would (ephemeral port), fetching its files.
    from_outside = run_playbook(
        tmp_path,
        [
            {
                "name": "probe",
                "hosts": "localhost",
                "gather_facts": False,
                "tasks": [
                    {
                        "name": "unicast probe",
                        "pbxops.autoprov.pnp_probe": {
                            "vendor": "yealink",
                            "mac": "00:15:65:aa:bb:02",
                            "model": "T54W",
                            "target": "%s:5060" % host.address,
                            "fetch": True,
                        },
                    }
                ],
            }
        ],
    )
    assert from_outside.rc == 0, from_outside.output
    result = from_outside.task("unicast probe")["result"]
    assert result["url"] == url
    assert result["answered_by"] == "%s:5060" % host.address
    assert sorted((f["url"].rsplit("/", 1)[1], f["status"]) for f in result["fetched"]) == [
        ("001565aabb02.boot", 200),
        ("001565aabb02.cfg", 403),  # holds the SIP password: no credentials configured yet
        ("y000000000096.cfg", 200),
    ]


def test_privileged_port_gets_the_capability_and_restarts(converged):
    host, tmp = converged[0], converged[1]
    before = show(host, "MainPID")["MainPID"]
    run = converge(host, tmp, autoprov_responder_http_listen=["0.0.0.0:80"], autoprov_server_url="http://%s/p/%s/" % (host.address, TOKEN))
    assert run.rc == 0, run.output
    restarted = run.task(ROLE + "Restart the responder service")["result"]
    assert restarted.get("changed") is True, restarted
    props = show(host, "CapabilityBoundingSet", "AmbientCapabilities", "MainPID")
    assert props["CapabilityBoundingSet"] == "cap_net_bind_service"
    assert props["AmbientCapabilities"] == "cap_net_bind_service"
    assert props["MainPID"] != before
    wait_for(lambda: curl(host, "001565aabb01.boot", UA_01, port=80) == 200, timeout=10, what="HTTP on port 80")


def test_credentials_and_tls_never_shown(converged, tmp_path):
    host, tmp = converged[0], converged[1]
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2"]
        + ["-subj", "/CN=%s" % host.address, "-keyout", tmp_path / "key.pem", "-out", tmp_path / "cert.pem"],
        check=True,
        capture_output=True,
    )
    key = (tmp_path / "key.pem").read_text()
    key_body = key.splitlines()[1]
    overrides = {
        "autoprov_server_url": "http://prov:%s@%s:8080/p/%s/" % (PASSWORD, host.address, TOKEN),
        "autoprov_responder_https_listen": ["0.0.0.0:8443"],
        "autoprov_responder_tls_cert": (tmp_path / "cert.pem").read_text(),
        "autoprov_responder_tls_key": key,
    }
    before = show(host, "MainPID")["MainPID"]
    check = converge(host, tmp, args=("--check", "--diff"), **overrides)
    assert check.rc == 0, check.output
    install = check.task(INSTALL)
    assert "/etc/autoprov-responder/responder.json" in install["result"]["written"], install
    assert show(host, "MainPID")["MainPID"] == before  # check mode changed nothing
    real = converge(host, tmp, args=("--diff", "-v"), **overrides)
    assert real.rc == 0, real.output
    for run in (check, real):
        assert PASSWORD not in run.output and key_body not in run.output
    assert host.ssh("stat -c '%a %U %G' /etc/autoprov-responder/tls-key.pem").stdout.split() == ["640", "root", "autoprov"]
    wait_for(lambda: curl(host, "001565aabb01.boot", UA_01) == 200, timeout=10, what="HTTP after the restart")
    # The secret file now needs the credentials from the URL, over HTTP and HTTPS alike.
    assert curl(host, "001565aabb01.cfg", UA_01) == 401
    assert curl(host, "001565aabb01.cfg", UA_01, extra=("--digest", "-u", "prov:" + PASSWORD)) == 200
    assert curl(host, "001565aabb01.cfg", UA_01, port=8443, scheme="https", extra=("--digest", "-u", "prov:" + PASSWORD)) == 200
    assert curl(host, "001565aabb01.cfg", UA_01, port=8443, scheme="https", extra=("-u", "prov:" + PASSWORD)) == 200
    assert curl(host, "001565aabb01.cfg", UA_01, port=8443, scheme="https", extra=("-u", "prov:wrong")) == 401
    # A phone that boots now gets the URL with the credentials (Yealink takes them there); the probe
    # uses them to fetch and never shows the password.
    probe = run_playbook(
        tmp_path,
        [
            {
                "name": "probe",
                "hosts": "localhost",
                "gather_facts": False,
                "tasks": [
                    {
                        "name": "probe with credentials",
                        "pbxops.autoprov.pnp_probe": {
                            "vendor": "yealink",
                            "mac": "001565aabb01",
                            "target": "%s:5060" % host.address,
                            "fetch": True,
                        },
                    }
                ],
            }
        ],
        args=("-v",),
    )
    assert probe.rc == 0, probe.output
    result = probe.task("probe with credentials")["result"]
    assert result["url"] == "http://prov:***@%s:8080/p/%s/" % (host.address, TOKEN) and result["url_has_credentials"] is True
    assert sorted(f["status"] for f in result["fetched"]) == [200, 200, 200]
    assert PASSWORD not in probe.output


def test_absent_removes_the_service(converged, tmp_path):
    host = converged[0]
    play = [{"name": "remove", "hosts": "pbx", "gather_facts": False, "roles": [{"role": "pbxops.autoprov.responder"}]}]
    run = run_playbook(tmp_path, play, inventory=host.inventory(autoprov_responder_state="absent"))
    assert run.rc == 0, run.output
    assert host.ssh("systemctl is-active autoprov-responder", check=False).stdout.strip() != "active"
    assert host.ssh("test -e /etc/systemd/system/autoprov-responder.service", check=False).returncode == 1
    assert host.ssh("test -e /opt/pbxops-autoprov/responder", check=False).returncode == 1
    # Kept: the device files and the status database.
    assert (
        host.ssh("test -e /var/lib/autoprov/configs/001565aabb01.cfg && test -e /var/lib/autoprov-responder/status.sqlite").returncode == 0
    )
    again = run_playbook(tmp_path, play, inventory=host.inventory(autoprov_responder_state="absent"))
    assert again.rc == 0 and again.changed_tasks() == [], again.output
