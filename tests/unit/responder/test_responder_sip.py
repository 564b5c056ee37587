"""SIP parsing for PnP: every vendor spelling, replies, NOTIFY form."""

from __future__ import annotations

import pytest
from responder_captures import PHONE_IP, subscribe

from autoprov_responder import sip

VENDOR_FORMS = [
    # capture, MAC, vendor as sent, model, version
    ("snom", "000413aabb01", "snom", "snomD385", "10.1.54.13"),
    ("yealink", "001565aabb02", "Yealink", "T46S", "66.86.0.15"),
    ("grandstream", "000b82aabb03", "Grandstream", "GXP2135", "1.0.7.97"),
    ("fanvil", "0c383eaabb04", "Fanvil", "X4", "2.10.2.6887"),
    ("htek", "001fc1aabb05", "Htek", "UC903", "2.0.4.2"),
    ("bare", "001565aabb06", "Yealink", "T31G", "124.86.0.40"),
]


@pytest.mark.parametrize("capture, mac, vendor, model, version", VENDOR_FORMS)
def test_vendor_captures(capture, mac, vendor, model, version):
    sub = sip.read_pnp_subscribe(sip.parse(subscribe(capture, mac)))
    assert (sub.mac, sub.vendor, sub.model, sub.firmware) == (mac, vendor, model, version)
    assert sub.event.startswith("ua-profile")


@pytest.mark.parametrize(
    "user, mac",
    [
        ("MAC%3a00135E874B49", "00135e874b49"),
        ("MAC%3A00135e874b49", "00135e874b49"),
        ("MAC:00135e874b49", "00135e874b49"),
        ("MAC=00135e874b49", "00135e874b49"),
        ("MAC00135e874b49", "00135e874b49"),
        ("00135E874B49", "00135e874b49"),
        ("MAC%3a00:13:5e:87:4b:49", "00135e874b49"),
        ("mac%3d00-13-5e-87-4b-49", "00135e874b49"),
        ("00000001", None),
        ("MAC%3a00135e874b4", None),
        ("MAC%3a00135e874b49a", None),
        ("alice", None),
        ("", None),
        (None, None),
    ],
)
def test_mac_spellings(user, mac):
    assert sip.mac_from_user(user) == mac


def test_mac_from_from_when_uri_has_none_and_dns_host():
    msg = sip.parse(subscribe("htek", "001fc1aabb05"))
    assert msg.uri == "sip:224.0.1.75:5060" and sip.read_pnp_subscribe(msg).mac == "001fc1aabb05"
    assert sip.uri_parts("sip:MAC%3a00135E874B49@intern.snom.de")[1] == "intern.snom.de"


def test_lf_only_lines_folding_and_compact_names():
    raw = (
        b"SUBSCRIBE sip:MAC%3a001565aabb02@224.0.1.75 SIP/2.0\nv: SIP/2.0/UDP 192.0.2.20:5060;rport;branch=z9hG4bKa\n"
        b"f: <sip:MAC%3a001565aabb02@224.0.1.75>;tag=1\nt: <sip:x@y>\ni: abc\nCSeq: 1 SUBSCRIBE\n"
        b'Event: ua-profile;profile-type="device";\n vendor="Yealink";model="T46S"\n\n'
    )
    sub = sip.read_pnp_subscribe(sip.parse(raw))
    assert (sub.mac, sub.vendor, sub.model, sub.call_id) == ("001565aabb02", "Yealink", "T46S", "abc")


@pytest.mark.parametrize(
    "raw",
    [
        b"OPTIONS sip:x@y SIP/2.0\r\nVia: SIP/2.0/UDP a;branch=b\r\nCall-ID: 1\r\nCSeq: 1 OPTIONS\r\n\r\n",
        b"SUBSCRIBE sip:x@y SIP/2.0\r\nVia: SIP/2.0/UDP a;branch=b\r\nEvent: presence\r\nCall-ID: 1\r\nCSeq: 1 SUBSCRIBE\r\n\r\n",
        b"SUBSCRIBE sip:x@y SIP/2.0\r\nVia: SIP/2.0/UDP a;branch=b\r\nCall-ID: 1\r\nCSeq: 1 SUBSCRIBE\r\n\r\n",
    ],
)
def test_other_sip_traffic_is_not_pnp(raw):
    assert sip.read_pnp_subscribe(sip.parse(raw)) is None


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"\x00\xff",
        b"HELLO\r\n\r\n",
        b"INVITE sip:x SIP/3.0\r\n\r\n",
        b"SIP/2.0 abc OK\r\n\r\n",
        b"A sip:x SIP/2.0\r\nno colon\r\n\r\n",
    ],
)
def test_garbage_raises_sip_error(raw):
    with pytest.raises(sip.SipError):
        sip.parse(raw)


def test_ua_profile_without_call_id_is_an_error():
    raw = b"SUBSCRIBE sip:MAC001565aabb02@x SIP/2.0\r\nEvent: ua-profile\r\nVia: SIP/2.0/UDP a\r\n\r\n"
    with pytest.raises(sip.SipError):
        sip.read_pnp_subscribe(sip.parse(raw))


def test_200_ok_honours_rport_and_adds_received():
    # Snom: sent from an ephemeral port, Via says 5060 with a bare rport
    sub = sip.read_pnp_subscribe(sip.parse(subscribe("snom", "000413aabb01")))
    source = ("198.51.100.7", 57648)
    assert sip.reply_address(sub, source) == source
    reply = sip.parse(sip.response(sub.message, 200, "OK", source, "tag9", ("Contact: <sip:192.0.2.1:5060>",)))
    via = sip.parse_via(reply.get("via"))
    assert via.params["rport"] == "57648" and via.params["received"] == "198.51.100.7"
    assert reply.status == 200 and reply.get("to").endswith(";tag=tag9") and reply.get("call-id") == sub.call_id
    assert reply.get("cseq") == "1 SUBSCRIBE" and reply.get("from") == sub.message.get("from")
    # Yealink: no rport, the reply goes to the Via port (5059 here)
    sub = sip.read_pnp_subscribe(sip.parse(subscribe("yealink", "001565aabb02", port=5059)))
    assert sip.reply_address(sub, (PHONE_IP, 40000)) == (PHONE_IP, 5059)


def test_notify_form_and_target():
    sub = sip.read_pnp_subscribe(sip.parse(subscribe("snom", "000413aabb01")))
    raw = sip.notify(sub, ("192.0.2.1", 5060), "z9hG4bKn1", "tag9", "http://192.0.2.1:8080/p/t/000413AABB01.xml")
    msg = sip.parse(raw)
    assert msg.method == "NOTIFY" and msg.uri == "sip:%s:5060" % PHONE_IP
    assert msg.get("subscription-state") == "terminated;reason=timeout" and msg.get("content-type") == "application/url"
    assert msg.get("event") == sub.event and msg.get("call-id") == sub.call_id and msg.get("cseq") == "1 NOTIFY"
    assert msg.get("to") == sub.message.get("from") and msg.get("from").endswith(";tag=tag9")
    assert msg.body == b"http://192.0.2.1:8080/p/t/000413AABB01.xml"
    assert sip.parse_via(msg.get("via")).params["branch"] == "z9hG4bKn1"
    # the Contact's port, but always the source address: a forged Contact cannot aim NOTIFYs elsewhere
    assert sip.notify_target(sub, ("198.51.100.7", 57648)) == ("198.51.100.7", 5060)
    sub.contact_uri = "sip:203.0.113.99:6000"
    assert sip.notify_target(sub, ("198.51.100.7", 57648)) == ("198.51.100.7", 6000)


@pytest.mark.parametrize(
    "raw, key",
    [
        (
            b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKab12;rport=5060\r\nCSeq: 1 NOTIFY\r\n\r\n",
            (200, "z9hG4bKab12", "NOTIFY"),
        ),
        (
            b"SIP/2.0 481 No\r\nv: SIP/2.0/UDP 192.0.2.1;rport;branch=z9hG4bKx\r\nVia: SIP/2.0/UDP h;branch=o\r\ncseq: 7 notify\r\n\r\n",
            (481, "z9hG4bKx", "NOTIFY"),
        ),
        (b"SIP/2.0 200 OK\r\nCSeq: 1 NOTIFY\r\n\r\n", None),
        (b"SIP/2.0 abc OK\r\nVia: SIP/2.0/UDP h;branch=b\r\nCSeq: 1 NOTIFY\r\n\r\n", None),
        (b"NOTIFY sip:x SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=b\r\nCSeq: 1 NOTIFY\r\n\r\n", None),
    ],
)
def test_fast_response_key_agrees_with_the_full_parse(raw, key):
    assert sip.response_key(raw) == key
    if key is not None:
        full = sip.parse(raw)
        assert (full.status, sip.parse_via(full.get("via")).params["branch"], full.get("cseq").split()[1].upper()) == key
