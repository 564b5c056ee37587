"""The SIP helpers pnp_probe and resync share: addresses, parsing, identifiers, RFC 3261 retransmission timers."""

from __future__ import annotations

import pytest

from ansible_collections.pbxops.autoprov.plugins.module_utils._sip import message as _sip


def test_parse_hostport():
    assert _sip.parse_hostport("224.0.1.75") == ("224.0.1.75", 5060)
    assert _sip.parse_hostport(" 127.0.0.1:5070 ") == ("127.0.0.1", 5070)
    assert _sip.parse_hostport("[::1]:5061") == ("::1", 5061)
    assert _sip.parse_hostport("[2001:db8::5]") == ("2001:db8::5", 5060)
    assert _sip.parse_hostport("phone.example", 5062) == ("phone.example", 5062)
    for bad in ("host:99999", "host:0", "2001:db8::5", "a:b:c", "", "[::1"):
        with pytest.raises(_sip.SipError):
            _sip.parse_hostport(bad)


def test_addresses_as_sip_writes_them():
    assert _sip.hostport("192.0.2.1", 5060) == "192.0.2.1:5060"
    assert _sip.hostport("2001:db8::5", 5062) == "[2001:db8::5]:5062"
    assert _sip.plain_address("::ffff:192.0.2.7") == "192.0.2.7"  # as a dual-stack listener records an IPv4 peer
    assert _sip.plain_address("2001:db8::5") == "2001:db8::5"
    with pytest.raises(ValueError):
        _sip.plain_address("phone.example")


def test_identifiers_are_unique_and_branches_carry_the_magic_cookie():
    branches = {_sip.new_branch() for _unused in range(100)}
    assert len(branches) == 100 and all(b.startswith("z9hG4bK") for b in branches)
    assert _sip.new_call_id("192.0.2.1").endswith("@192.0.2.1")
    assert _sip.new_tag() != _sip.new_tag()


RESPONSE = (
    b"SIP/2.0 489 Bad Event\r\n"
    b"v: SIP/2.0/UDP 192.0.2.1:40000;branch=z9hG4bKabc;rport=40000, SIP/2.0/UDP 192.0.2.9;branch=z9hG4bKother\r\n"
    b"f: <sip:autoprov@192.0.2.1>;tag=1\r\n"
    b"t: <sip:201@192.0.2.31>;tag=2\r\n"
    b"i: cid@192.0.2.1\r\n"
    b"CSeq: 1 NOTIFY\r\n"
    b"l: 0\r\n\r\n"
)


def test_parse_response_with_compact_headers():
    message = _sip.parse_message(RESPONSE)
    assert message["kind"] == "response" and message["status"] == 489 and message["reason"] == "Bad Event"
    assert _sip.header(message, "call-id") == "cid@192.0.2.1"
    assert _sip.top_branch(message) == "z9hG4bKabc"
    assert _sip.cseq_method(message) == "NOTIFY"


def test_parse_request_and_answer_it():
    request = _sip.parse_message(
        b"NOTIFY sip:x@192.0.2.2:5062 SIP/2.0\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKn\nFrom: <sip:a@b>;tag=1\n"
        b"To: <sip:x@c>\nCall-ID: n1\nCSeq: 2 NOTIFY\nEvent: ua-profile\n\nhttp://u/"
    )
    assert request["kind"] == "request" and request["method"] == "NOTIFY" and request["uri"] == "sip:x@192.0.2.2:5062"
    assert request["body"] == "http://u/"
    ok = _sip.parse_message(_sip.build_ok(request))
    assert ok["status"] == 200 and _sip.top_branch(ok) == "z9hG4bKn" and _sip.header(ok, "cseq") == "2 NOTIFY"
    assert _sip.parse_message(b"HTTP/1.1 200 OK\r\n\r\n") is None
    assert _sip.top_branch({"headers": {}}) is None


def test_retransmission_schedule_is_rfc3261_timer_e():
    # T1 = 0.5 s doubling to T2 = 4 s, until Timer F.
    assert _sip.send_times(8) == [0, 0.5, 1.5, 3.5, 7.5]
    assert _sip.send_times() == [0, 0.5, 1.5, 3.5, 7.5, 11.5, 15.5, 19.5, 23.5, 27.5, 31.5]
    assert _sip.TIMER_F == 32
    # After a provisional answer every T2: the retransmission already scheduled stays, then 4 s steps.
    assert _sip.send_times(12, provisional_after=2) == [0, 0.5, 1.5, 5.5, 9.5]


def test_retransmission_timer_states():
    timer = _sip.Retransmission(100.0, timeout=2.0)
    assert timer.due(100.0) and not timer.expired(100.0)
    timer.sent(100.0)
    assert not timer.due(100.4) and timer.due(100.5) and timer.wake_at() == 100.5
    timer.sent(100.5)
    timer.sent(101.5)
    assert timer.count == 3 and timer.wake_at() == 102.0  # the deadline comes before the next send (103.5)
    assert timer.expired(102.0) and not timer.due(102.0)
