"""pbxops.autoprov.fleet_check: the whole inventory's duplicate MACs, without connecting to any PBX.

The PBXes here have addresses nothing answers on (192.0.2.0/24, SSH): a run that
tried to reach one would end unreachable, so the outcome shows the check ran on
the controller alone.
"""

from __future__ import annotations

from helpers import run_playbook

TASK = "Find MACs that more than one PBX claims"


def pbx(number, macs):
    return {
        "ansible_host": "192.0.2.%d" % number,
        "ansible_connection": "ssh",
        "ansible_ssh_common_args": "-o ConnectTimeout=2",
        "autoprov_devices": [{"mac": mac, "model": "T46S", "lines": []} for mac in macs],
    }


def inventory(**hosts):
    return {"autoprov_pbx": {"hosts": hosts}}


def test_duplicates_across_the_fleet_fail_naming_both_pbxes(tmp_path):
    run = run_playbook(
        tmp_path,
        "pbxops.autoprov.fleet_check",
        inventory=inventory(
            pbx_a=pbx(1, ["00:15:65:00:00:01", "00:15:65:00:00:02"]),
            pbx_b=pbx(2, ["00-15-65-00-00-02"]),
            pbx_c=pbx(3, ["00:15:65:00:00:03"]),
        ),
    )
    assert run.rc == 2, run.output
    result = run.task(TASK)
    assert result["status"] == "failed"
    assert result["result"]["msg"] == (
        "pbx_a: device 00:15:65:00:00:02 (autoprov_devices[1]): mac: duplicate: also a device of PBX pbx_b; "
        "a MAC may belong to one PBX only; "
        "pbx_b: device 00-15-65-00-00-02 (autoprov_devices[0]): mac: duplicate: also a device of PBX pbx_a; "
        "a MAC may belong to one PBX only"
    )
    assert "UNREACHABLE" not in run.output


def test_a_clean_fleet_passes_once_for_all(tmp_path):
    run = run_playbook(
        tmp_path,
        "pbxops.autoprov.fleet_check",
        inventory=inventory(pbx_a=pbx(1, ["00:15:65:00:00:01"]), pbx_b=pbx(2, ["00:15:65:00:00:02"]), pbx_c=pbx(3, [])),
    )
    assert run.rc == 0, run.output
    assert [r["result"]["msg"] for r in run.results if r["task"] == TASK] == ["3 PBX(es) of the whole inventory: no MAC is claimed twice"]


def test_under_limit_the_whole_inventory_is_checked(tmp_path):
    fleet = inventory(
        pbx_a=pbx(1, ["00:15:65:00:00:01"]),
        pbx_b=pbx(2, ["00:15:65:00:00:02"]),
        pbx_c=pbx(3, ["00:15:65:00:00:02"]),
    )
    limited = run_playbook(tmp_path, "pbxops.autoprov.fleet_check", inventory=fleet, args=["--limit", "pbx_a"])
    assert limited.rc == 2, limited.output
    msg = limited.task(TASK)["result"]["msg"]
    assert "device 00:15:65:00:00:02 (autoprov_devices[0]): mac: duplicate: also a device of PBX pbx_c" in msg
    fleet["autoprov_pbx"]["hosts"]["pbx_c"] = pbx(3, ["00:15:65:00:00:03"])
    clean = run_playbook(tmp_path, "pbxops.autoprov.fleet_check", inventory=fleet, args=["--limit", "pbx_a"])
    assert clean.rc == 0, clean.output
    assert clean.task(TASK)["result"]["msg"] == (
        "3 PBX(es) of the whole inventory (this run is limited to 1 of them; the check is not): no MAC is claimed twice"
    )
