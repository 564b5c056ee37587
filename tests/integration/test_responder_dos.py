"""Denial of service, amplification, bounded storage and safe display, against the real responder (issue 14).

One PBX namespace (10.99.80.1) and one LAN namespace whose interface carries many addresses
(10.99.81.2-.61, /16), so each client can speak from its own source address. The attack clients
are tests/integration/dos_clients.py, run in the LAN namespace. Figures (latency, RSS, bytes) are
printed (pytest -s shows them) and bounded generously: the bounds tell the fixed behaviour from
the old one (an order of magnitude apart), not a benchmark.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
import unicodedata
from pathlib import Path

import pytest
import yaml
from helpers import run_playbook, wait_for
from responder_support import RESPONDER_PATH, ResponderProcess, write_root

SERVER = "10.99.80.1"
TOKEN = "/p/Zt4dos/"
YEALINK = "001565aabb01"
CLIENTS = Path(__file__).resolve().parent / "dos_clients.py"
SOURCES = 60
BIG = bytes(range(256)) * (3 << 12)  # 3 MiB: streamed (beyond the 1 MiB memory cache)
MEDIUM = os.urandom(900 << 10)  # 900 KiB: kept in memory, still far larger than a socket buffer
TEXT = b"".join(b"line %06d of a big text file\r\n" % n if n % 2 else b"line %06d\n" % n for n in range(200000))  # 3.6 MB


def source(n):
    return "10.99.81.%d" % (n + 2)


def netascii(data):
    return data.replace(b"\r", b"\r\0").replace(b"\n", b"\r\n")


class Responder(ResponderProcess):
    """ResponderProcess with a command prefix (prlimit, a read-only mount) and its process facts."""

    def start(self, *flags, prefix=(), wait_for_ready=True):
        env = dict(os.environ, PYTHONPATH=str(RESPONDER_PATH), PYTHONDONTWRITEBYTECODE="1")
        self._stderr = open(self.stderr_path, "wb")
        cmd = [*prefix, self.python, "-m", "autoprov_responder", "--config", self.config_path, *flags]
        self.proc = self.netns.popen(self.ns, cmd, stdout=subprocess.DEVNULL, stderr=self._stderr, env=env)
        if wait_for_ready:
            wait_for(lambda: " started " in self.log() or self.proc.poll() is not None, timeout=15, what="responder start")
            assert self.proc.poll() is None, "responder exited:\n" + self.log()
        return self

    def rss_mb(self):
        status = Path("/proc/%d/status" % self.proc.pid).read_text()
        return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:"))) / 1024.0

    def cpu_seconds(self):
        fields = Path("/proc/%d/stat" % self.proc.pid).read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def log_bytes(self):
        return self.stderr_path.stat().st_size


class Lab:
    def __init__(self, netns, tmp_path):
        self.netns, self.tmp = netns, tmp_path
        self.srv = netns.add("pbx")
        self.lan = netns.add("lan")
        _unused, self.lan_if = netns.wire(self.srv, SERVER + "/16", self.lan, source(0) + "/16")
        batch = "".join("addr add %s/16 dev %s\n" % (source(n), self.lan_if) for n in range(1, SOURCES))
        subprocess.run(["ip", "-n", self.lan, "-batch", "-"], input=batch, text=True, check=True)
        self.root = tmp_path / "root"
        write_root(
            self.root,
            {
                YEALINK: {
                    "vendor": "yealink",
                    "model": "T46S",
                    "files": {
                        YEALINK + ".cfg": ("account.1.password = dos-secret\n", True),
                        YEALINK + ".boot": ("#!version:1.0.0.1\n", False),
                    },
                }
            },
            shared={
                "y000000000066.cfg": ("#!version:1.0.0.1\n", "yealink"),
                "T46S-firmware.rom": (BIG, "yealink"),
                "T46S-lang.xml": (MEDIUM, "yealink"),
                "T46S-notes.txt": (TEXT, "yealink"),
            },
        )
        self.responder = None

    def start(self, prefix=(), **settings):
        config = {
            "root": str(self.root),
            "url": "http://%s:8080%s" % (SERVER, TOKEN),
            "sip_listen": ["%s:5060" % SERVER],
            "http_listen": ["%s:8080" % SERVER],
        }
        config.update(settings)
        self.responder = Responder(self.netns, self.srv, self.tmp / "run", config, python=sys.executable)
        return self.responder.start(prefix=prefix)

    def client(self, name, **args):
        """Run one client to its end; its last JSON line."""
        out = self.netns.run(self.lan, [sys.executable, CLIENTS, name, json.dumps(args)], timeout=120)
        return json.loads(out.stdout.strip().splitlines()[-1])

    def background(self, name, **args):
        """Start a holding client; returns (process, its "ready" line). Close its stdin to end it."""
        proc = self.netns.popen(self.lan, [sys.executable, CLIENTS, name, json.dumps(args)], stdin=subprocess.PIPE, text=True)
        ready = json.loads(proc.stdout.readline())
        return proc, ready

    @staticmethod
    def finish(proc):
        if not proc.stdin.closed:
            proc.stdin.close()
        out = proc.stdout.read()
        proc.wait(timeout=60)
        return json.loads(out.strip().splitlines()[-1])

    def get(self, path, n=1, user_agent=None):
        return self.client("get", server=SERVER, port=8080, path=TOKEN + path, source=source(n), user_agent=user_agent)


@pytest.fixture
def lab(netns, tmp_path):
    lab = Lab(netns, tmp_path)
    yield lab
    if lab.responder:
        lab.responder.stop()
        assert "dos-secret" not in lab.responder.log()


def _figure(name, value):
    sys.stderr.write("\nFIGURE %s: %s\n" % (name, value))


# --- one source cannot take the config host ---------------------------------------------------
def test_idle_connections_from_one_address_leave_room_for_every_other(lab):
    lab.start()
    seen = lab.client(
        "idle_flood",
        server=SERVER,
        port=8080,
        flood_source=source(1),
        count=2000,
        other_source=source(2),
        path=TOKEN + "y000000000066.cfg",
        probes=20,
    )
    _figure("another source's latency under 2,000 idle connections from one address", seen["latency_ms"])
    assert seen["statuses"] == [200] * 20, seen
    assert seen["flood_open"] <= 32, "one address kept %d connections" % seen["flood_open"]
    log = lab.responder.log()
    assert log.count("http_too_many_connections") <= 5, "refusals are logged in summary, not per connection"


def test_soft_nofile_1024_neither_spins_nor_floods_the_log(lab):
    # The unit's hard limit is what counts: 1024 both ways, the responder cannot raise it. One address
    # may use many connections here, so the cap itself meets the descriptor limit.
    responder = lab.start(prefix=("prlimit", "--nofile=1024:1024", "--"), http_limits={"per_source": 5000, "reserve": 16})
    assert "max_connections" in responder.log(), "the lowered cap is said once at start"
    log_before = responder.log_bytes()
    holder, ready = lab.background("hold_connections", server=SERVER, port=8080, sources=[source(n) for n in range(1, 6)], per_source=500)
    try:
        cpu_before = responder.cpu_seconds()
        time.sleep(4)
        cpu = responder.cpu_seconds() - cpu_before
        probe = lab.get("y000000000066.cfg", n=20)
    finally:
        holder.stdin.close()
        held = lab.finish(holder)
    logged = responder.log_bytes() - log_before
    _figure("soft+hard nofile 1024, 2,500 connections: CPU over 4 s, log bytes, kept open", (round(cpu, 2), logged, held))
    assert cpu < 1.0, "the responder spun: %.2f s of CPU in 4 s" % cpu
    assert logged < 64 << 10, "%d bytes of log in 4 s" % logged
    assert probe["status"] == 200, probe
    assert "Too many open files" not in responder.log() or responder.log().count("Too many open files") <= 3


def test_slow_readers_of_large_files_keep_memory_bounded(lab):
    responder = lab.start()
    assert lab.get("T46S-firmware.rom")["status"] == 200 and lab.get("T46S-lang.xml")["status"] == 200
    before = responder.rss_mb()
    request = "GET %sT46S-firmware.rom HTTP/1.1\r\nHost: x\r\n\r\n" % TOKEN
    big, _ready = lab.background(
        "hold_connections", server=SERVER, port=8080, sources=[source(n) for n in range(1, 21)], per_source=30, request=request, rcvbuf=4096
    )
    request = "GET %sT46S-lang.xml HTTP/1.1\r\nHost: x\r\n\r\n" % TOKEN
    medium, ready = lab.background(
        "hold_connections",
        server=SERVER,
        port=8080,
        sources=[source(n) for n in range(21, 31)],
        per_source=30,
        request=request,
        rcvbuf=4096,
    )
    try:
        time.sleep(3)
        after = responder.rss_mb()
        probe = lab.get("y000000000066.cfg", n=40)
    finally:
        for proc in (big, medium):
            proc.stdin.close()
            lab.finish(proc)
    _figure("RSS with 600 stalled readers of a 3 MiB file + 300 of a 900 KiB one (MB)", (round(before, 1), round(after, 1)))
    assert ready["connected"] == 300
    assert after - before < 64, "RSS grew by %.0f MB" % (after - before)
    assert probe["status"] == 200


def test_a_file_rewritten_in_place_mid_stream_is_never_served_mixed(lab):
    lab.start()
    path = lab.root / "T46S-firmware.rom"
    for keep_mtime in (False, True):
        proc, _ready = lab.background("slow_download", server=SERVER, port=8080, path=TOKEN + "T46S-firmware.rom", first=256 << 10)
        st = os.stat(path)
        with open(path, "r+b") as handle:  # in place: same inode, same size, other bytes
            handle.write(b"\xff" * (1 << 20))
        if keep_mtime:  # a writer that restores the time stamp: only the content tells
            os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
        proc.stdin.close()
        got = lab.finish(proc)
        assert got["status"] == 200
        complete = got["received"] == got["length"]
        assert not complete or '"%s"' % got["body_hex_sha256"][:32] == got["etag"], "a mixed body went out whole as 200: %s" % got
        # Until the manifest vouches for the new content, the file is "updating": 503, try again.
        data = b"\xff" * (1 << 20) + BIG[1 << 20 :]
        assert lab.get("T46S-firmware.rom")["status"] == 503
        # Once it does (device_configs writes the file, then the manifest), the new content goes out
        # under its own ETag, in full.
        _vouch_for(lab.root, "T46S-firmware.rom", data)
        wait_for(lambda: lab.get("T46S-firmware.rom")["status"] == 200, what="the manifest reloaded (checked once a second)")
        fresh = lab.client("slow_download", server=SERVER, port=8080, path=TOKEN + "T46S-firmware.rom", first=0)
        assert fresh["received"] == len(data) and fresh["etag"] == '"%s"' % hashlib.sha256(data).hexdigest()[:32], fresh
        path.write_bytes(BIG)
        _vouch_for(lab.root, "T46S-firmware.rom", BIG)
        wait_for(lambda: lab.get("T46S-firmware.rom")["status"] == 200, what="the manifest reloaded")


def _vouch_for(root, name, data):
    """The manifest's entry for `name` set to `data`'s digest, the manifest replaced atomically as device_configs does."""
    manifest_path = root / ".autoprov-manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["files"][name]["sha256"] = hashlib.sha256(data).hexdigest()
    tmp = root / ".autoprov-manifest.json.tmp"
    tmp.write_text(json.dumps(manifest, indent=1))
    os.replace(tmp, manifest_path)


# --- TFTP -----------------------------------------------------------------------------------------
def test_netascii_transfers_are_streamed_not_loaded(lab):
    responder = lab.start(tftp_listen=["%s:69" % SERVER])
    name = TOKEN.lstrip("/") + "T46S-notes.txt"
    env = "import json, responder_support as r\nprint(json.dumps(r.tftp_get(%r, 69, %r, {'blksize': 1428, 'tsize': 0}, mode='netascii')))"
    out = lab.netns.run(
        lab.lan,
        [sys.executable, "-c", env % (SERVER, name)],
        env=dict(os.environ, PYTHONPATH="%s:%s" % (Path(__file__).resolve().parent.parent, RESPONDER_PATH)),
        timeout=120,
    )
    full = json.loads(out.stdout)
    expected = netascii(TEXT)
    assert (
        full["oack"]["tsize"] == str(len(expected))
        and hashlib.sha256(full["data"].encode("latin-1")).digest() == hashlib.sha256(expected).digest()
    )
    before = responder.rss_mb()
    holder, ready = lab.background(
        "tftp_hold",
        server=SERVER,
        filename=name,
        sources=[source(n) for n in range(1, 33)],
        per_source=4,
        mode="netascii",
        options={"blksize": 1428},
    )
    try:
        time.sleep(1)
        after = responder.rss_mb()
    finally:
        holder.stdin.close()
        lab.finish(holder)
    _figure("RSS with 128 netascii transfers of a 3.6 MB text file under way (MB)", (round(before, 1), round(after, 1), ready))
    assert ready["started"] >= 100, ready
    assert after - before < 48, "RSS grew by %.0f MB" % (after - before)


def test_a_small_rrq_draws_a_bounded_answer(lab):
    lab.start(tftp_listen=["%s:69" % SERVER])
    name = TOKEN.lstrip("/") + "T46S-firmware.rom"
    plain = lab.client("tftp_amplification", server=SERVER, filename=name, options={}, count=1, seconds=7, source=source(3))
    asked = lab.client(
        "tftp_amplification", server=SERVER, filename=name, options={"blksize": 1428, "tsize": 0}, count=1, seconds=7, source=source(4)
    )
    flood = lab.client("tftp_amplification", server=SERVER, filename=name, options={}, count=300, seconds=7, source=source(5))
    _figure("TFTP amplification (bytes received / RRQ bytes, no ACK): plain, with options, 300 RRQs", (plain, asked, flood))
    assert plain["factor"] <= 16, plain  # one 516-byte DATA for a 33-byte RRQ, never retransmitted to an unproven address
    assert asked["factor"] <= 2, asked  # one OACK
    assert flood["factor"] <= 1, flood  # per-address budget for answers to unproven addresses


def test_tftp_misses_lock_out_tftp_only_never_http(lab):
    """Ten spoofed RRQs for missing files in a victim's name must not lock the victim out of HTTP
    (UDP sources can be forged; TCP ones cannot). The control: ten HTTP misses do lock HTTP."""
    lab.start(tftp_listen=["%s:69" % SERVER])
    victim, control = source(7), source(8)
    misses = ["%snot-there-%d.cfg" % (TOKEN.lstrip("/"), n) for n in range(20)]
    got = lab.client("tftp_misses", server=SERVER, source=victim, names=misses)["errors"]
    assert got[:10] == [1] * 10, got  # File not found (RFC 1350 error 1) until the TFTP lockout
    assert 1 not in got[11:], got  # then that source gets nothing but refusals over TFTP
    assert lab.get("y000000000066.cfg", n=7)["status"] == 200
    for n in range(12):
        lab.client("get", server=SERVER, port=8080, path=TOKEN + "not-there-%d.cfg" % n, source=control)
    assert lab.get("y000000000066.cfg", n=8)["status"] != 200


def test_requests_while_the_root_is_gone_lock_nobody_out(lab):
    """A config root that is away (an NFS hiccup, a restore) makes every phone miss; those misses do
    not count, and nothing locked while it was gone stays locked once it is back."""
    lab.start()
    aside = lab.root.with_name("root-away")
    lab.root.rename(aside)
    try:
        # What a booting phone asks for, the names its model might use (misses count per distinct name).
        statuses = {lab.get("y000000000066-%d.cfg" % n, n=9)["status"] for n in range(15)}
    finally:
        aside.rename(lab.root)
    assert 200 not in statuses, statuses
    wait_for(lambda: lab.get("y000000000066.cfg", n=9)["status"] == 200, what="the root served again to the phone that missed")


# --- bounded storage, safe display -----------------------------------------------------------------
def _db_bytes(responder):
    db = Path(responder.settings["db"])
    with responder.db() as conn:
        pages = conn.execute("PRAGMA page_count").fetchone()[0] - conn.execute("PRAGMA freelist_count").fetchone()[0]
        size = pages * conn.execute("PRAGMA page_size").fetchone()[0]
    return size, db.stat().st_size + (Path(str(db) + "-wal").stat().st_size if Path(str(db) + "-wal").exists() else 0)


def test_thirty_thousand_unknown_macs_do_not_grow_the_database(lab):
    responder = lab.start()
    assert lab.get("y000000000066.cfg")["status"] == 200
    responder.rows("SELECT * FROM fetches", expect=lambda rows: len(rows) == 1)
    used_before, _unused = _db_bytes(responder)
    sent = lab.client("subscribe_flood", server=SERVER, sources=[source(n) for n in range(1, 5)], count=30000, prefix="0c383e", rate=5000)
    flood = lab.client(
        "ua_flood", server=SERVER, port=8080, path=TOKEN + "y000000000066.cfg", source=source(6), count=5000, prefix="001565"
    )
    assert flood["statuses"] == {"200": 5000}, flood
    time.sleep(1.5)
    responder.stop()
    used_after, file_bytes = _db_bytes(responder)
    with responder.db() as conn:
        pnp_rows = conn.execute("SELECT count(*) FROM pnp_events").fetchone()[0]
        fetch_rows = conn.execute("SELECT count(*) FROM fetches").fetchone()[0]
        macs = conn.execute("SELECT count(*) FROM devices_seen").fetchone()[0]
    per_request = (used_after - used_before) / 35000.0
    _figure(
        "DB after 30,000 unknown-MAC SUBSCRIBEs + 5,000 GETs with unknown UA MACs",
        dict(
            sent=sent, pnp_rows=pnp_rows, fetch_rows=fetch_rows, macs=macs, bytes_per_request=round(per_request, 2), file_bytes=file_bytes
        ),
    )
    assert macs <= 600, "%d MACs recorded" % macs
    assert pnp_rows + fetch_rows <= 2000
    assert per_request < 20, "%.1f bytes per request" % per_request


FORGED = "T46S\r00:15:65:ff:ff:ff  Yealink  FORGED\x0b\x1b[2J\x85\u2028x\u202e"


def test_control_characters_are_escaped_in_the_table_and_kept_exact_in_data(lab, tmp_path):
    from ansible_collections.pbxops.autoprov.plugins.filter.inventory import discovered_devices
    from ansible_collections.pbxops.autoprov.plugins.module_utils import _responder_state as state

    responder = lab.start()
    got = lab.client(
        "subscribe_one", server=SERVER, source=source(7), mac="0c383e000007", model=FORGED, user_agent="Fanvil\rX\x1b]0;pwn\x07"
    )
    assert got["got"] == [], "an unknown MAC is not answered"
    ua = "Yealink SIP-T46S 66.86.0.15\t\x85" + ":".join(YEALINK[i : i + 2] for i in range(0, 12, 2))
    lab.get(YEALINK + ".boot", n=8, user_agent=ua)
    responder.rows("SELECT * FROM pnp_events", expect=lambda rows: len(rows) == 1)
    store = state.Store(responder.settings["db"])
    try:
        devices, discovered = state.report([{"mac": YEALINK}], state.read_manifest(str(lab.root)), store)
    finally:
        store.close()
    assert [d["model"] for d in discovered] == [FORGED]  # data stays exact
    table = state.table("pbx", devices, discovered)
    # summary, blank, header, the device; blank, title, header, the discovered one: nothing more
    assert len(table.splitlines()) == 8, table
    for char in table:
        assert char == "\n" or unicodedata.category(char)[0] not in "CZ" or char == " ", "raw %r in the table" % char
    assert "\\r00:15:65:ff:ff:ff" in table
    snippet = yaml.safe_dump({"autoprov_devices": discovered_devices(discovered)}, allow_unicode=True)
    assert yaml.safe_load(snippet)["autoprov_devices"][0]["model"] == FORGED
    assert all(unicodedata.category(c) not in ("Cc", "Zl", "Zp") or c == "\n" for c in snippet)

    # The playbook a person runs: the table printed, the snippet written; neither has a forged line.
    inventory = {
        "autoprov_pbx": {
            "hosts": {
                "pbx1": {
                    "ansible_connection": "local",
                    "ansible_python_interpreter": sys.executable,
                    "autoprov_responder_config_dir": str(responder.workdir),
                    "autoprov_devices": [{"mac": YEALINK, "model": "T46S"}],
                }
            }
        }
    }
    run = run_playbook(
        tmp_path, Path(__file__).resolve().parents[2] / "playbooks" / "status.yml", inventory, {"autoprov_discovered_dir": str(tmp_path)}
    )
    assert run.rc == 0, run.output
    assert "FORGED" in run.stdout and "\r00:15:65:ff:ff:ff" not in run.stdout
    written = (tmp_path / "pbx1.yml").read_text()
    assert yaml.safe_load(written)["autoprov_devices"][0]["model"] == FORGED


@pytest.mark.parametrize("broken", ["read-only", "garbage"])
def test_an_unusable_database_degrades_to_serving_without_recording(lab, broken):
    run = lab.tmp / "run"
    run.mkdir()
    db = run / "status.sqlite"
    prefix = ()
    if broken == "garbage":
        db.write_bytes(b"this is not a database" * 100)
    else:
        prefix = ("unshare", "-m", "--propagation", "private", "sh", "-c", 'mount --bind -o ro "$0" "$0" && exec "$@"', str(run))
    responder = lab.start(prefix=prefix, db=str(db))
    got = lab.client("subscribe_one", server=SERVER, source=source(9), mac=YEALINK, model="T46S", user_agent="Yealink SIP-T46S 66.86.0.15")
    assert got["got"][:1] == ["SIP/2.0 200 OK"] and got["got"][-1].startswith("NOTIFY"), got
    assert lab.get("y000000000066.cfg", n=9)["status"] == 200
    time.sleep(1)
    log = responder.log()
    assert log.count(" store_unavailable ") == 1, log
    assert "store_write_failed" not in log
