"""HTTP request heads and request targets: strict parsing within bounds, every traversal spelling refused."""

from __future__ import annotations

import os

import pytest

from autoprov_responder import files
from autoprov_responder.http_parse import HttpError, Limits, head_incomplete, parse_head

LIMITS = Limits(request_line=256, header_bytes=512, headers=8)


def test_a_phone_request():
    req = parse_head(
        b"GET /p/t/a.cfg HTTP/1.1\r\nHost: pbx\r\nUser-Agent: Yealink SIP-T46S 66.86.0.15 00:15:65:aa:bb:01\r\nX-A: 1\r\nx-a: 2", LIMITS
    )
    assert (req.method, req.target, req.version, req.keep_alive) == ("GET", "/p/t/a.cfg", "HTTP/1.1", True)
    assert req.headers["user-agent"].endswith("00:15:65:aa:bb:01") and req.headers["x-a"] == "1, 2"


@pytest.mark.parametrize(
    "version, connection, keep",
    [("1.1", "", True), ("1.1", "close", False), ("1.0", "", False), ("1.0", "Keep-Alive", True)],
)
def test_keep_alive(version, connection, keep):
    head = "GET / HTTP/%s%s" % (version, "\r\nConnection: " + connection if connection else "")
    assert parse_head(head.encode(), LIMITS).keep_alive is keep


@pytest.mark.parametrize(
    "head, status",
    [
        (b"GET /" + b"a" * 300 + b" HTTP/1.1", 414),
        (b"GET / HTTP/1.1\r\n" + b"\r\n".join(b"X-%d: 1" % i for i in range(9)), 431),
        (b"GET / HTTP/1.1\r\nX: " + b"y" * 600, 431),
        (b"GET / HTTP/2.0", 505),
        (b"GET / FOO/1.1", 400),
        (b"GET  / HTTP/1.1", 400),
        (b"GET /a b HTTP/1.1", 400),
        (b"G@T / HTTP/1.1", 400),
        (b"GET /\x00 HTTP/1.1", 400),
        (b"GET / HTTP/1.1\r\nX : 1", 400),
        (b"GET / HTTP/1.1\r\n folded", 400),
        (b"GET / HTTP/1.1\r\nX: a\x00b", 400),
        (b"GET / HTTP/1.1\r\nHost: a\r\nHost: b", 400),
        (b"GET / HTTP/1.1\r\nContent-Length: 3", 400),
        (b"GET / HTTP/1.1\r\nTransfer-Encoding: chunked", 400),
        (b"GET / HTTP/1.1\r\nAuthorization: a\r\nAuthorization: b", 400),
    ],
)
def test_bad_heads(head, status):
    with pytest.raises(HttpError) as exc:
        parse_head(head, LIMITS)
    assert exc.value.status == status


def test_unfinished_heads_are_bounded():
    head_incomplete(b"GET / HTTP/1.1\r\nHost: x", LIMITS)  # fine so far
    with pytest.raises(HttpError) as exc:
        head_incomplete(b"GET /" + b"a" * 300, LIMITS)
    assert exc.value.status == 414
    with pytest.raises(HttpError) as exc:
        head_incomplete(b"GET / HTTP/1.1\r\n" + b"X: y\r\n" * 200, LIMITS)
    assert exc.value.status == 431


PREFIX = "/p/Zt4/"


@pytest.mark.parametrize(
    "target, rel",
    [
        ("/p/Zt4/001565aabb01.cfg", "001565aabb01.cfg"),
        ("/p/Zt4/001565aabb01.cfg?mac=001565aabb01", "001565aabb01.cfg"),
        ("/p/Zt4/sub/dir/file%20name.txt", "sub/dir/file name.txt"),
        ("/p/Zt4/caf%C3%A9.cfg", "caf\u00e9.cfg"),
    ],
)
def test_targets_served(target, rel):
    assert files.http_target(target, PREFIX) == rel


@pytest.mark.parametrize(
    "target, reason",
    [
        ("/p/Zt4/../etc/passwd", "bad_path"),
        ("/p/Zt4/%2e%2e/etc/passwd", "bad_path"),
        ("/p/Zt4/%2E%2e%2fetc", "bad_path"),
        ("/p/Zt4/..%2F..%2Fetc", "bad_path"),
        ("/p/Zt4/..%5c..%5cetc", "bad_path"),
        ("/p/Zt4/..\\etc", "bad_path"),
        ("/p/Zt4/a.cfg%00.txt", "bad_path"),
        ("/p/Zt4/%c0%ae%c0%ae/etc", "bad_path"),
        ("/p/Zt4/%ff.cfg", "bad_path"),
        ("/p/Zt4/%zz.cfg", "bad_path"),
        ("/p/Zt4/a%", "bad_path"),
        ("/p/Zt4/.autoprov-manifest.json", "bad_path"),
        ("/p/Zt4/sub/.hidden", "bad_path"),
        ("/p/Zt4//etc/passwd", "bad_path"),
        ("/p/Zt4/a.cfg#x", "bad_path"),
        ("/p/Zt4/a%0a.cfg", "bad_path"),
        ("/p/Zt4/%09", "bad_path"),
        ("/p/../etc/passwd", "bad_path"),
        ("http://pbx/p/Zt4/a.cfg", "bad_path"),
        ("*", "bad_path"),
        ("/p/Zt4/", "not_found"),
        ("/p/Zt4", "not_found"),
        ("/etc/passwd", "not_found"),
        ("/p/Zt5/a.cfg", "not_found"),
    ],
)
def test_targets_refused(target, reason):
    with pytest.raises(files.Refused) as exc:
        files.http_target(target, PREFIX)
    assert exc.value.reason == reason


@pytest.mark.parametrize(
    "name, rel",
    [
        ("p/Zt4/a.cfg", "a.cfg"),
        ("/p/Zt4/a.cfg", "a.cfg"),
        ("p/Zt4/../x", None),
        ("p/Zt4/..\\x", None),
        ("p/Zt4/%2e", None),
        ("a.cfg", None),
    ],
)
def test_tftp_names(name, rel):
    if rel is None:
        with pytest.raises(files.Refused):
            files.tftp_filename(name, PREFIX)
    else:
        assert files.tftp_filename(name, PREFIX) == rel


def test_file_store_rules(tmp_path):
    root = tmp_path / "root"
    (root / "sub").mkdir(parents=True)
    (root / "a.cfg").write_bytes(b"A")
    (tmp_path / "outside").write_bytes(b"O")
    (root / "out-link").symlink_to(tmp_path / "outside")
    (root / "in-link").symlink_to(root / "a.cfg")
    (root / ".autoprov-manifest.json").write_text("{}")
    (root / "to-manifest").symlink_to(root / ".autoprov-manifest.json")
    (root / "dir-link").symlink_to(tmp_path)
    store = files.FileStore(str(root))
    entry = store.lookup("a.cfg")
    assert entry.data == b"A" and entry.etag.startswith('"') and entry.size == 1
    assert store.lookup("in-link").data == b"A"
    for rel, reason in (
        ("out-link", "bad_path"),
        ("to-manifest", "bad_path"),
        ("dir-link/outside", "bad_path"),
        ("sub", "not_found"),
        ("nothere", "not_found"),
    ):
        with pytest.raises(files.Refused) as exc:
            store.lookup(rel)
        assert exc.value.reason == reason, rel
    # a changed file is read again (new ETag), an unchanged one comes from memory
    assert store.lookup("a.cfg") is entry
    (root / "a.cfg").write_bytes(b"BB")
    assert store.lookup("a.cfg").data == b"BB"
    # a file replaced by a symlink out of the root after it was cached is refused
    os.unlink(root / "a.cfg")
    (root / "a.cfg").symlink_to(tmp_path / "outside")
    with pytest.raises(files.Refused):
        store.lookup("a.cfg")


def test_the_dhcp_segment_after_the_token_names_the_same_files():
    """DHCP option 66 hands out the provisioning URL + dhcp/ (the controller's _urls.VIA)."""
    assert files.http_target(PREFIX + "dhcp/a.cfg", PREFIX) == "dhcp/a.cfg"
    assert files.named_file("dhcp/a.cfg") == "a.cfg" and files.named_file("dhcp/firmware/t46s.rom") == "firmware/t46s.rom"
    assert files.named_file("a.cfg") == "a.cfg"
    for target in (PREFIX + "dhcp/", PREFIX + "dhcp/../a.cfg", PREFIX + "dhcp/.autoprov-manifest.json"):
        with pytest.raises(files.Refused, match="bad_path"):
            files.http_target(target, PREFIX)
