"""The site playbook on a real systemd host whose service group does not exist yet (Debian bookworm in
systemd-nspawn, over SSH as root): the production layout, a responder user and group of its own.

The check of the devices compares them with the PBX before the responder role creates the group the
device files get (device_configs compare, sync.plan ids_pending); the real run then writes by that
plan, and the files carry the group. A rerun changes nothing and has no real run of the device files.
Its own user, group, service name, directories and ports, so that it does not meet the responder of
test_responder_role_systemd.py on the same container; removed at the end.
"""

from __future__ import annotations

from helpers import run_playbook

NAME = "autoprovsite"
SHIP = "pbxops.autoprov.provision : Render and ship the device configurations (prune removes the files of devices that left)"
ROOT = "/var/lib/%s/configs" % NAME


def site(host, tmp_path, **extra):
    pbx = {
        "autoprov_method": "pnp",
        "autoprov_sip_server": host.address,
        "autoprov_server_url": "http://%s:8090/" % host.address,
        "autoprov_url_token": "site-systemd-token",
        "autoprov_http_username": "phones",
        "autoprov_http_password": "Site-Http-Pa55",
        "autoprov_config_root": ROOT,
        "autoprov_responder_user": NAME,
        "autoprov_responder_group": NAME,
        "autoprov_responder_service_name": NAME,
        "autoprov_responder_install_dir": "/opt/%s" % NAME,
        "autoprov_responder_config_dir": "/etc/%s" % NAME,
        "autoprov_responder_state_dir": "/var/lib/%s/state" % NAME,
        "autoprov_responder_sip_listen": ["%s:5070" % host.address],
        "autoprov_responder_http_listen": ["0.0.0.0:8090"],
        "autoprov_devices": [
            {"mac": "02:00:00:5e:00:01", "vendor": "yealink", "model": "T46S", "lines": [{"extension": "101", "secret": "Site-S3cret-1"}]},
            {"mac": "02:00:00:5e:00:02", "vendor": "snom", "model": "D735", "lines": [{"extension": "102", "secret": "Site-S3cret-2"}]},
        ],
    }
    pbx.update(extra)
    inventory = host.inventory(name="pbxsite", **pbx)
    return run_playbook(tmp_path, "pbxops.autoprov.site", inventory=inventory, extra_vars={"autoprov_hosts": "pbxsite"})


def ships(run):
    return [r for r in run.results if r["task"] == SHIP]


def test_a_first_run_plans_before_the_group_exists_and_writes_by_that_plan(nspawn_host, tmp_path):
    host = nspawn_host
    assert host.ssh("getent group %s" % NAME, check=False).returncode != 0, "the group must not exist before the run"
    try:
        first = site(host, tmp_path / "first")
        assert first.rc == 0, first.output[-3000:]
        compare, ship = ships(first)
        assert compare["result"]["in_sync"] is False and compare["result"]["plan"]["dest_missing"] is True
        assert ship["result"]["reused_plan"] is True and ship["result"]["changed"] is True
        groups = host.ssh("stat -c %%G %s/*.cfg %s/.autoprov-manifest.json" % (ROOT, ROOT)).stdout.split()
        assert groups and set(groups) == {NAME}, groups
        assert host.ssh("systemctl is-active %s" % NAME).stdout.strip() == "active"

        rerun = site(host, tmp_path / "rerun")
        assert rerun.rc == 0, rerun.output[-3000:]
        assert rerun.changed_tasks() == []
        (compare,) = ships(rerun)
        assert compare["result"]["in_sync"] is True

        # A file's group changed behind our back: the compare sees it (the facts that decide the group are
        # gathered before it), and the real run puts the group back without rewriting the file.
        device_file = "%s/0200005e0001.cfg" % ROOT  # the Yealink's own file (its MAC, bare)
        host.ssh("chgrp root %s" % device_file)
        drift = site(host, tmp_path / "drift")
        assert drift.rc == 0, drift.output[-3000:]
        compare, ship = ships(drift)
        plan = compare["result"]["plan"]
        assert compare["result"]["in_sync"] is False and plan["fix_attrs"] == ["0200005e0001.cfg"] and plan["write"] == []
        assert ship["result"]["reused_plan"] is True and ship["result"]["changed"] is True
        assert host.ssh("stat -c %%G %s" % device_file).stdout.strip() == NAME
    finally:
        removed = site(host, tmp_path / "absent", autoprov_responder_state="absent")
        host.ssh("userdel %s; groupdel %s; rm -rf /var/lib/%s" % (NAME, NAME, NAME), check=False)
        assert removed.rc == 0, removed.output[-3000:]
