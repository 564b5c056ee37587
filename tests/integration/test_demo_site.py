"""The embedded demo inventory through the site playbook, as `make demo` runs it."""

from __future__ import annotations

import json

import yaml
from helpers import ROOT, run_playbook

DEMO = ROOT / "inventories" / "demo"
VAULT_ARGS = ["--vault-password-file", str(DEMO / "vault-password.txt")]


def demo_secrets():
    from ansible.parsing.vault import VaultLib, VaultSecret

    vault = VaultLib([("default", VaultSecret((DEMO / "vault-password.txt").read_bytes().strip()))])
    data = yaml.safe_load(vault.decrypt((DEMO / "group_vars" / "autoprov_pbx" / "vault.yml").read_bytes()))
    return [data["vault_demo_admin_password"]] + list(data["vault_demo_sip_secrets"].values())


def test_demo_site_renders_every_device_and_is_idempotent(tmp_path):
    extra = {"autoprov_demo_dir": str(tmp_path / "demo-out")}
    first = run_playbook(tmp_path, "pbxops.autoprov.site", inventory=str(DEMO), extra_vars=extra, args=VAULT_ARGS + ["--diff"])
    assert first.rc == 0, first.output[-3000:]
    configs = tmp_path / "demo-out" / "configs"
    manifest = json.loads((configs / ".autoprov-manifest.json").read_text())
    group_vars = yaml.safe_load((DEMO / "group_vars" / "autoprov_pbx" / "main.yml").read_text())
    inventory_macs = {d["mac"].replace(":", "").lower() for d in group_vars["autoprov_devices"]}
    assert set(manifest["devices"]) == inventory_macs
    for device in manifest["devices"].values():
        assert device["files"] and all((configs / name).is_file() for name in device["files"])
    # Vaulted secrets reach the files, never the output (the diff included).
    secrets = demo_secrets()
    rendered = "".join(p.read_text() for p in configs.iterdir() if p.is_file())
    assert any(s in rendered for s in secrets)
    for secret in secrets:
        assert secret not in first.output

    second = run_playbook(tmp_path, "pbxops.autoprov.site", inventory=str(DEMO), extra_vars=extra, args=VAULT_ARGS)
    assert second.rc == 0, second.output[-3000:]
    assert second.changed_tasks() == []
