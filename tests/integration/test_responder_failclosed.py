"""Issue 14's attacks on the config host and PnP, each against the real responder in namespaces
(docs/responder.md, "Security model"): no secret without proof, bounded guessing, less to steal.

Addresses: 10.99.32.0/24 as in test_responder_http (its Site), extra attacker addresses 10.99.32.10-19.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time

import pytest
from helpers import wait_for
from responder_support import VENDORS, user_agent, write_root
from test_responder_http import (
    BASE,
    GRANDSTREAM,
    GS_PASSWORD,
    PASSWORD,
    PHONE,
    PHONE2,
    SERVER,
    SIP_SECRET,
    TOKEN,
    YEALINK,
    Site,
)

from autoprov_responder.auth import device_password

DEVICE_KEY = "device-key-from-vault-0123456789"
SECRET_URL, UA = BASE + YEALINK + ".cfg", user_agent("yealink", YEALINK)
DEFAULT_LOCKOUT = None  # the responder's defaults: 5 wrong credentials per source, 20 per device, in 300 s


@pytest.fixture
def site(netns, tmp_path):
    s = Site(netns, tmp_path)
    yield s
    if s.responder:
        s.responder.stop()
        log = s.responder.log()
        for secret in (PASSWORD, GS_PASSWORD, SIP_SECRET, DEVICE_KEY, device_password(DEVICE_KEY, YEALINK)):
            assert secret not in log, "a secret reached the responder's log"


def add_addresses(site, count=0):
    """PHONE2 and `count` more addresses on the phone's interface (the attacker's, or other phones')."""
    addresses = [PHONE2] + ["10.99.32.%d" % (10 + i) for i in range(count)]
    for address in addresses:
        site.netns.run(site.phone, ["ip", "addr", "add", address + "/24", "dev", site.phone_if])
    return addresses[1:]


def reasons(site, expect):
    return [r["reason"] for r in site.fetches(expect=expect)]


# --- 1. fail closed ------------------------------------------------------------------------------


def test_without_a_valid_manifest_nothing_is_served(site):
    """Missing (an interrupted first run) or broken manifest: every file is refused, secret or not."""
    site.start()
    manifest = site.root / ".autoprov-manifest.json"
    good = manifest.read_bytes()
    assert site.curl(SECRET_URL, "-A", UA, "-u", "prov:" + PASSWORD)[0] == 200
    for broken in (None, b"{broken"):
        if broken is None:
            manifest.unlink()
        else:
            manifest.write_bytes(broken)
        wait_for(lambda: site.curl(BASE + YEALINK + ".boot")[0] == 503, timeout=10, what="the responder noticing")
        status, headers, body = site.curl(SECRET_URL, "-A", UA, "-u", "prov:" + PASSWORD)
        assert status == 503 and SIP_SECRET.encode() not in body and headers["retry-after"] == ["10"]
        assert site.curl(BASE + "firmware/big.bin")[0] == 503  # public_dirs come from the manifest too
        for i in range(20):  # misses while nothing can be served do not lock anyone out
            site.curl(BASE + "0015650000%02d.cfg" % i)
    manifest.write_bytes(good)
    wait_for(lambda: site.curl(BASE + YEALINK + ".boot")[0] == 200, timeout=10, what="serving again")
    assert site.curl(SECRET_URL, "-A", UA, "-u", "prov:" + PASSWORD)[2].count(SIP_SECRET.encode()) == 1
    assert "no_manifest" in reasons(site, lambda rows: any(r["reason"] == "no_manifest" for r in rows))


def test_a_file_rewritten_before_its_manifest_is_refused(site):
    """device_configs writes files before the manifest: in between, the content is not the manifest's."""
    site.start()
    tmp = site.root / ".rewrite"
    tmp.write_text("account.1.password = new-%s\n" % SIP_SECRET)
    os.replace(tmp, site.root / (YEALINK + ".cfg"))
    status, _unused, body = site.curl(SECRET_URL, "-A", UA, "-u", "prov:" + PASSWORD)
    assert status == 503 and SIP_SECRET.encode() not in body
    assert "updating" in reasons(site, lambda rows: rows)


# --- 2. guessing is bounded ----------------------------------------------------------------------


def test_guessing_passwords_locks_the_source_out(site):
    site.start(lockout=DEFAULT_LOCKOUT)
    add_addresses(site)
    statuses = [site.curl(SECRET_URL, "-A", UA, "-u", "prov:guess%d" % i)[0] for i in range(6)]
    assert statuses == [401, 401, 401, 401, 403, 403]  # 4 guesses answered, the 5th locks the source out
    assert site.curl(SECRET_URL, "-A", UA, "-u", "prov:" + PASSWORD)[0] == 403  # then not even the right one
    assert site.curl(BASE + YEALINK + ".boot")[0] == 403  # nor anything else
    # Digest the same way, from another address: each wrong answer counts (a challenge alone does not)
    digest = [site.curl(SECRET_URL, "--interface", PHONE2, "-A", UA, "--digest", "-u", "prov:g%d" % i)[0] for i in range(6)]
    assert digest == [401, 401, 401, 401, 403, 403]
    log = site.responder.log()
    assert log.count("cause=auth_failures") == 2 and "seconds=900" in log


def test_guessing_one_device_from_many_addresses_locks_that_device(site):
    """20 wrong passwords for one device's file within 300 s, 4 per address: its files are closed to new addresses."""
    site.start(lockout=DEFAULT_LOCKOUT)
    addresses = add_addresses(site, 6)
    for address in addresses[:5]:
        for i in range(4):
            assert site.curl(SECRET_URL, "--interface", address, "-A", UA, "-u", "prov:x%d" % i)[0] == 401
    assert site.curl(SECRET_URL, "--interface", addresses[5], "-A", UA, "-u", "prov:" + PASSWORD)[0] == 403
    gs_ua = user_agent("grandstream", GRANDSTREAM)  # another device is not affected
    assert site.curl(BASE + "cfg%s.xml" % GRANDSTREAM, "--interface", addresses[5], "-A", gs_ua, "-u", "gs:" + GS_PASSWORD)[0] == 200
    assert "device_locked" in reasons(site, lambda rows: any(r["reason"] == "device_locked" for r in rows))


def test_basic_can_be_refused_over_plain_http(site):
    auth = {"username": "prov", "password": PASSWORD, "basic_over_http": False}
    site.start(auth=auth)
    status, headers, _unused = site.curl(SECRET_URL, "-A", UA)
    assert status == 401 and [c.split()[0] for c in headers["www-authenticate"]] == ["Digest", "Digest"]
    status, _unused, body = site.curl(SECRET_URL, "-A", UA, "--basic", "-u", "prov:" + PASSWORD)
    assert status == 401 and SIP_SECRET.encode() not in body  # the right password, but in the clear
    assert site.curl(SECRET_URL, "-A", UA, "--digest", "-u", "prov:" + PASSWORD)[0] == 200
    assert "basic_refused" in reasons(site, lambda rows: any(r["reason"] == "basic_refused" for r in rows))


# --- 3. less to steal ----------------------------------------------------------------------------


def test_a_device_is_bound_to_the_first_address_that_fetches_it(site):
    """Credentials plus a User-Agent that carries the file's MAC are not enough from another address."""
    site.start()
    add_addresses(site)
    assert site.curl(SECRET_URL, "-A", UA, "-u", "prov:" + PASSWORD)[0] == 200
    status, _unused, body = site.curl(SECRET_URL, "--interface", PHONE2, "-A", UA, "-u", "prov:" + PASSWORD)
    assert status == 403 and SIP_SECRET.encode() not in body
    assert site.curl(SECRET_URL, "-A", UA, "--digest", "-u", "prov:" + PASSWORD)[0] == 200  # the phone itself still can
    site.responder.stop()
    site.start()  # the binding survives a restart
    assert site.curl(SECRET_URL, "--interface", PHONE2, "-A", UA, "-u", "prov:" + PASSWORD)[0] == 403
    assert "bound_elsewhere" in reasons(site, lambda rows: any(r["reason"] == "bound_elsewhere" for r in rows))


def test_the_provisioning_window_closes_and_device_configs_reopens_it(site):
    write_root(site.root, site.devices, window=time.time() - 3600)  # devices added an hour ago, never fetched
    site.start(provisioning_window=600)
    status, _unused, body = site.curl(SECRET_URL, "-A", UA, "-u", "prov:" + PASSWORD)
    assert status == 403 and SIP_SECRET.encode() not in body
    write_root(site.root, site.devices)  # a run that changes the device opens its window again
    wait_for(lambda: site.curl(SECRET_URL, "-A", UA, "-u", "prov:" + PASSWORD)[0] == 200, timeout=10, what="window reopened")
    assert "window_closed" in reasons(site, lambda rows: any(r["reason"] == "window_closed" for r in rows))


def pnp(site, macs, source=PHONE, listen=2.0, answer=True):
    return site.client("r.pnp_exchange(%r, %r, %r, listen=%r, answer_notify=%r)" % (SERVER, source, macs, listen, answer))


def test_pnp_notify_carries_the_devices_own_credentials(site):
    auth = {"username": "prov", "password": PASSWORD, "device_key": DEVICE_KEY}
    site.start(auth=auth, url="http://%s:8080%s" % (SERVER, TOKEN))
    add_addresses(site)
    got = pnp(site, [YEALINK])
    own = device_password(DEVICE_KEY, YEALINK)
    assert got["urls"] == ["http://%s:%s@%s:8080%s" % (YEALINK, own, SERVER, TOKEN)]
    assert PASSWORD not in json.dumps(got)  # the PBX-wide pair never goes out in a NOTIFY
    assert site.curl(SECRET_URL, "-A", UA, "-u", "%s:%s" % (YEALINK, own))[0] == 200
    # that pair opens this device's files only
    gs_url, gs_ua = BASE + "cfg%s.xml" % GRANDSTREAM, user_agent("grandstream", GRANDSTREAM)
    assert site.curl(gs_url, "-A", gs_ua, "-u", "%s:%s" % (YEALINK, own))[0] == 401
    # once bound, a SUBSCRIBE for this MAC from another address is not answered at all
    assert pnp(site, [YEALINK], source=PHONE2, listen=1.5)["replies"] == []


def test_probing_unknown_macs_gets_the_source_ignored(site):
    site.start()
    add_addresses(site)
    unknown = ["0015650000%02x" % i for i in range(12)]
    assert pnp(site, unknown, listen=0.5)["replies"] == []  # unknown MACs are never answered
    assert pnp(site, [YEALINK], listen=1.5)["replies"] == []  # and after 10 of them, nothing is: no oracle
    assert pnp(site, [YEALINK], source=PHONE2, listen=2.0)["urls"]  # another source is not affected
    rows = site.responder.rows("SELECT * FROM pnp_events", expect=lambda rows: len(rows) >= 11)
    assert len(rows) <= 13  # 10 unknown, one refusal noted, the answered one: not every probe


def test_forging_a_bound_phones_address_cannot_silence_its_pnp(site):
    """Whoever forges a phone's address can use up that address's PnP budget and trigger the probe block; the
    device bound to that address keeps its own budget there and is still answered (only ever to that address)."""
    site.start()
    add_addresses(site)
    assert site.curl(SECRET_URL, "-A", UA, "-u", "prov:" + PASSWORD)[0] == 200  # YEALINK is bound to PHONE now
    # (pnp_exchange numbers its transactions per call: the n-th SUBSCRIBE for a MAC is the same transaction in
    # every call, so each call below asks at a position not asked before, or it would be a retransmission.)
    used_up = pnp(site, [GRANDSTREAM] * 6, listen=2.0)
    assert len(used_up["urls"]) == 5  # 5 NOTIFYs per destination and window: that address's budget is used up
    assert pnp(site, [YEALINK], listen=2.0)["urls"]  # the device bound there has a budget of its own
    assert pnp(site, ["0015650000%02x" % i for i in range(12)], listen=0.5)["replies"] == []  # the probe block
    assert pnp(site, ["0015650000ff"] * 6 + [GRANDSTREAM], listen=1.0)["replies"] == []  # an unbound MAC: no oracle
    assert pnp(site, ["0015650000fe", YEALINK], listen=2.0)["urls"]  # the bound device: still answered


def test_a_spoofed_subscribe_reflects_at_most_3x(site):
    """The victim never answers: we send the 200 and the NOTIFY, retransmissions only within 3x the bytes received."""
    site.start()
    got = pnp(site, [YEALINK], listen=8.0, answer=False)
    ratio = got["received"] / got["sent"]
    print("reflection: %d bytes in, %d out, %.2fx (%s)" % (got["sent"], got["received"], ratio, got["replies"]))
    assert got["replies"][0].startswith("SIP/2.0 200") and ratio <= 3.0


# --- crash consistency ---------------------------------------------------------------------------

_APPLY = """
import json, sys
from ansible_collections.pbxops.autoprov.plugins.module_utils._files import sync
job = json.load(open(sys.argv[1]))
plan = sync.plan(job["dest"], job["wanted"], job["manifest"], True, 0o640, None, None, False)
sync.apply(job["dest"], {n: job["contents"][n] for n in plan["write"]}, plan["fix_attrs"], plan["remove"], plan["foreign"],
           job["manifest"], 0o640, None, None)
"""


def _fleet(count, generation, changed):
    """count Yealink devices; the first `changed` carry this generation's secrets. Returns (contents, manifest)."""
    import hashlib

    contents, files, devices = {}, {}, {}
    for i in range(count):
        mac = "00156501%04x" % i
        name = mac + ".cfg"
        contents[name] = "account.1.password = LEAK-%s-%d\n" % (mac, generation if i < changed else 0)
        sha = hashlib.sha256(contents[name].encode()).hexdigest()
        files[name] = {"sha256": sha, "mac": mac, "vendor": "yealink", "secret": True}
        devices[mac] = {"vendor": "yealink", "model": "T46S", "files": [name], "extensions": ["1%03d" % i]}
    contents["y000000000066.cfg"] = "#!version:1.0.0.1\n"
    files["y000000000066.cfg"] = {
        "sha256": hashlib.sha256(contents["y000000000066.cfg"].encode()).hexdigest(),
        "mac": None,
        "vendor": "yealink",
        "secret": False,
    }
    manifest = {"format": 2, "generator": "tests", "public_dirs": ["firmware"], "files": files, "devices": devices, "vendors": VENDORS}
    return contents, manifest


def _run_apply(tmp_path, root, contents, manifest, kill_after=None):
    job = tmp_path / "job.json"
    job.write_text(
        json.dumps(
            {
                "dest": str(root),
                "wanted": {n: f["sha256"] for n, f in manifest["files"].items()},
                "contents": contents,
                "manifest": manifest,
            }
        )
    )
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    proc = subprocess.Popen([sys.executable, "-c", _APPLY, str(job)], env=env)
    if kill_after is None:
        assert proc.wait(timeout=120) == 0
        return 0
    time.sleep(kill_after)
    proc.send_signal(signal.SIGKILL)
    return proc.wait(timeout=30)


def test_device_configs_killed_at_any_point_never_exposes_a_secret(site, tmp_path):
    """kill -9 during runs that add and change devices; after each, every file in the root is asked for
    without credentials but with its own MAC in the User-Agent: no answer may carry a secret."""
    root = tmp_path / "fleet"
    site.root = root
    base, step, rounds = 200, 100, 10
    contents, manifest = _fleet(base, 1, base)
    started = time.monotonic()
    _run_apply(tmp_path, root, contents, manifest)
    full = time.monotonic() - started
    site.start(lockout={"misses": 10**6, "auth_failures": 10**6, "device_failures": 10**6, "window": 60, "duration": 30})
    rng = random.Random(14)
    killed = 0
    for generation in range(2, rounds + 2):
        count = base + step * (generation - 1)
        contents, manifest = _fleet(count, generation, changed=count // 3)
        code = _run_apply(tmp_path, root, contents, manifest, kill_after=rng.uniform(0.05, 1.0) * full)
        killed += code == -signal.SIGKILL
        names = sorted(n for n in os.listdir(root) if not n.startswith("."))
        headers = {TOKEN + n: {"User-Agent": user_agent("yealink", n[:12])} for n in names}
        scan = tmp_path / "scan.json"
        scan.write_text(json.dumps([sorted(headers), "LEAK-", headers]))
        leaked, counts = site.client("r.http_scan(%r, 8080, *json.load(open(%r)))" % (SERVER, str(scan)))
        assert leaked == {}, "generation %d: secrets served without credentials: %s" % (generation, leaked)
        assert sum(counts.values()) == len(names) and set(counts) <= {"200", "401", "404", "503"}, counts
    print("crash consistency: %d runs, %d killed mid-run, no secret served" % (rounds, killed))
    assert killed >= rounds // 2
