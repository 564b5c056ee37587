"""Fuzzing the request parsers with hypothesis: 0 crashes allowed.

Every target runs EXAMPLES generated inputs (random bytes, and real vendor
SUBSCRIBEs / phone requests mutated byte by byte, line by line); each test
checks its count, so the number stated here is the number run:
7 targets x 2,500 = 17,500 inputs per run. A "crash" is any exception other
than the parser's own refusal (SipError, HttpError, Refused, TftpError).
"""

from __future__ import annotations

import asyncio
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from responder_captures import subscribe
from responder_support import user_agent, write_root

from autoprov_responder import auth, config, files, http_parse, sip, tftp
from autoprov_responder.access import FileAccess
from autoprov_responder.httpd import ConfigHost, HttpConnection
from autoprov_responder.manifest import ManifestWatcher
from autoprov_responder.pnp import PnpService

EXAMPLES = 2500
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)


def fuzz(strategy):
    """A test running `body` on EXAMPLES inputs from `strategy`, and checking that it did."""

    def wrap(body):
        def test(request):
            calls = []
            args = [request.getfixturevalue(name) for name in body.__code__.co_varnames[: body.__code__.co_argcount - 1]]

            @given(strategy)
            @FUZZ
            def run(data):
                calls.append(1)
                body(*args, data)

            run()
            assert len(calls) >= EXAMPLES, "only %d of %d examples ran" % (len(calls), EXAMPLES)

        test.__name__ = body.__name__
        test.__doc__ = body.__doc__
        return test

    return wrap


CAPTURES = [
    subscribe(v, m)
    for v, m in (
        ("snom", "000413aabb01"),
        ("yealink", "001565aabb02"),
        ("grandstream", "000b82aabb03"),
        ("fanvil", "0c383eaabb04"),
        ("htek", "001fc1aabb05"),
        ("bare", "001565aabb06"),
    )
]
NOTIFY_ANSWER = (
    b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKabc;rport=5060\r\n"
    b"Call-ID: c1\r\nCSeq: 1 NOTIFY\r\nContent-Length: 0\r\n\r\n"
)
HTTP_REQUESTS = [
    b"GET /p/Zt4/001565aabb01.cfg HTTP/1.1\r\nHost: 192.0.2.1\r\nUser-Agent: %s\r\nAuthorization: Basic cHJvdjpwdw==\r\n\r\n"
    % user_agent("yealink", "001565aabb01").encode(),
    b'GET /p/Zt4/y000000000066.cfg HTTP/1.1\r\nHost: x\r\nIf-None-Match: "abc", W/"def"\r\n'
    b"If-Modified-Since: Sat, 01 Jan 2000 00:00:00 GMT\r\n\r\n",
    b"HEAD /p/Zt4/001565aabb01.boot HTTP/1.0\r\nConnection: keep-alive\r\n"
    b'Authorization: Digest username="prov", realm="autoprov", nonce="1.2.3", uri="/p/Zt4/x", qop=auth, nc=00000001, '
    b'cnonce="c", response="r"\r\n\r\n',
]


def mutations(seeds):
    """A seed message changed byte by byte, truncated, or with lines dropped, repeated and swapped."""
    seed = st.sampled_from(seeds)
    byte_edits = st.tuples(seed, st.lists(st.tuples(st.integers(0, 4000), st.binary(min_size=0, max_size=4)), max_size=6)).map(_apply_edits)
    line_edits = st.tuples(seed, st.randoms(use_true_random=False)).map(_shuffle_lines)
    truncated = st.tuples(seed, st.integers(0, 4000)).map(lambda pair: pair[0][: pair[1]])
    return st.one_of(st.binary(max_size=2048), byte_edits, line_edits, truncated)


def _apply_edits(pair):
    data, edits = bytearray(pair[0]), pair[1]
    for pos, replacement in edits:
        pos %= len(data) + 1
        data[pos : pos + len(replacement)] = replacement
    return bytes(data)


def _shuffle_lines(pair):
    data, rnd = pair
    lines = data.split(b"\r\n")
    for _unused in range(rnd.randint(1, 4)):
        op = rnd.choice(("drop", "dup", "swap", "lf"))
        i, j = rnd.randrange(len(lines)), rnd.randrange(len(lines))
        if op == "drop" and len(lines) > 1:
            del lines[i]
        elif op == "dup":
            lines.insert(j, lines[i])
        elif op == "swap":
            lines[i], lines[j] = lines[j], lines[i]
        else:
            return b"\n".join(lines)
    return b"\r\n".join(lines)


@fuzz(mutations(CAPTURES + [NOTIFY_ANSWER]))
def test_sip_parsing(data):
    try:
        message = sip.parse(data)
        sub = sip.read_pnp_subscribe(message)
    except sip.SipError:
        return
    if sub is not None:
        sip.response(sub.message, 200, "OK", ("192.0.2.20", 5060), "t", ())
        sip.notify(sub, ("192.0.2.1", 5060), "z9hG4bKx", "t", "http://x/")
        sip.reply_address(sub, ("192.0.2.20", 5060))
        sip.notify_target(sub, ("192.0.2.20", 5060))


class _Sink:
    """Stands in for the log, the store and the sockets: records, never fails."""

    def __init__(self):
        self.sent = []

    def event(self, *args, **kw):
        pass

    def pnp_event(self, row):
        return 1

    def pnp_outcome(self, *args, **kw):
        pass

    def fetch(self, row, known=False):
        pass

    def sendto(self, data, dest):
        self.sent.append((data, dest))


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    root = tmp_path_factory.mktemp("root")
    write_root(
        root,
        {
            "001565aabb01": {
                "vendor": "yealink",
                "model": "T46S",
                "files": {"001565aabb01.cfg": ("secret", True), "001565aabb01.boot": ("boot", False)},
            },
            "000413aabb01": {"vendor": "snom", "model": "D385", "files": {"000413AABB01.xml": ("<x/>", True)}},
        },
        shared={"y000000000066.cfg": ("model", "yealink")},
    )
    settings_ = config.load(
        None,
        {
            "root": str(root),
            "db": str(root.parent / "status.sqlite"),  # and its bindings file beside it, not in the working directory
            "url": "http://192.0.2.1:8080/p/Zt4/",
            "answer_unknown": True,
            "auth": {"username": "prov", "password": "pw"},
        },
    )
    sink = _Sink()
    loop = asyncio.new_event_loop()
    manifests = ManifestWatcher(str(root), sink)
    pnp = PnpService(settings_, manifests, sink, sink, loop)

    class Endpoint:
        sock = send_sock = sink
        local = ("192.0.2.1", 5060)

    host = ConfigHost(settings_, FileAccess(settings_, manifests, sink, sink), sink)
    yield pnp, Endpoint(), host, loop, sink
    loop.close()


@fuzz(mutations(CAPTURES + [NOTIFY_ANSWER]))
def test_pnp_datagram_handling(stack, data):
    """The whole PnP path (parse, decide, answer, NOTIFY transaction) on each input."""
    pnp, endpoint, sink = stack[0], stack[1], stack[4]
    pnp.datagram(endpoint, data, ("192.0.2.20", 5060))
    pnp._server_tx.clear()  # so that every input is a new transaction
    pnp.rate._counts.clear()
    for tx in pnp._notify_tx.values():
        tx.handle.cancel()
    pnp._notify_tx.clear()
    sink.sent.clear()


@fuzz(mutations(HTTP_REQUESTS))
def test_http_head_parsing(data):
    head = data.split(b"\r\n\r\n", 1)[0]
    try:
        request = http_parse.parse_head(head, http_parse.Limits())
    except http_parse.HttpError as exc:
        assert exc.status in (400, 414, 431, 505)
        return
    assert request.method and request.target


class _Transport:
    def __init__(self):
        self.out = b""
        self.closed = False

    def get_extra_info(self, name):
        return ("192.0.2.20", 40000)

    def set_write_buffer_limits(self, high=None, low=None):
        pass

    def write(self, data):
        assert not self.closed, "write after close"
        self.out += data

    def close(self):
        self.closed = True

    abort = close


@fuzz(st.lists(mutations(HTTP_REQUESTS), min_size=1, max_size=4))
def test_http_connection(stack, chunks):
    """Bytes through the real connection protocol and policy: only well-formed HTTP/1.1 responses come out."""
    host, loop = stack[2], stack[3]
    asyncio.set_event_loop(loop)
    host.access.lockout._locked.clear()
    conn = HttpConnection(host, "http")
    transport = _Transport()
    conn.connection_made(transport)
    for chunk in chunks:
        conn.data_received(chunk)
    conn.connection_lost(None)
    if transport.out:
        assert transport.out.startswith(b"HTTP/1.1 ")
        for part in transport.out.split(b"HTTP/1.1 ")[1:]:
            assert part[:3].isdigit()


@fuzz(st.one_of(st.text(max_size=300), mutations([b"/p/Zt4/001565aabb01.cfg", b"/p/Zt4/../%2e%2e/x"]).map(lambda b: b.decode("latin-1"))))
def test_request_targets_stay_in_the_root(target):
    try:
        rel = files.http_target(target, "/p/Zt4/")
    except files.Refused:
        return
    segments = rel.split("/")
    assert not rel.startswith("/") and all(s and not s.startswith(".") and "\\" not in s and "\0" not in s for s in segments)
    root = "/srv/root"
    assert os.path.normpath(os.path.join(root, rel)).startswith(root + "/")


@fuzz(
    st.one_of(
        st.text(max_size=300),
        st.sampled_from(["Basic ", "Digest ", 'Digest username="prov", nonce="1.2.3"']).flatmap(
            lambda p: st.text(max_size=200).map(lambda t: p + t)
        ),
    )
)
def test_authorization_headers(header):
    creds = config.Credentials("prov", "pw")
    verdict, _identity = auth.Authenticator("autoprov").check(
        header, "GET", "/p/x", lambda user: ("shared", None, creds) if user == "prov" else None
    )
    assert verdict in (auth.MISSING, auth.FAILED, auth.STALE)  # nothing random authenticates


@fuzz(mutations([b"\x00\x01p/Zt4/a.cfg\x00octet\x00blksize\x001024\x00tsize\x000\x00timeout\x005\x00", b"\x00\x02x\x00netascii\x00"]))
def test_tftp_requests(packet):
    try:
        _unused, request = tftp.parse_request(packet)
    except tftp.TftpError:
        return
    tftp.negotiate(request.options, 1000)
