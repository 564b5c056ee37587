"""Yealink YMCS Open API v2: the client (_rps/yealink_ymcs.py) against its contract server (tests/rps_servers/yealink_ymcs.py).

In-process over loopback HTTP; the engine's run() drives the client as the module does.
"""

from __future__ import annotations

import json
import time
import uuid

import pytest
import requests
from rps_servers.common import json_reply
from rps_servers.yealink_ymcs import YealinkYmcsFake, YmcsError

from ansible_collections.pbxops.autoprov.plugins.module_utils._rps import engine as _rps
from ansible_collections.pbxops.autoprov.plugins.module_utils._rps import yealink_ymcs as _ymcs

MACS = ["00:15:65:aa:00:01", "80:5e:c0:aa:00:02", "00:15:65:aa:00:03"]
URL_A, URL_B = "https://192.0.2.10/p/Zt4kq/", "https://192.0.2.20/p/Zt4kq/"
URL_PASSWORD = "phones-http-S3cr3t"


@pytest.fixture
def fake():
    server = YealinkYmcsFake()
    yield server
    server.close()


def params(fake, macs=None, **options):
    """rps_devices' parameters as the module hands them over (literal addresses: no DNS lookups)."""
    macs = MACS if macs is None else macs
    base = dict(
        vendor="yealink_ymcs",
        devices=[{"mac": m} for m in macs],
        url=URL_A,
        url_username="phones",
        url_password=URL_PASSWORD,
        update_password="on_create",
        credentials={"client_id": fake.client_id, "client_secret": fake.client_secret},
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


def raw(fake, method, path, body=b"{}", token=None, nonce=None, **headers):
    """One request as a client would send it, for the contract server's own rules."""
    sent = {"timestamp": str(int(time.time() * 1000)), "nonce": nonce or uuid.uuid4().hex, "Content-Type": "application/json"}
    if token:
        sent["Authorization"] = "Bearer " + token
    sent.update(headers)
    return requests.request(method, fake.base + path, data=body, headers=sent, timeout=5)


def token_of(fake):
    answer = raw(
        fake, "POST", "/v2/token", b'{"grant_type":"client_credentials"}', Authorization=fake.basic(fake.client_id, fake.client_secret)
    )
    assert answer.status_code == 200 and answer.json()["token_type"] == "bearer"
    return answer.json()["access_token"]


# Where the service is.


def test_region_or_api_url_gives_the_service():
    assert _ymcs.YealinkYmcsClient.service_url({"region": "EU"}) == "https://eu-api.ymcs.yealink.com"
    assert _ymcs.YealinkYmcsClient.service_url({}) is None
    assert _ymcs.YealinkYmcsClient.input_problems({"region": "us"}, None, None) == []
    assert _ymcs.YealinkYmcsClient.input_problems({}, "https://ymcs.example.net", None) == []
    (missing,) = _ymcs.YealinkYmcsClient.input_problems({}, None, None)
    assert "needs the account's region (au, eu, us: the Domain shown at System > Integration > API), or api_url" in missing
    (wrong,) = _ymcs.YealinkYmcsClient.input_problems({"region": "cn"}, None, None)
    assert "'cn' is not a YMCS region; valid: au, eu, us" in wrong


def test_bad_input_sends_nothing(fake):
    for options, words in [
        (dict(api_url=None), "credentials.region: yealink_ymcs needs the account's region"),
        (dict(credentials={"client_id": "x"}), "credentials: yealink_ymcs needs credentials.client_secret"),
        (dict(server_name="autoprov-site"), "yealink_ymcs server names are at most 20 characters"),
        (dict(url_username="u" * 33), "url_username: 33 characters; yealink_ymcs keeps at most 32"),
    ]:
        with pytest.raises(_rps.InputError) as problem:
            run(fake, **options)
        assert words in "; ".join(problem.value.args[0])
    assert fake.log == []


# Token.


def test_one_token_for_the_whole_run_and_every_request_with_fresh_headers(fake):
    result = run(fake)
    assert set(actions(result).values()) == {"registered"} and len(fake.issued) == 1
    assert result["api_stats"]["requests"] == len(fake.calls) + 1  # the token call, then the RPS calls
    assert len(fake.nonces) == result["api_stats"]["requests"]


def test_the_token_is_renewed_before_it_expires(fake, monkeypatch):
    """expires_in runs out between two calls of one run: the client asks for a new token first (no 401)."""
    clock = [1000.0]
    monkeypatch.setattr(_ymcs, "monotonic", lambda: clock[0])
    original = fake.list_servers

    def later(body):
        clock[0] += fake.expires_in - 30  # within RENEW_EARLY of the end
        return original(body)

    fake.routes[("POST", "/v2/rps/listServers")] = later
    result = run(fake)
    assert not result.get("failed") and len(fake.issued) == 2
    assert result["api_stats"]["requests"] == len(fake.calls) + 2  # two token calls, no refused request


def test_a_token_refused_mid_run_is_renewed_once_and_the_call_repeated(fake):
    fake.revoke_after = 2  # the third RPS call finds every token revoked
    result = run(fake)
    assert set(actions(result).values()) == {"registered"} and not result.get("failed")
    assert len(fake.issued) == 2 and result["api_stats"]["requests"] == len(fake.calls) + 2 + 1


def test_a_second_401_fails_the_account_without_showing_a_secret(fake, monkeypatch):
    monkeypatch.setattr(fake, "bearer_problem", lambda request: fake.fail(401, "900401", "Not logged in or session expired"))
    result = run(fake)
    assert result["failed"] and "HTTP 401 900401 Not logged in or session expired" in result["msg"]
    assert len(fake.issued) == 2 and fake.calls == []
    for secret in [fake.client_secret, URL_PASSWORD, *fake.issued]:
        assert secret not in json.dumps(result)


def test_wrong_client_secret_is_named_as_such(fake):
    result = run(fake, credentials={"client_id": fake.client_id, "client_secret": "wrong-secret-123"})
    assert result["failed"] and "YMCS refused the client credentials (HTTP 401: Invalid request header)" in result["msg"]
    assert "wrong-secret-123" not in result["msg"] and fake.issued == []


# Register, rerun, move, unregister.


def test_register_rerun_move_and_unregister_make_only_the_calls_needed(fake):
    first = run(fake)
    assert set(actions(first).values()) == {"registered"}
    assert fake.calls == [
        ("POST", "/v2/rps/listServers"),
        ("POST", "/v2/rps/listDevices"),
        ("POST", "/v2/rps/servers"),
        ("POST", "/v2/rps/addDevicesByMac"),
    ]
    (server,) = fake.servers.values()
    assert len(server["serverName"]) == 20 and (server["url"], server["authName"], server["password"]) == (URL_A, "phones", URL_PASSWORD)
    assert all(fake.url_of(m.replace(":", "")) == URL_A for m in MACS)

    again = run(fake)
    assert again["changed"] is False and fake.calls == [("POST", "/v2/rps/listServers"), ("POST", "/v2/rps/listDevices")]

    moved = run(fake, url=URL_B)
    assert {(r["action"], r["before"], r["after"]) for r in moved["results"]} == {("updated", URL_A, URL_B)}
    assert fake.calls[2] == ("POST", "/v2/rps/servers") and [c[0] for c in fake.calls[3:]] == ["PATCH"] * 3
    assert all(fake.url_of(m.replace(":", "")) == URL_B for m in MACS)

    gone = run(fake, state="absent")
    assert set(actions(gone).values()) == {"unregistered"} and fake.calls[-1] == ("POST", "/v2/rps/delDevices")
    assert fake.ours() == {} and run(fake, state="absent")["changed"] is False


def test_batches_of_at_most_100(fake, monkeypatch):
    sizes = []
    original = fake.add_by_mac
    fake.routes[("POST", "/v2/rps/addDevicesByMac")] = lambda body: sizes.append(len(body)) or original(body)
    macs = ["00:15:65:cc:%02x:%02x" % (n // 256, n % 256) for n in range(150)]
    result = run(fake, macs=macs)
    assert set(actions(result).values()) == {"registered"} and sizes == [100, 50]
    gone = run(fake, macs=macs, state="absent")
    assert set(actions(gone).values()) == {"unregistered"} and fake.calls.count(("POST", "/v2/rps/delDevices")) == 2


# Per MAC: another account's MAC, a MAC YMCS refuses, adding by MAC not enabled.


def test_another_accounts_mac_and_a_refused_mac_fail_alone(fake):
    fake.give_to_other_account("805ec0aa0002")
    result = run(fake, macs=MACS + ["00:0b:82:00:00:09"])
    assert actions(result) == {MACS[0]: "registered", MACS[1]: "failed", MACS[2]: "registered", "00:0b:82:00:00:09": "failed"}
    messages = {r["mac"]: r["message"] for r in result["results"]}
    assert messages[MACS[1]] == "Device already managed by another organization" and messages["00:0b:82:00:00:09"] == "device.mac.invalid"
    assert fake.devices["805ec0aa0002"] == {"owner": "other"}


def test_a_whole_call_refusal_is_retried_mac_by_mac(fake):
    """If YMCS refuses the whole batch (400 800004, as one public simulator models it), each MAC is asked alone."""
    original = fake.add_by_mac

    def whole(body):
        if any("owner" in fake.devices.get(item["mac"], {}) for item in body):
            raise YmcsError(400, "800004", "Device already managed by another organization")
        return original(body)

    fake.routes[("POST", "/v2/rps/addDevicesByMac")] = whole
    fake.give_to_other_account("805ec0aa0002")
    result = run(fake)
    assert actions(result) == {MACS[0]: "registered", MACS[1]: "failed", MACS[2]: "registered"}
    assert result["results"][1]["message"] == "800004 Device already managed by another organization"
    assert fake.calls.count(("POST", "/v2/rps/addDevicesByMac")) == 4


def test_adding_by_mac_not_enabled_is_reported_with_what_to_do(fake):
    fake.mac_only_enabled = False
    devices = [{"mac": MACS[0]}, {"mac": MACS[1], "serial": "801234567890123"}]
    result = _rps.run(dict(params(fake), devices=devices), False)
    assert actions(result) == {MACS[0]: "failed", MACS[1]: "registered"}
    message = result["results"][0]["message"]
    assert message.startswith("YMCS refused adding devices by MAC alone (addDevicesByMac, HTTP 403 900403 This request is forbidden)")
    assert "Ask Yealink support to enable" in message and "devices[].serial" in message
    assert fake.devices["805ec0aa0002"]["sn"] == "801234567890123"


def test_a_delete_counted_as_failed_is_read_back(fake):
    run(fake)
    original = fake.del_devices

    def also_reports(body):
        reply = json.loads(original(body).body)
        reply["errors"].append({"field": body["deviceIds"][0], "msg": "already gone"})
        reply["failureCount"] += 1
        return json_reply(200, reply)

    fake.routes[("POST", "/v2/rps/delDevices")] = also_reports
    result = run(fake, state="absent", macs=MACS[:2])
    assert set(actions(result).values()) == {"unregistered"} and not result.get("failed")

    kept = fake.ours()["001565aa0003"]["id"]
    fake.routes[("POST", "/v2/rps/delDevices")] = lambda body: json_reply(
        200, {"total": 1, "successCount": 0, "failureCount": 1, "errors": [{"field": kept, "msg": "device is locked"}]}
    )
    result = run(fake, state="absent", macs=MACS[2:])
    assert actions(result) == {MACS[2]: "failed"} and result["results"][0]["message"] == "device is locked"


def test_a_device_with_its_own_url_gets_ours(fake):
    fake.devices["001565aa0001"] = {"id": "d1", "mac": "001565aa0001", "uniqueServerUrl": "https://old.example.net/", "added": 0}
    result = run(fake, macs=MACS[:1])
    assert result["results"][0]["before"] == "https://old.example.net/" and ("GET", "/v2/rps/devices/d1") in fake.calls
    assert fake.url_of("001565aa0001") == URL_A and fake.devices["001565aa0001"]["authName"] == "phones"
    assert run(fake, macs=MACS[:1])["changed"] is False


# PINs.


def test_pins_only_when_asked_and_kept_out_of_messages(fake):
    fake.pins.update({"001565aa0001": "734119", "805ec0aa0002": "220573"})
    assert "pin" not in run(fake)["results"][0] and ("POST", "/v2/rps/listDevicePins") not in fake.calls
    result = run(fake, return_pins=True)
    assert [r["pin"] for r in result["results"]] == ["734119", "220573", None]
    client, scrub = _rps._connect(params(fake), _ymcs.YealinkYmcsClient, params(fake)["credentials"], {}, {})
    client.lookup([m.replace(":", "") for m in MACS])
    client.pins(["001565aa0001"])
    assert scrub("the PIN 734119") == "the PIN ********"
    with pytest.raises(_rps.InputError, match=r"return_pins: yealink gives no device PINs \(yealink_ymcs does\)"):
        _rps.run(dict(params(fake), vendor="yealink", credentials={"key_id": "k", "secret": "s"}, return_pins=True), False)


# The contract server's own rules.


def test_contract_server_enforces_the_headers_the_token_and_the_paths(fake):
    token = token_of(fake)
    listing = b'{"skip":0,"limit":10,"autoCount":true,"filter":{}}'
    assert raw(fake, "POST", "/v2/rps/listDevices", listing, token=token).json() == {"skip": 0, "limit": 10, "data": None, "total": 0}
    replay = raw(fake, "POST", "/v2/rps/listDevices", listing, token=token, nonce="n" * 32)
    assert replay.status_code == 200
    replay = raw(fake, "POST", "/v2/rps/listDevices", listing, token=token, nonce="n" * 32)
    assert (replay.status_code, replay.json()["code"], replay.json()["message"]) == (403, "500403", "Request reply")
    assert set(replay.json()) == {"code", "requestId", "message", "details"}
    assert raw(fake, "POST", "/v2/rps/listDevices", listing, token=token, nonce="x" * 33).json()["code"] == "500401"
    assert raw(fake, "POST", "/v2/rps/listDevices", b"", token=token).json()["code"] == "900444"
    assert raw(fake, "POST", "/v2/rps/listDevices", b'{"skip":0,"limit":10}', token=token).json()["message"] == "filter: Cannot be null"
    assert raw(fake, "POST", "/v2/rps/listDevices", listing).json()["code"] == "900401"
    assert raw(fake, "POST", "/v2/rps/checkMac", listing, token=token).status_code == 404
    assert raw(fake, "DELETE", "/v2/rps/servers/abc", b"", token=token).status_code == 405
    too_many = json.dumps([{"mac": "001565dd%04x" % n} for n in range(101)]).encode()
    assert raw(fake, "POST", "/v2/rps/addDevicesByMac", too_many, token=token).json()["code"] == "800006"
    wrapped = raw(fake, "POST", "/v2/rps/addDevicesByMac", b'{"devices":[{"mac":"001565dd0001"}]}', token=token)
    assert wrapped.status_code == 412
    patch = raw(fake, "PATCH", "/v2/rps/servers/abc", b'{"serverName":"x"}', token=token)
    assert patch.status_code == 400
    fake.expire_tokens()
    assert raw(fake, "POST", "/v2/rps/listDevices", listing, token=token).status_code == 401
    bad = raw(fake, "POST", "/v2/token", b'{"grant_type":"password"}', Authorization=fake.basic(fake.client_id, fake.client_secret))
    assert bad.json()["code"] == "70011"


# Transport.


def test_429_5xx_and_a_stall_are_retried_each_with_a_fresh_nonce(fake):
    """The token call and the RPS calls meet 429, 500, 503 and a stall; YMCS spends the nonce of a request that
    failed (a replay answers 403 500403), so only fresh headers on each attempt get through."""
    fake.fail_next(429, 500, retry_after=0)
    fake.stall_next(1)
    fake.fail_next(503)
    result = run(fake, timeout=0.5, retries=5)
    assert not result.get("failed"), result.get("msg")
    assert set(actions(result).values()) == {"registered"} and all(fake.url_of(m.replace(":", "")) == URL_A for m in MACS)
    stats = result["api_stats"]
    assert (stats["throttled"], stats["server_errors"], stats["timeouts"], stats["retries"]) == (1, 2, 1, 4)
    assert len(fake.nonces) == stats["requests"] and len(fake.issued) == 1
    for secret in [fake.client_secret, URL_PASSWORD, *fake.issued]:
        assert secret not in json.dumps(result)


def test_a_service_that_keeps_stalling_fails_the_task_after_its_retries(fake):
    fake.stall_next(2)
    result = run(fake, timeout=0.3, retries=1)
    assert result["failed"] and "no answer within 0.3s, 2 attempts" in result["msg"] and result["results"] == []
    assert fake.devices == {} and fake.issued == []
