"""Yealink RPS JSON API v1: the client (_rps/yealink.py) against its contract server (tests/rps_servers/yealink.py).

In-process over loopback HTTP; the engine's run() drives the client as the module does.
"""

from __future__ import annotations

import json

import pytest
import requests
from rps_servers.common import Request, json_reply
from rps_servers.yealink import YealinkFake

from ansible_collections.pbxops.autoprov.plugins.module_utils._rps import engine as _rps
from ansible_collections.pbxops.autoprov.plugins.module_utils._rps import yealink as _yealink

MACS = ["00:15:65:aa:00:01", "80:5e:c0:aa:00:02", "00:15:65:aa:00:03"]
URL_A, URL_B = "https://192.0.2.10/p/Zt4kq/", "https://192.0.2.20/p/Zt4kq/"
URL_PASSWORD = "phones-http-S3cr3t"


@pytest.fixture
def fake():
    server = YealinkFake()
    yield server
    server.close()


def params(fake, macs=None, **options):
    """rps_devices' parameters as the module hands them over (literal addresses: no DNS lookups)."""
    macs = MACS if macs is None else macs
    base = dict(
        vendor="yealink",
        devices=[{"mac": m} for m in macs],
        url=URL_A,
        url_username="phones",
        url_password=URL_PASSWORD,
        update_password="on_create",
        credentials={"key_id": fake.key, "secret": fake.secret},
        api_url=fake.base,
        server_name="autoprov",
        state="present",
        validate_certs=True,
        ca_path=None,
        timeout=5,
        retries=2,
        retry_backoff=0.01,
        max_retry_wait=0.1,
        allow_private_url=True,
        allow_plain_http=False,
        return_pins=False,
    )
    base.update(options)
    return base


def run(fake, check_mode=False, **options):
    fake.calls.clear()
    return _rps.run(params(fake, **options), check_mode)


def actions(result):
    return {r["mac"]: r["action"] for r in result["results"]}


# Signing.


def test_signature_matches_yealinks_published_examples():
    """The two signing examples for Yealink's published test key (RpsJsonOpenApiDemo Constant.java: key id and
    secret; the timestamps, nonces and expected values as fspbx's test quotes them from Yealink)."""
    key, secret = "2df23f2d9c255e7138dc603b3847b58a", "d4a4be460a8d43609d8e8a5e7d0d4ad1"
    body = b'{"key":"TestServer","skip":0}'
    headers = _yealink.sign(
        secret, "POST", "/api/open/v1/server/list", body, key=key, nonce="b681e77450a04d22aaffc914a3379561", timestamp=1544008291631
    )
    assert headers["Content-MD5"] == "SsPhq3/DEuS3yHj3kYOV9w=="
    assert headers["X-Ca-Signature"] == "JVPj8C4CVKbFJW6A33yZcdSsde7Hfxy9EoJiE0epeKM="
    headers = _yealink.sign(
        secret,
        "GET",
        "/api/open/v1/device/checkMac",
        key=key,
        nonce="9e730a223b48433785494801fb016d39",
        timestamp=1544094691000,
        query={"mac": "001565123123"},
    )
    assert "Content-MD5" not in headers
    assert headers["X-Ca-Signature"] == "+speRmYv89rutzPc9u5Ij1JrtnrUw7nhJnqQfD1h5AU="


def test_a_blank_query_value_is_signed_as_its_name_alone():
    headers = {"X-Ca-Key": "k", "X-Ca-Nonce": "n", "X-Ca-Timestamp": "1"}
    text = _yealink.string_to_sign("GET", "/api/open/v1/x", headers, {"b": "", "a": "1", "c": " "})
    assert text == "GET\nX-Ca-Key:k\nX-Ca-Nonce:n\nX-Ca-Timestamp:1\napi/open/v1/x\na=1&b&c"
    assert _yealink.string_to_sign("GET", "/x", headers).endswith("\nx")  # no query: no line for it


def test_contract_server_checks_the_query_in_the_signature(fake):
    path = "/api/open/v1/device/checkMac"
    headers = _yealink.sign(fake.secret, "GET", path, key=fake.key, query={"mac": "001565aa0001"})
    assert fake.check_signature(Request("GET", path + "?mac=001565aa0001", headers, b"", "")) is None
    headers = _yealink.sign(fake.secret, "GET", path, key=fake.key, query={"mac": "001565aa0001"})
    assert fake.check_signature(Request("GET", path + "?mac=001565aa0002", headers, b"", "")) == "signature mismatch"


# The answer envelope.


def test_error_words_come_from_error_errors_and_field_errors():
    assert _yealink.error_text({"ret": -1, "error": {"msg": "device.mac.added.by.other", "errorCode": 409}}) == (
        "device.mac.added.by.other (409)"
    )
    assert _yealink.error_text({"ret": -1, "errors": {"msg": None, "fieldErrors": [{"msg": "a"}, {"msg": "b"}]}}) == "a, b"
    assert _yealink.explain("device.mac.added.by.other (409)").startswith("registered to another enterprise")


def test_ret_0_is_success_and_ret_minus_1_a_refusal_with_http_200(fake):
    client = _yealink.YealinkClient(_rps._rps_base.Http(), fake.base, {"key_id": fake.key, "secret": fake.secret}, {})
    with pytest.raises(_yealink.Refusal) as refused:
        client._post("device/delete", {"ids": ["nope"]})
    assert refused.value.text == "device.not.found (400)" and refused.value.data == "nope"
    fake.servers["s1"] = {"id": "s1", "serverName": "x", "url": "https://x/", "authName": "", "password": ""}
    assert client._post("server/delete", {"ids": ["s1"]}) is None and fake.servers == {}


# Register, rerun, move, unregister: the calls made.


def test_register_rerun_move_and_unregister_make_only_the_calls_needed(fake):
    first = run(fake)
    assert set(actions(first).values()) == {"registered"} and not first.get("failed")
    assert fake.calls[:2] == [("POST", "server/list"), ("POST", "device/list")]
    assert fake.calls.count(("GET", "device/checkMac")) == 3 and fake.calls[-2:] == [("POST", "server/add"), ("POST", "device/add")]
    (server,) = fake.servers.values()
    assert len(server["serverName"]) == 20 and server["url"] == URL_A and server["authName"] == "phones"
    assert all(fake.url_of(m.replace(":", "")) == URL_A for m in MACS)

    again = run(fake)
    assert set(actions(again).values()) == {"unchanged"} and again["changed"] is False
    assert fake.calls == [("POST", "server/list"), ("POST", "device/list")]  # reads only

    preview = run(fake, check_mode=True, url=URL_B)
    assert set(actions(preview).values()) == {"updated"} and fake.calls == [("POST", "server/list"), ("POST", "device/list")]
    moved = run(fake, url=URL_B)
    assert {r["before"] for r in moved["results"]} == {URL_A} and {r["after"] for r in moved["results"]} == {URL_B}
    assert fake.calls[2:] == [("POST", "server/add"), ("POST", "device/migrate")]
    assert all(fake.url_of(m.replace(":", "")) == URL_B for m in MACS)

    gone = run(fake, state="absent")
    assert set(actions(gone).values()) == {"unregistered"}
    assert fake.calls == [("POST", "server/list"), ("POST", "device/list"), ("POST", "device/delete")]
    assert fake.ours() == {}
    again = run(fake, state="absent")
    assert again["changed"] is False and fake.calls == [("POST", "server/list"), ("POST", "device/list")]


def test_a_large_account_is_searched_per_mac_instead_of_listed(fake):
    for n in range(250):
        mac = "001565bb%04x" % n
        fake.devices[mac] = {"id": "id%d" % n, "mac": mac}
    result = run(fake, macs=["00:15:65:bb:00:07"], state="absent")
    assert actions(result) == {"00:15:65:bb:00:07": "unregistered"}
    assert fake.calls.count(("POST", "device/list")) == 2  # the first page, then one search; not all 3 pages
    assert len(fake.devices) == 249


# A MAC of another enterprise, a MAC the RPS refuses: reported per MAC, the others go through.


def test_another_enterprises_mac_found_by_check_mac(fake):
    fake.give_to_other_account("805ec0aa0002")
    result = run(fake)
    assert actions(result) == {MACS[0]: "registered", MACS[1]: "failed", MACS[2]: "registered"}
    assert "another enterprise" in result["results"][1]["message"] and MACS[1] in result["msg"]
    assert fake.devices["805ec0aa0002"] == {"owner": "other"}


def test_a_refused_mac_in_a_batch_is_set_aside_and_the_rest_sent_again(fake, monkeypatch):
    """device/add refuses the whole call (ret -1, HTTP 200) naming one MAC in data; that MAC fails alone."""
    fake.give_to_other_account("805ec0aa0002")
    monkeypatch.setattr(fake, "device_checkMac", lambda body: fake.ok({"existed": False, "self": False}))  # it changed hands since
    result = run(fake, macs=MACS + ["00:0b:82:00:00:09"])
    assert actions(result) == {MACS[0]: "registered", MACS[1]: "failed", MACS[2]: "registered", "00:0b:82:00:00:09": "failed"}
    messages = {r["mac"]: r["message"] for r in result["results"]}
    assert (
        messages[MACS[1]] == "registered to another enterprise at the Yealink RPS; release it there first: device.mac.added.by.other (409)"
    )
    assert messages["00:0b:82:00:00:09"] == "the RPS does not take this MAC: device.mac.invalid (400)"
    assert fake.calls.count(("POST", "device/add")) == 3


def test_a_refusal_that_names_no_mac_is_retried_mac_by_mac(fake, monkeypatch):
    original = fake.device_add

    def anonymous(body):
        reply = original(body)
        answer = json.loads(reply.body)
        return json_reply(200, dict(answer, data=None)) if answer["ret"] < 0 else reply

    monkeypatch.setattr(fake, "device_add", anonymous)
    result = run(fake, macs=[MACS[0], "00:0b:82:00:00:09", MACS[2]])
    assert actions(result) == {MACS[0]: "registered", "00:0b:82:00:00:09": "failed", MACS[2]: "registered"}
    assert fake.calls.count(("POST", "device/add")) == 4  # the batch, then each MAC


def test_an_add_retried_after_a_lost_answer_counts_as_done(fake, monkeypatch):
    """The first device/add went through but its answer was a 502; the retry answers device.mac.existed."""
    original, lost = fake.device_add, []

    def lose_first_answer(body):
        reply = original(body)
        if not lost:
            lost.append(True)
            return json_reply(502, {"message": "bad gateway"})
        return reply

    monkeypatch.setattr(fake, "device_add", lose_first_answer)
    result = run(fake)
    assert set(actions(result).values()) == {"registered"} and not result.get("failed")
    assert result["api_stats"]["server_errors"] == 1 and result["api_stats"]["retries"] == 1


# Devices that carry their own URL, server records, input limits.


def test_a_device_with_its_own_url_is_read_and_set_on_the_device(fake):
    fake.devices["001565aa0001"] = {"id": "d1", "mac": "001565aa0001", "uniqueServerUrl": "https://old.example.net/", "authName": "x"}
    result = run(fake, macs=MACS[:1])
    assert result["results"][0]["before"] == "https://old.example.net/" and result["results"][0]["action"] == "updated"
    assert ("GET", "device/detail") in fake.calls and ("POST", "device/edit") in fake.calls
    assert fake.url_of("001565aa0001") == URL_A and fake.devices["001565aa0001"]["authName"] == "phones"
    assert run(fake, macs=MACS[:1])["changed"] is False


def test_server_name_and_field_limits_are_checked_before_anything_is_sent(fake):
    for options, words in [
        (dict(server_name="autoprov-site"), "'autoprov-site' is too long: yealink server names are at most 20 characters"),
        (dict(server_name="pbx/1"), "server names hold only A-Z a-z 0-9 space . _ -"),
        (dict(url_username="u" * 33), "url_username: 33 characters; yealink keeps at most 32"),
        (dict(url_password="p" * 33), "url_password: 33 characters; yealink keeps at most 32"),
    ]:
        with pytest.raises(_rps.InputError) as problem:
            run(fake, **options)
        assert words in "; ".join(problem.value.args[0])
    assert fake.log == []


def test_a_server_name_another_enterprise_holds_is_explained(fake):
    name = _rps._rps_base.server_name_for(URL_A, "phones", "autoprov", 20)
    fake.taken_names.add(name)
    result = run(fake)
    assert result["failed"] and "server/add %r refused: server.serverName.existed" % name in result["msg"]
    assert "another server_name prefix" in result["msg"] and URL_PASSWORD not in result["msg"]


def test_a_changed_server_record_is_corrected(fake):
    run(fake, macs=MACS[:1])
    (server,) = fake.servers.values()
    server["url"] = "https://hijacked.example.net/"
    result = run(fake, macs=MACS[:1])
    assert result["results"][0]["action"] == "updated" and ("POST", "server/edit") in fake.calls
    assert server["url"] == URL_A and ("POST", "device/migrate") not in fake.calls


# The contract server answers unknown calls as a service would.


def test_contract_server_refuses_calls_and_fields_no_public_source_shows(fake):
    client = _yealink.YealinkClient(_rps._rps_base.Http(), fake.base, {"key_id": fake.key, "secret": fake.secret}, {})
    for method, action, status in [("POST", "device/checkRegistered", 404), ("GET", "device/list", 405)]:
        path = "/api/open/v1/" + action
        body = b"{}" if method == "POST" else None
        headers = _yealink.sign(fake.secret, method, path, body, key=fake.key)
        headers["Content-Type"] = "application/json"
        response = requests.request(method, fake.base + path, data=body, headers=headers, timeout=5)
        assert response.status_code == status and response.json()["ret"] == -1
    with pytest.raises(_yealink.Refusal, match="request.param.invalid"):
        client._post("device/migrate", {"macs": ["001565aa0001"], "serverId": "x"})
    unsigned = requests.post(fake.base + "/api/open/v1/server/list", json={}, timeout=5)
    assert unsigned.status_code == 401


# Transport.


def test_429_5xx_and_a_stall_are_retried_each_signed_afresh(fake):
    """The contract server spends the nonce of a request that failed, so a retry that resent the same signed
    headers would be refused as a replay; the run goes through and counts each fault."""
    fake.fail_next(429, 500, 503, retry_after=0)
    fake.stall_next(1)
    result = run(fake, timeout=0.5, retries=5)
    assert not result.get("failed"), result.get("msg")
    assert set(actions(result).values()) == {"registered"} and all(fake.url_of(m.replace(":", "")) == URL_A for m in MACS)
    stats = result["api_stats"]
    assert (stats["throttled"], stats["server_errors"], stats["timeouts"], stats["retries"]) == (1, 2, 1, 4)
    assert len(fake.nonces) == stats["requests"]  # every attempt had a nonce of its own
    assert fake.secret not in json.dumps(result) and URL_PASSWORD not in json.dumps(result)


def test_a_service_that_keeps_stalling_fails_the_task_after_its_retries(fake):
    fake.stall_next(2)
    result = run(fake, timeout=0.3, retries=1)
    assert result["failed"] and "no answer within 0.3s, 2 attempts" in result["msg"] and result["results"] == []
    assert fake.devices == {}
