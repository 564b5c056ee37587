"""TFTP (off by default): curl as the client, options, loss, and the secret-file policy.

Addresses: 10.99.34.0/24, only inside namespaces these tests create.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path

import pytest
from responder_support import RESPONDER_PATH, ResponderProcess, write_root

SERVER, PHONE = "10.99.34.1", "10.99.34.2"
TOKEN = "p/Zt4tok/"
YEALINK = "001565aabb01"
TESTS = Path(__file__).resolve().parent.parent
SHARED = bytes(range(256)) * 40 + b"tail"  # 10244 bytes: several blocks, not a multiple of any block size
FIRMWARE = os.urandom((3 << 19) + 7)  # 1.5 MiB: beyond the memory cache, read block by block


@pytest.fixture
def site(netns, tmp_path):
    srv, phone = netns.add("pbx"), netns.add("phone")
    srv_if, phone_if = netns.wire(srv, SERVER + "/24", phone, PHONE + "/24")
    root = tmp_path / "root"
    write_root(
        root,
        {YEALINK: {"vendor": "yealink", "model": "T46S", "files": {YEALINK + ".cfg": ("account.1.password = tftp-secret\n", True)}}},
        shared={"y000000000066.cfg": (SHARED, "yealink"), "lines.txt": ("one\ntwo\r\n", "yealink")},
        extra_files={"fw/T46S.rom": FIRMWARE},
        public_dirs=("fw",),
    )
    (tmp_path / "outside.txt").write_text("OUTSIDE\n")
    started = []

    def start(**settings):
        config = {
            "root": str(root),
            "url": "tftp://%s/%s" % (SERVER, TOKEN),
            "sip_listen": ["%s:5060" % SERVER],
            "http_listen": ["%s:8080" % SERVER],
            "tftp_listen": ["%s:69" % SERVER],
            "log_level": "debug",
        }
        config.update(settings)
        responder = ResponderProcess(netns, srv, tmp_path / ("run%d" % len(started)), config, python=sys.executable)
        started.append(responder.start())
        return responder

    def curl(name, *args):
        out = tmp_path / "out"
        out.unlink(missing_ok=True)
        proc = netns.run(phone, ["curl", "-sS", "--max-time", "60", "-o", out, *args, "tftp://%s/%s" % (SERVER, name)], check=False)
        return proc.returncode, out.read_bytes() if out.exists() else b"", proc.stderr

    def client(code):
        env = dict(os.environ, PYTHONPATH="%s:%s" % (TESTS, RESPONDER_PATH))
        out = netns.run(phone, [sys.executable, "-c", "import json, responder_support as r\nprint(json.dumps(%s))" % code], env=env)
        return json.loads(out.stdout)

    class Site:
        pass

    s = Site()
    s.netns, s.srv, s.phone, s.srv_if, s.phone_if = netns, srv, phone, srv_if, phone_if
    s.start, s.curl, s.client = start, curl, client
    yield s
    for responder in started:
        responder.stop()
        assert "tftp-secret" not in responder.log()


def test_tftp_fetch_with_options_and_policy(site):
    responder = site.start()
    rc, data, err = site.curl(TOKEN + "y000000000066.cfg", "--tftp-blksize", "1024")
    assert rc == 0 and data == SHARED, err
    # curl asks for blksize, timeout and tsize (RFC 2347-2349); all three are acknowledged
    assert 'asked="blksize=1024,timeout=5,tsize=0" oack="blksize=1024,timeout=5,tsize=%d"' % len(SHARED) in responder.log()
    rc, data, _unused = site.curl("/" + TOKEN + "y000000000066.cfg", "--tftp-no-options")  # leading slash, RFC 1350 only
    assert rc == 0 and data == SHARED
    rc, data, err = site.curl(TOKEN + "fw/T46S.rom", "--tftp-blksize", "8192")
    assert rc == 0 and data == FIRMWARE, err

    got = site.client("r.tftp_get(%r, 69, %r, {'blksize': 100, 'tsize': 0, 'timeout': 2})" % (SERVER, TOKEN + "y000000000066.cfg"))
    assert got["oack"] == {"blksize": "100", "tsize": str(len(SHARED)), "timeout": "2"} and got["data"].encode("latin-1") == SHARED
    got = site.client("r.tftp_get(%r, 69, %r, mode='netascii')" % (SERVER, TOKEN + "lines.txt"))
    assert got["data"] == "one\r\ntwo\r\0\r\n"  # RFC 764 line ends
    got = site.client("r.tftp_get(%r, 69, %r, {'blksize': 512}, duplicate_acks=True)" % (SERVER, TOKEN + "y000000000066.cfg"))
    assert got["data"].encode("latin-1") == SHARED and got["data_packets"] == len(SHARED) // 512 + 1  # no DATA answers a duplicate ACK

    # Refusals: a secret file (TFTP has no credentials), a missing file, traversal, the manifest, writes.
    assert site.client("r.tftp_get(%r, 69, %r)['error']" % (SERVER, TOKEN + YEALINK + ".cfg")) == [2, "access violation"]
    assert site.client("r.tftp_get(%r, 69, %r)['error']" % (SERVER, TOKEN + "nothere.cfg")) == [1, "file not found"]
    for name in (TOKEN + "../outside.txt", TOKEN + ".autoprov-manifest.json", TOKEN + "..\\outside.txt", "y000000000066.cfg"):
        error = site.client("r.tftp_get(%r, 69, %r)['error']" % (SERVER, name))
        assert error and error[0] in (1, 2), name
    write = site.client("__import__('socket').socket(2, 2).sendto(b'\\x00\\x02x\\x00octet\\x00', (%r, 69)) and None" % SERVER)
    assert write is None
    rows = responder.rows("SELECT * FROM fetches WHERE proto = 'tftp' ORDER BY id", expect=lambda rows: len(rows) >= 13)
    done = [r for r in rows if r["status"] == 200]
    assert len(done) == 6 and all(r["sha256"] for r in done)
    assert [r["bytes"] for r in done if r["path"] == "fw/T46S.rom"] == [len(FIRMWARE)]
    assert {r["reason"] for r in rows if r["status"] != 200} >= {"tftp_secret", "not_found", "bad_path", "method"}
    assert [r for r in done if r["file"] == "y000000000066.cfg"][0]["bytes"] == len(SHARED)


def test_tftp_secret_files_only_to_allowed_cidrs_and_through_loss(site):
    site.start(tftp_secret_allow=["%s/32" % PHONE])
    rc, data, err = site.curl(TOKEN + YEALINK + ".cfg")
    assert rc == 0 and b"tftp-secret" in data, err
    site.netns.add_loss(site.phone, site.phone_if, 20)  # one direction of the phone's wire
    # The responder sends its first answer to an address once (spoofed RRQs must not draw more); a lost OACK
    # is recovered by the client repeating its RRQ, as phones do. curl repeats it every 5 s, up to
    # connect-timeout / 5 times: 9 tries leave 0.2**9 of runs without an OACK (3 tries left 0.3**3 = 2.7 %,
    # and a CI run failed that way); each DATA block is retransmitted 5 times by the responder.
    rc, data, err = site.curl(TOKEN + "y000000000066.cfg", "--tftp-blksize", "1024", "--connect-timeout", "45")
    assert rc == 0 and hashlib.sha256(data).digest() == hashlib.sha256(SHARED).digest(), err
