"""TFTP packets: requests, option negotiation (RFC 2347-2349), netascii."""

from __future__ import annotations

import pytest

from autoprov_responder import files, tftp


def test_read_request_with_options():
    op, req = tftp.parse_request(b"\x00\x01p/t/a.cfg\x00OCTET\x00blksize\x001428\x00tsize\x000\x00timeout\x003\x00")
    assert op == tftp.RRQ and (req.filename, req.mode) == ("p/t/a.cfg", "octet")
    assert tftp.negotiate(req.options, 5000) == (1428, 3.0, {"blksize": "1428", "timeout": "3", "tsize": "5000"})


@pytest.mark.parametrize(
    "options, result",
    [
        ({}, (512, 1.0, {})),
        ({"blksize": "4"}, (512, 1.0, {})),
        ({"blksize": "99999"}, (65464, 1.0, {"blksize": "65464"})),
        ({"blksize": "x", "timeout": "0"}, (512, 1.0, {})),
        ({"timeout": "256"}, (512, 1.0, {})),
        ({"timeout": "5"}, (512, 5.0, {"timeout": "5"})),
        ({"timeout": "6"}, (512, 1.0, {})),  # a slot is not held for minutes: declined, not in the OACK
        ({"windowsize": "4"}, (512, 1.0, {})),
    ],
)
def test_negotiation(options, result):
    assert tftp.negotiate(options, 10) == result


@pytest.mark.parametrize(
    "packet",
    [
        b"",
        b"\x00\x01",
        b"\x00\x03\x00\x01data",
        b"\x00\x01name\x00",
        b"\x00\x01name\x00mail\x00",
        b"\x00\x01\x00octet\x00",
        b"\x00\x01n\x00octet\x00opt\x00",
        b"\x00\x01\xff\x00octet\x00",
    ],
)
def test_malformed(packet):
    with pytest.raises(tftp.TftpError):
        tftp.parse_request(packet)


def test_netascii_and_errors():
    assert tftp.netascii(b"a\nb\rc") == b"a\r\nb\r\0c"
    assert tftp.error_packet(1, "file not found") == b"\x00\x05\x00\x01file not found\x00"


@pytest.mark.parametrize("size", [0, 1, 511, 512, 513, 4096, 70000])
@pytest.mark.parametrize("cached", [True, False])
def test_netascii_blocks_are_the_whole_conversion_cut_in_order(tmp_path, size, cached):
    data = (b"ab\r\ncd\n\r\rx\n" * (size // 12 + 1))[:size]
    path = tmp_path / "f.txt"
    path.write_bytes(data)
    store = files.FileStore(str(tmp_path))
    entry = store.lookup("f.txt")
    if not cached:
        entry.data = None  # as a file beyond the memory cache: read from its descriptor
    expected = tftp.netascii(data)
    assert entry.netascii_size() == len(expected)
    blocks = tftp.Blocks(entry.body(), as_netascii=True)
    got = []
    while True:
        block = blocks.next(512)
        got.append(block)
        assert len(block) <= 512
        if len(block) < 512:
            break
    blocks.close()
    assert b"".join(got) == expected and len(got) == len(expected) // 512 + 1
