"""The config host against curl (and raw sockets for what curl will not send), inside namespaces.

Addresses: 10.99.32.0/24 (phones) and 10.99.33.0/24 (a network outside the allow-list).
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from pathlib import Path

import pytest
from responder_support import RESPONDER_PATH, ResponderProcess, user_agent, write_root

SERVER, PHONE, PHONE2, OUTSIDER_SERVER, OUTSIDER = "10.99.32.1", "10.99.32.2", "10.99.32.4", "10.99.33.1", "10.99.33.2"
TOKEN = "/p/Zt4tok/"
BASE = "http://%s:8080%s" % (SERVER, TOKEN)
PASSWORD, GS_PASSWORD, SIP_SECRET = "Pr0v-S3cret!", "GsPass-1", "sip-line-secret-4711"
YEALINK, GRANDSTREAM = "001565aabb01", "000b82aabb03"
UNLISTED = "001565aabb77.cfg"
TESTS = Path(__file__).resolve().parent.parent


class Site:
    def __init__(self, netns, tmp_path):
        self.netns, self.tmp = netns, tmp_path
        self.srv = netns.add("pbx")
        self.phone = netns.add("phone")
        self.outsider = netns.add("out")
        _unused, self.phone_if = netns.wire(self.srv, SERVER + "/24", self.phone, PHONE + "/24")
        netns.wire(self.srv, OUTSIDER_SERVER + "/24", self.outsider, OUTSIDER + "/24")
        netns.run(self.outsider, ["ip", "route", "add", "10.99.32.0/24", "via", OUTSIDER_SERVER])
        self.root = tmp_path / "root"
        (tmp_path / "outside.txt").write_text("OUTSIDE-THE-ROOT\n")
        self.devices = {
            YEALINK: {
                "vendor": "yealink",
                "model": "T46S",
                "files": {
                    YEALINK + ".cfg": ("#!version:1.0.0.1\naccount.1.password = %s\n" % SIP_SECRET, True),
                    YEALINK + ".boot": ("#!version:1.0.0.1\ninclude:config <y000000000066.cfg>\n", False),
                },
            },
            GRANDSTREAM: {"vendor": "grandstream", "model": "GXP2135", "files": {"cfg%s.xml" % GRANDSTREAM: ("<gs_provision/>\n", True)}},
        }
        write_root(
            self.root,
            self.devices,
            shared={"y000000000066.cfg": ("#!version:1.0.0.1\n", "yealink")},
            extra_files={
                "sub/dir/file.txt": b"nested\n",
                "firmware/big.bin": os.urandom(3 << 20),
                ".hidden": b"HIDDEN\n",
                UNLISTED: ("account.1.password = %s\n" % SIP_SECRET).encode(),  # a file the manifest does not (yet) list
            },
            public_dirs=("sub", "firmware"),
        )
        (self.root / "escape.cfg").symlink_to(tmp_path / "outside.txt")
        (self.root / "alias.cfg").symlink_to(self.root / (YEALINK + ".boot"))
        (self.root / "sub" / "manifest-link").symlink_to(self.root / ".autoprov-manifest.json")
        self.responder = None

    def start(self, **settings):
        config = {
            "root": str(self.root),
            "url": "http://prov:%s@%s:8080%s" % (PASSWORD, SERVER, TOKEN),
            "sip_listen": ["%s:5060" % SERVER],
            "http_listen": ["%s:8080" % SERVER],
            "auth": {"username": "prov", "password": PASSWORD, "per_device": {GRANDSTREAM: {"username": "gs", "password": GS_PASSWORD}}},
            "allow": ["10.99.32.0/24"],
            "lockout": {"misses": 1000, "auth_failures": 1000, "device_failures": 1000, "window": 60, "duration": 30},
        }
        config.update(settings)
        self.responder = ResponderProcess(self.netns, self.srv, self.tmp / "run", config, python=sys.executable)
        return self.responder.start()

    def curl(self, url, *args, ns=None):
        """(status, headers dict, body bytes) as curl saw them."""
        body, head = self.tmp / "body", self.tmp / "head"
        for f in (body, head):
            f.unlink(missing_ok=True)
        out = self.netns.run(
            ns or self.phone, ["curl", "-sS", "-o", body, "-D", head, "-w", "%{http_code}", "--max-time", "10", *args, url], check=False
        )
        headers = {}
        if head.exists():
            for line in head.read_text(errors="replace").splitlines()[1:]:
                name, _unused, value = line.partition(":")
                if value:
                    headers.setdefault(name.strip().lower(), []).append(value.strip())
        return int(out.stdout or 0), headers, body.read_bytes() if body.exists() else b""

    def client(self, code):
        """Run Python (with tests/ importable) in the phone namespace; returns its JSON output."""
        env = dict(os.environ, PYTHONPATH="%s:%s" % (TESTS, RESPONDER_PATH))
        out = self.netns.run(
            self.phone, [sys.executable, "-c", "import json, responder_support as r\nprint(json.dumps(%s))" % code], env=env
        )
        return json.loads(out.stdout)

    def fetches(self, expect=None):
        return self.responder.rows("SELECT * FROM fetches ORDER BY id", expect=expect)


@pytest.fixture
def site(netns, tmp_path):
    s = Site(netns, tmp_path)
    yield s
    if s.responder:
        s.responder.stop()
        log = s.responder.log()
        for secret in (PASSWORD, GS_PASSWORD, SIP_SECRET):
            assert secret not in log, "a secret reached the responder's log"


def test_plain_and_secret_files_basic_digest_and_user_agent(site):
    site.start()
    ua = user_agent("yealink", YEALINK)
    status, headers, body = site.curl(BASE + YEALINK + ".boot")
    assert status == 200 and body.startswith(b"#!version") and headers["cache-control"] == ["no-cache"]
    head = "HEAD %s.boot HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % (TOKEN + YEALINK)
    status, length, body = site.client(
        "(lambda x: (x[0], x[1]['content-length'], x[2].decode()))(r.http_exchange(%r, 8080, %r.encode(), until_close=True))"
        % (SERVER, head)
    )
    assert (status, length, body) == (200, str(len(site.devices[YEALINK]["files"][YEALINK + ".boot"][0])), "")
    assert site.curl(BASE + "y000000000066.cfg")[0] == 200

    secret_url = BASE + YEALINK + ".cfg"
    status, headers, body = site.curl(secret_url, "-A", ua)
    assert status == 401 and SIP_SECRET.encode() not in body
    challenges = headers["www-authenticate"]
    assert [c.split(",")[0].split()[0] for c in challenges] == ["Digest", "Digest", "Basic"]
    assert "algorithm=SHA-256" in challenges[0] and "algorithm=MD5" in challenges[1] and 'qop="auth"' in challenges[0]

    status, _unused, body = site.curl(secret_url, "-A", ua, "-u", "prov:" + PASSWORD)  # Basic
    assert status == 200 and SIP_SECRET.encode() in body
    assert site.curl(secret_url, "-A", ua, "-u", "prov:wrong")[0] == 401
    assert site.curl(secret_url, "-A", ua, "-u", "other:" + PASSWORD)[0] == 401
    status, _unused, body = site.curl(secret_url, "-A", ua, "--digest", "-u", "prov:" + PASSWORD)  # curl's choice of algorithm
    assert status == 200 and SIP_SECRET.encode() in body
    assert site.curl(secret_url, "-A", ua, "--digest", "-u", "prov:wrong")[0] == 401

    for algorithm in ("MD5", "SHA-256"):
        statuses = site.client(
            "r.digest_get(%r, 8080, %r, 'prov', %r, %r, %r, replay=True)" % (SERVER, TOKEN + YEALINK + ".cfg", PASSWORD, algorithm, ua)
        )
        assert statuses == [401, 200, 401], "%s: a replayed Digest answer must be refused: %s" % (algorithm, statuses)

    # The User-Agent must carry the file's MAC (Yealink UAs do): another phone's UA, or none, is refused.
    assert site.curl(secret_url, "-A", user_agent("yealink", "001565aabb99"), "-u", "prov:" + PASSWORD)[0] == 403
    assert site.curl(secret_url, "-u", "prov:" + PASSWORD)[0] == 403

    # Per-device credentials replace the PBX-wide pair for that device's files.
    gs_url, gs_ua = BASE + "cfg%s.xml" % GRANDSTREAM, user_agent("grandstream", GRANDSTREAM)
    assert site.curl(gs_url, "-A", gs_ua, "-u", "prov:" + PASSWORD)[0] == 401
    assert site.curl(gs_url, "-A", gs_ua, "--digest", "-u", "gs:" + GS_PASSWORD)[0] == 200

    rows = site.fetches(expect=lambda rows: len(rows) >= 20)
    served = [r for r in rows if r["file"] == YEALINK + ".cfg" and r["status"] == 200]
    assert served and all(r["mac"] == YEALINK and r["ua_mac"] == YEALINK and r["model"] == "T46S" for r in served)
    assert served[0]["sha256"] == hashlib.sha256(site.devices[YEALINK]["files"][YEALINK + ".cfg"][0].encode()).hexdigest()
    reasons = {r["reason"] for r in rows}
    assert {"auth_required", "auth_failed", "ua_mismatch"} <= reasons
    assert "url=http://prov:***@" in site.responder.log()


TRAVERSALS = [
    TOKEN + "../outside.txt",
    TOKEN + "%2e%2e/outside.txt",
    TOKEN + "%2E%2E%2Foutside.txt",
    TOKEN + "..%2foutside.txt",
    TOKEN + "..%5coutside.txt",
    TOKEN + "..\\outside.txt",
    TOKEN + "sub/../../outside.txt",
    TOKEN + "%c0%ae%c0%ae/outside.txt",
    TOKEN + YEALINK + ".boot%00.txt",
    TOKEN + ".autoprov-manifest.json",
    TOKEN + "%2eautoprov-manifest.json",
    TOKEN + "sub/../.autoprov-manifest.json",
    TOKEN + "sub/manifest-link",
    TOKEN + ".hidden",
    TOKEN + "escape.cfg",
    TOKEN,
    TOKEN + "sub/",
    TOKEN + "sub",
    TOKEN + "sub//dir/file.txt",
    TOKEN[:-1] + "%2f" + YEALINK + ".boot",
    "/etc/passwd",
    "//etc/passwd",
    "/p/../etc/passwd",
    "http://%s:8080%s%s.boot" % (SERVER, TOKEN, YEALINK),
    "*",
]


def test_without_credentials_secret_files_are_never_served(site):
    site.start(auth=None, url="http://%s:8080%s" % (SERVER, TOKEN))
    ua = user_agent("yealink", YEALINK)
    status, _unused, body = site.curl(BASE + YEALINK + ".cfg", "-A", ua)
    assert status == 403 and SIP_SECRET.encode() not in body
    assert site.curl(BASE + YEALINK + ".cfg", "-A", ua, "-u", "prov:" + PASSWORD)[0] == 403
    assert site.curl(BASE + YEALINK + ".boot", "-A", ua)[0] == 200  # no secret in it
    rows = site.fetches(expect=lambda rows: len(rows) >= 3)
    assert [r["reason"] for r in rows] == ["no_credentials", "no_credentials", None]


def test_traversal_tricks_refused(site):
    site.start()
    raw = [("GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % t).encode() for t in TRAVERSALS]
    results = site.client("[(lambda x: (x[0], x[2].decode('latin-1')))(r.http_exchange(%r, 8080, q)) for q in %r]" % (SERVER, raw))
    for target, (status, body) in zip(TRAVERSALS, results):
        assert status in (400, 403, 404), (target, status)
        assert not any(leak in body for leak in ("OUTSIDE", "root:", '"format"', "HIDDEN", "#!version")), (target, body)
    # curl's own spelling of a few of them
    for path in ("../outside.txt", "%2e%2e/outside.txt", "..%2F..%2Foutside.txt"):
        status, _unused, body = site.curl(BASE + path, "--path-as-is")
        assert status in (400, 404) and b"OUTSIDE" not in body, path
    # inside the root, a file under a public_dirs entry is served; one the manifest does not list is not,
    # even a symlink to a listed file, even with the right credentials and User-Agent (fail closed)
    assert site.curl(BASE + "sub/dir/file.txt")[2] == b"nested\n"
    assert site.curl(BASE + "alias.cfg")[0] == 404
    status, _unused, body = site.curl(BASE + UNLISTED, "-A", user_agent("yealink", "001565aabb77"), "-u", "prov:" + PASSWORD)
    assert status == 404 and SIP_SECRET.encode() not in body
    rows = site.fetches(expect=lambda rows: any(r["path"].endswith(UNLISTED) for r in rows))
    assert sum(r["reason"] == "bad_path" for r in rows) >= 12
    assert [(r["path"], r["reason"]) for r in rows if r["path"].endswith(("alias.cfg", UNLISTED))] == [
        ("alias.cfg", "not_listed"),
        (UNLISTED, "not_listed"),
    ]


def test_conditional_get_and_manifest_reload(site):
    site.start()
    url = BASE + YEALINK + ".boot"
    status, headers, _unused = site.curl(url)
    etag, modified = headers["etag"][0], headers["last-modified"][0]
    status, headers, body = site.curl(url, "-H", "If-None-Match: " + etag)
    assert status == 304 and body == b"" and headers["etag"] == [etag]
    assert site.curl(url, "-H", 'If-None-Match: "other", W/' + etag)[0] == 304
    assert site.curl(url, "-H", 'If-None-Match: "other"')[0] == 200
    assert site.curl(url, "-H", "If-Modified-Since: " + modified)[0] == 304
    assert site.curl(url, "-H", "If-Modified-Since: Sat, 01 Jan 2000 00:00:00 GMT")[0] == 200
    assert site.curl(url, "-H", 'If-None-Match: "other"', "-H", "If-Modified-Since: " + modified)[0] == 200  # INM wins

    # A secret file answers 304 only to an authenticated device.
    ua = user_agent("yealink", YEALINK)
    secret = BASE + YEALINK + ".cfg"
    secret_etag = site.curl(secret, "-A", ua, "-u", "prov:" + PASSWORD)[1]["etag"][0]
    assert site.curl(secret, "-A", ua, "-H", "If-None-Match: " + secret_etag)[0] == 401
    assert site.curl(secret, "-A", ua, "-u", "prov:" + PASSWORD, "-H", "If-None-Match: " + secret_etag)[0] == 304

    # device_configs rewrites the file and the manifest: new content, new ETag, and the new manifest's
    # verdicts (the .boot file is now secret) without a restart.
    site.devices[YEALINK]["files"][YEALINK + ".boot"] = ("#!version:1.0.0.1\nchanged\n", True)
    write_root(site.root, site.devices, shared={"y000000000066.cfg": ("#!version:1.0.0.1\n", "yealink")})
    time.sleep(1.2)  # the manifest is looked at once a second
    assert site.curl(url, "-H", "If-None-Match: " + etag)[0] == 401
    status, headers, body = site.curl(url, "-A", ua, "-u", "prov:" + PASSWORD, "-H", "If-None-Match: " + etag)
    assert status == 200 and body.endswith(b"changed\n") and headers["etag"][0] != etag
    rows = site.fetches(expect=lambda rows: any(r["status"] == 304 for r in rows))
    assert all(r["sha256"] and r["bytes"] == 0 for r in rows if r["status"] == 304)


def test_lockout_allow_list_and_large_files(site):
    site.start(lockout={"misses": 5, "window": 60, "duration": 30})
    boot = BASE + YEALINK + ".boot"
    for _unused in range(6):  # the same missing file again and again is one miss
        assert site.curl(BASE + "001565000000.cfg")[0] == 404
    assert site.curl(boot)[0] == 200
    for i in range(1, 5):  # guessing MACs: four more different misses make five
        assert site.curl(BASE + "0015650000%02d.cfg" % i)[0] == 404
    assert site.curl(boot)[0] == 403  # locked out, even for a file that exists
    site.netns.run(site.phone, ["ip", "addr", "add", PHONE2 + "/24", "dev", site.phone_if])
    assert site.curl(boot, "--interface", PHONE2)[0] == 200  # another source is not affected
    assert site.curl(boot, ns=site.outsider)[0] == 403  # outside the allow-list
    rows = site.fetches(expect=lambda rows: any(r["reason"] == "not_allowed" for r in rows))
    assert [r["reason"] for r in rows if r["source"] == PHONE][-1] == "locked_out"
    assert "lockout" in site.responder.log()

    # a file too big for the memory cache is streamed, intact
    status, headers, body = site.curl(BASE + "firmware/big.bin", "--interface", PHONE2)
    assert status == 200 and len(body) == 3 << 20
    assert hashlib.sha256(body).hexdigest() == hashlib.sha256((site.root / "firmware/big.bin").read_bytes()).hexdigest()


def test_https_with_an_openssl_certificate(site):
    cert, key = site.tmp / "cert.pem", site.tmp / "key.pem"
    site.netns.run(
        site.srv,
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "2"]
        + ["-subj", "/CN=pbx.test", "-addext", "subjectAltName=IP:%s" % SERVER],
    )
    site.start(https_listen=["%s:8443" % SERVER], tls_cert=str(cert), tls_key=str(key))
    https = "https://%s:8443%s" % (SERVER, TOKEN)
    status, _unused, body = site.curl(https + YEALINK + ".boot", "--cacert", cert)
    assert status == 200 and body.startswith(b"#!version")
    ua = user_agent("yealink", YEALINK)
    status, _unused, body = site.curl(https + YEALINK + ".cfg", "--cacert", cert, "-A", ua, "-u", "prov:" + PASSWORD)
    assert status == 200 and SIP_SECRET.encode() in body
    assert site.curl(https + YEALINK + ".boot", "--cacert", cert, "--tlsv1.0", "--tls-max", "1.1")[0] == 0  # TLS < 1.2 refused
    rows = site.fetches(expect=lambda rows: any(r["proto"] == "https" for r in rows))
    assert {r["proto"] for r in rows} == {"https"}


def test_bounds_and_bad_requests(site):
    site.start(http_limits={"header_timeout": 1, "idle_timeout": 2})
    cases = [
        (b"GET /" + b"a" * 5000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
        (b"GET / HTTP/1.1\r\n" + b"X-Big: " + b"b" * 9000 + b"\r\n\r\n", 431),
        (b"GET / HTTP/1.1\r\n" + b"".join(b"X-%d: 1\r\n" % i for i in range(100)) + b"\r\n", 431),
        (b"POST " + TOKEN.encode() + YEALINK.encode() + b".boot HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", 405),
        (b"GET " + TOKEN.encode() + YEALINK.encode() + b".boot HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello", 400),
        (b"GET " + TOKEN.encode() + YEALINK.encode() + b".boot HTTP/2.0\r\n\r\n", 505),
        (b"GET /x HTTP/1.1\r\nBad Header: 1\r\n\r\n", 400),
        (b"GET /x HTTP/1.1\r\nFolded: a\r\n b\r\n\r\n", 400),
        (b"GET /x HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
        (b"\x16\x03\x01\x00\xa5garbage\r\n\r\n", 400),
    ]
    statuses = site.client("[r.http_exchange(%r, 8080, q)[0] for q, _ in %r]" % (SERVER, cases))
    assert statuses == [want for _unused, want in cases]
    # A request head that never ends is cut off after header_timeout (slowloris).
    started = time.monotonic()
    status = site.client("r.http_exchange(%r, 8080, b'GET / HTTP/1.1\\r\\nHost: x\\r\\n', timeout=8)[0]" % SERVER)
    assert status == 408 and time.monotonic() - started < 6
    # Keep-alive and pipelining: two requests in one packet, two answers in order.
    pipelined = ("GET {0}.boot HTTP/1.1\r\nHost: x\r\n\r\nGET {0}.boot HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").format(
        TOKEN + YEALINK
    )
    body = site.client("r.http_exchange(%r, 8080, %r.encode(), until_close=True)[2].decode('latin-1')" % (SERVER, pipelined))
    assert body.count("HTTP/1.1 200 OK") == 1  # the second response follows the first's body
