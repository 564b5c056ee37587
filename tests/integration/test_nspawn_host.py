"""The systemd test host itself: it boots, runs systemd, and Ansible reaches it over SSH."""

from __future__ import annotations

from helpers import run_playbook


def test_container_runs_systemd_and_answers_ansible(nspawn_host, tmp_path):
    state = nspawn_host.ssh("systemctl is-system-running --wait || true").stdout.strip()
    assert state in ("running", "degraded"), state
    run = run_playbook(
        tmp_path,
        [{"name": "ping", "hosts": "pbx", "gather_facts": True, "tasks": [{"name": "ping", "ansible.builtin.ping": {}}]}],
        inventory=nspawn_host.inventory(),
    )
    assert run.rc == 0, run.output
    facts = run.task("Gathering Facts")["result"]["ansible_facts"]
    assert facts["ansible_service_mgr"] == "systemd"
    assert nspawn_host.address in facts["ansible_all_ipv4_addresses"]
