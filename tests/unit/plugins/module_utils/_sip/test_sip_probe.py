"""pnp_probe's SIP side: each vendor's SUBSCRIBE form, User-Agents, and the exchange with retransmission."""

from __future__ import annotations

import re
import socket
import threading

import pytest

from ansible_collections.pbxops.autoprov.plugins.module_utils._catalog import index as _catalog_data
from ansible_collections.pbxops.autoprov.plugins.module_utils._sip import message as _sip
from ansible_collections.pbxops.autoprov.plugins.module_utils._sip import probe as pnp

MAC = "001565aabb01"


def subscribe(vendor, ip="192.0.2.20", port=5062):
    return pnp.build_subscribe(vendor, MAC, "M1", "1.2.3", ip, port, "cid@x", "tag1", "z9hG4bKabc")


@pytest.mark.parametrize("vendor", pnp.vendors())
def test_subscribe_is_the_vendors_form(vendor):
    prof = _catalog_data.PROBE[vendor]
    message = _sip.parse_message(subscribe(vendor))
    assert message["kind"] == "request" and message["method"] == "SUBSCRIBE"
    user = prof["uri_user"].format(mac=MAC, MAC=MAC.upper())
    assert message["uri"] == "sip:%s@%s" % (user, prof["uri_host"])
    assert _sip.header(message, "from").startswith("<sip:%s@" % user)
    event = _sip.header(message, "event")
    assert event.startswith('ua-profile;profile-type="device";%s="%s"' % (prof["vendor_param"], prof["vendor_name"]))
    assert 'model="M1"' in event and 'version="1.2.3"' in event
    assert _sip.header(message, "accept") == "application/url"
    assert _sip.header(message, "expires") == "0"
    assert ";rport" in _sip.header(message, "via") and "192.0.2.20:5062" in _sip.header(message, "via")
    assert "192.0.2.20:5062" in _sip.header(message, "contact")


def test_vendors_spell_the_mac_in_every_field_form():
    """Between them the probe's vendors cover the spellings the responder must parse."""
    forms = {re.sub(r"\{m(ac)?\}|\{MAC\}", "", _catalog_data.PROBE[v]["uri_user"]) for v in pnp.vendors()}
    assert {"MAC%3a", "MAC%3A", "MAC:", "MAC=", "MAC"} <= forms
    assert {_catalog_data.PROBE[v]["vendor_param"] for v in pnp.vendors()} == {"vendor", "vender"}


@pytest.mark.parametrize("vendor", sorted(set(_catalog_data.PROBE) & set(_catalog_data.VENDORS)))
def test_http_user_agent_matches_the_catalog_pattern(vendor):
    """The responder recognises the probe's User-Agent with the catalog's own pattern (and its MAC, where it has one)."""
    agent = pnp.user_agent(vendor, "http", MAC, _catalog_data.PROBE[vendor]["model"], _catalog_data.PROBE[vendor]["firmware"])
    match = re.search(_catalog_data.VENDORS[vendor]["user_agent"], agent, re.I)
    assert match, (vendor, agent)
    if "mac" in match.groupdict():
        assert re.sub(r"[:-]", "", match.group("mac")).lower() == MAC


def test_parse_target():
    assert pnp.parse_target("224.0.1.75") == ("224.0.1.75", 5060)
    assert pnp.parse_target("127.0.0.1:5070") == ("127.0.0.1", 5070)
    assert pnp.parse_target("[::1]:5061") == ("::1", 5061)
    with pytest.raises(pnp.ProbeError):
        pnp.parse_target("host:99999")


def test_multicast_needs_a_chosen_interface():
    with pytest.raises(pnp.ProbeError, match="multicast"):
        pnp.probe("yealink", MAC, "T46S", "1", "224.0.1.75:5060")


def _responder(sock, url, drop_first, seen):
    """A minimal answering side for this unit: drops the first SUBSCRIBE, answers the next with 200 + NOTIFY."""
    count = 0
    while True:
        try:
            data, peer = sock.recvfrom(65535)
        except OSError:
            return
        message = _sip.parse_message(data)
        if message["kind"] == "response":
            seen.append(message)
            return
        count += 1
        if drop_first and count == 1:
            continue
        ok = _sip.build_ok(message)
        sock.sendto(ok, peer)
        headers = message["headers"]
        notify = "\r\n".join(
            [
                "NOTIFY %s SIP/2.0" % headers["contact"][0].strip("<>"),
                "Via: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bKn1" % sock.getsockname()[1],
                "From: %s" % headers["to"][0],
                "To: %s" % headers["from"][0],
                "Call-ID: %s" % headers["call-id"][0],
                "CSeq: 2 NOTIFY",
                "Event: ua-profile",
                "Subscription-State: terminated;reason=timeout",
                "Content-Type: application/url",
                "Content-Length: %d" % len(url),
                "",
                url,
            ]
        )
        sock.sendto(notify.encode(), peer)


def test_probe_retransmits_and_answers_the_notify():
    server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    server.bind(("127.0.0.1", 0))
    server.settimeout(5)
    seen = []
    thread = threading.Thread(target=_responder, args=(server, "http://127.0.0.1:8080/p/x/", True, seen), daemon=True)
    thread.start()
    try:
        result = pnp.probe("snom", MAC, "snomD785", "10.1", "127.0.0.1:%d" % server.getsockname()[1], timeout=4)
        thread.join(3)
    finally:
        server.close()
    assert result["url"] == "http://127.0.0.1:8080/p/x/"
    assert result["subscribe_status"] == 200
    assert result["notify"]["content_type"] == "application/url"
    assert result["elapsed_ms"] >= 400  # the first SUBSCRIBE was dropped: the answer came to the retransmission
    assert seen and seen[0]["status"] == 200 and "NOTIFY" in _sip.header(seen[0], "cseq")


def test_probe_without_answer_returns_no_url():
    silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    silent.bind(("127.0.0.1", 0))
    try:
        result = pnp.probe("htek", MAC, "UC903", "2", "127.0.0.1:%d" % silent.getsockname()[1], timeout=0.8)
        received = 0
        silent.settimeout(0.1)
        while True:
            try:
                silent.recvfrom(65535)
                received += 1
            except socket.timeout:
                break
    finally:
        silent.close()
    assert result["url"] is None and result["subscribe_status"] is None
    assert received == 2  # at 0 and 0.5 s: RFC 3261 timer T1


def test_file_urls():
    assert pnp.file_urls("http://h/p/t/", ["a.cfg", "b.cfg"]) == ["http://h/p/t/a.cfg", "http://h/p/t/b.cfg"]
    assert pnp.file_urls("http://h/p/t/001565aabb01.xml", ["ignored"]) == ["http://h/p/t/001565aabb01.xml"]


@pytest.mark.parametrize("vendor", pnp.vendors())
def test_sample_model_is_in_the_catalog(vendor):
    """The probe's default model is one the catalog knows, so fetch finds the vendor's files."""
    from ansible_collections.pbxops.autoprov.plugins.module_utils._modules.pnp_probe import default_files

    assert default_files(vendor, _catalog_data.PROBE[vendor]["model"], MAC), vendor


# RFC 7616 section 3.9.1: the same request answered with SHA-256 and with MD5.
RFC7616 = dict(
    realm="http-auth@example.org",
    nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
    opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS",
    cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
)


@pytest.mark.parametrize(
    "algorithm, response",
    [
        ("SHA-256", "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"),
        ("MD5", "8ca523f5e9506fed4657c9700eebdbec"),
    ],
)
def test_digest_answer_matches_rfc7616(algorithm, response):
    challenge = 'Digest realm="%(realm)s", qop="auth, auth-int", algorithm=%%s, nonce="%(nonce)s", opaque="%(opaque)s"' % RFC7616
    header = pnp.authorization([challenge % algorithm], "GET", "/dir/index.html", "Mufasa", "Circle of Life", cnonce=RFC7616["cnonce"])
    assert header.startswith("Digest ")
    assert 'response="%s"' % response in header
    assert 'opaque="%s"' % RFC7616["opaque"] in header and "nc=00000001" in header and 'uri="/dir/index.html"' in header


def test_strongest_answerable_challenge_first_then_basic():
    sha512 = 'Digest realm="r", qop="auth", algorithm=SHA-512-256, nonce="n"'
    assert pnp.authorization([sha512, 'Basic realm="r"'], "GET", "/", "u", "p") == "Basic dTpw"
    assert pnp.authorization([sha512], "GET", "/", "u", "p") is None


@pytest.mark.parametrize(
    "vendor, given, announced",
    [("snom", "D785", "snomD785"), ("snom", "snomD785", "snomD785"), ("snom", "SNOMD785", "SNOMD785"), ("yealink", "T46S", "T46S")],
)
def test_catalog_model_names_are_announced_as_the_phone_does(vendor, given, announced):
    assert pnp.announced_model(vendor, given) == announced
    agent = pnp.user_agent(vendor, "http", "000413aabbcc", pnp.announced_model(vendor, given), "10.1")
    assert re.search(_catalog_data.VENDORS[vendor]["user_agent"], agent, re.I), agent
