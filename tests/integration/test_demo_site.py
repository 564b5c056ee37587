"""The embedded demo inventory, the way `make demo` runs it: site, then a phone boots, then status.

It runs inside a network namespace of its own, so its loopback (where the demo's
responder listens) is private to the test.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import subprocess

import yaml
from helpers import ROOT, run_playbook
from responder_support import user_agent

DEMO = ROOT / "inventories" / "demo"
VAULT_ARGS = ["--vault-password-file", str(DEMO / "vault-password.txt")]


def demo_vault():
    from ansible.parsing.vault import VaultLib, VaultSecret

    vault = VaultLib([("default", VaultSecret((DEMO / "vault-password.txt").read_bytes().strip()))])
    return yaml.safe_load(vault.decrypt((DEMO / "group_vars" / "autoprov_pbx" / "vault.yml").read_bytes()))


def device_password(pbx_password, mac):
    """docs/responder.md, auth.derive_device_key and auth.device_key: key = HMAC-SHA256(password, label 1),
    the device's password = the first 24 hex digits of HMAC-SHA256(key, label 2 + MAC)."""
    key = hmac.new(pbx_password.encode(), b"pbxops.autoprov device key\0", hashlib.sha256).hexdigest()
    return hmac.new(key.encode(), b"pbxops.autoprov device password\0" + mac.encode(), hashlib.sha256).hexdigest()[:24]


def demo_secrets():
    data = demo_vault()
    # The URL token is not among them: it is a path segment every phone of the LAN is told (PnP,
    # DHCP), not a credential; the HTTP password is.
    return [data["vault_demo_admin_password"], data["vault_demo_http_password"]] + list(data["vault_demo_sip_secrets"].values())


def test_demo_provisions_a_phone_end_to_end(netns, tmp_path):
    inside = ("ip", "netns", "exec", netns.add("demo"))
    extra = {"autoprov_demo_dir": str(tmp_path / "demo-out")}

    def play(name, *args):
        return run_playbook(tmp_path, name, inventory=str(DEMO), extra_vars=extra, args=VAULT_ARGS + list(args), prefix=inside)

    first = play("pbxops.autoprov.site", "--diff")
    assert first.rc == 0, first.output[-3000:]
    configs = tmp_path / "demo-out" / "configs"
    manifest = json.loads((configs / ".autoprov-manifest.json").read_text())
    group_vars = yaml.safe_load((DEMO / "group_vars" / "autoprov_pbx" / "main.yml").read_text())
    assert set(manifest["devices"]) == {d["mac"].replace(":", "").lower() for d in group_vars["autoprov_devices"]}
    for device in manifest["devices"].values():
        assert device["files"] and all((configs / name).is_file() for name in device["files"])

    probe = play("pbxops.autoprov.probe", "-e", "autoprov_probe_target=127.0.0.1:15060")
    assert probe.rc == 0, probe.output[-3000:]
    booted = probe.task("Boot the phone (PnP, then fetch its files)")["result"]
    assert booted["answered_by"] == "127.0.0.1:15060"
    assert sorted((f["url"].rsplit("/", 1)[1], f["status"]) for f in booted["fetched"]) == [
        ("0015654aa937.boot", 200),
        ("0015654aa937.cfg", 200),
        ("y000000000066.cfg", 200),
    ]

    status = play("pbxops.autoprov.status")
    assert status.rc == 0, status.output[-3000:]
    report = status.task("Read the responder's status database")["result"]
    states = {d["mac"]: d["state"] for d in report["devices"]}
    assert states["0015654aa937"] == "current"
    assert "00:15:65:4a:a9:37" in status.output and "current" in status.output

    # Vaulted secrets reach the files, never the output (the site's diff included).
    secrets = demo_secrets()
    rendered = "".join(p.read_text() for p in configs.iterdir() if p.is_file())
    assert any(s in rendered for s in secrets)
    for run in (first, probe, status):
        for secret in secrets:
            assert secret not in run.output

    second = play("pbxops.autoprov.site")
    assert second.rc == 0, second.output[-3000:]
    assert second.changed_tasks() == []

    # A change for every phone, with resync: the phone that fetched is asked at the address it fetched
    # from (nothing answers on the demo's loopback), the others were never seen. The resync interval is
    # in every vendor's file (the time zone is not: the Yeastar TA keeps its own, issue 12).
    resync = play(
        "pbxops.autoprov.site", "-e", "autoprov_resync_interval=720", "-e", "autoprov_resync=true", "-e", "autoprov_resync_timeout=1"
    )
    assert resync.rc == 0, resync.output[-3000:]
    task = "pbxops.autoprov.provision : Ask the devices whose configuration changed to fetch it now (SIP NOTIFY check-sync)"
    outcomes = {d["mac"]: d for d in resync.task(task)["result"]["devices"]}
    assert sorted(outcomes) == sorted(manifest["devices"])
    assert outcomes["0015654aa937"]["address"].startswith("127.0.0.1")
    assert outcomes["0015654aa937"]["outcome"] in ("timeout", "unreachable")
    assert outcomes["249ad8102030"]["outcome"] == "no_address"

    # Rotating the config host's password (docs/inventory.md): the new one goes into every file, the
    # old one is still accepted until the grace window ends, and neither reaches the output.
    vault = demo_vault()
    old, new = vault["vault_demo_http_password"], "Rotated-Http-Pass-2"
    rotation = {"autoprov_http_password": new, "autoprov_http_previous": {"password": old, "until": "2099-01-01T00:00:00Z"}}
    rotate = play("pbxops.autoprov.site", "-e", json.dumps(rotation))
    assert rotate.rc == 0, rotate.output[-3000:]
    assert old not in rotate.output and new not in rotate.output
    auth = json.loads((tmp_path / "demo-out" / "responder" / "etc" / "responder.json").read_text())["auth"]
    assert (auth["password"], auth["previous"]) == (new, {"password": old, "until": "2099-01-01T00:00:00Z"})
    # The phone's own file carries its own pair (autoprov_http_device_passwords, on by default), derived from
    # the new password; the PBX-wide pairs and the phone's pair of the old password open it inside the window.
    mac, text = "0015654aa937", (configs / "0015654aa937.cfg").read_text()
    assert "static.auto_provision.server.username = %s\n" % mac in text and new not in text
    assert "static.auto_provision.server.password = %s\n" % device_password(new, mac) in text

    def status_of(name, agent, user, password):
        """The HTTP status curl gets for one file of the demo's config host."""
        url = "http://127.0.0.1:18080/%s/%s" % (vault["vault_demo_url_token"], name)
        cmd = [*inside, "curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "-A", agent, "-u", "%s:%s" % (user, password), url]
        return subprocess.run(cmd, capture_output=True, text=True, check=False).stdout

    for user, password in (("phones", old), ("phones", new), (mac, device_password(old, mac)), (mac, device_password(new, mac))):
        assert status_of("0015654aa937.cfg", user_agent("yealink", mac), user, password) == "200", user
    # Each device's pair opens its own files only: the Yealink's pair does not open another device's file.
    other, name = next(
        (m, n) for m, d in manifest["devices"].items() if d["vendor"] == "grandstream" for n in d["files"] if manifest["files"][n]["secret"]
    )
    assert status_of(name, user_agent("grandstream", other), mac, device_password(new, mac)) == "401"

    stopped = play("pbxops.autoprov.site", "-e", "autoprov_responder_state=stopped")
    assert stopped.rc == 0, stopped.output[-3000:]
    assert not (tmp_path / "demo-out" / "responder" / "state" / "responder.pid").exists()
