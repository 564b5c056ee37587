"""Units of rps_devices: signing, the public-URL rule, planning, retries (in-process, loopback only)."""

from __future__ import annotations

import email.utils
import json
import time

import pytest
from rps_servers.common import Request
from rps_servers.poly import PolyFake
from rps_servers.yealink import YealinkFake

from ansible_collections.pbxops.autoprov.plugins.module_utils import _urls
from ansible_collections.pbxops.autoprov.plugins.module_utils._rps import base as _rps_base
from ansible_collections.pbxops.autoprov.plugins.module_utils._rps import engine as _rps
from ansible_collections.pbxops.autoprov.plugins.module_utils._rps import yealink as _rps_yealink

Found, Target = _rps_base.Found, _rps_base.Target
TARGET = Target("https://pbx.example.net/p/", "phones", "pw", "autoprov-x")


@pytest.fixture
def yealink():
    fake = YealinkFake()
    yield fake
    fake.close()


def signed_request(fake, body, secret=None, nonce=None):
    path = "/api/open/v1/server/list"
    headers = _rps_yealink.sign(secret or fake.secret, "POST", path, body, key=fake.key, nonce=nonce)
    return Request("POST", path, headers, body, fake.base + path)


def test_yealink_signature_is_accepted_by_the_contract_server(yealink):
    assert yealink.check_signature(signed_request(yealink, b'{"limit":1,"skip":0}')) is None


def test_yealink_signature_refused_for_wrong_secret_tampered_body_and_replay(yealink):
    assert yealink.check_signature(signed_request(yealink, b"{}", secret="wrong")) == "signature mismatch"
    tampered = signed_request(yealink, b'{"skip":0}')
    tampered.body = b'{"skip":1}'
    assert yealink.check_signature(tampered) == "Content-MD5 does not match the body"
    assert yealink.check_signature(signed_request(yealink, b"{}", nonce="n1")) is None
    assert "replay" in yealink.check_signature(signed_request(yealink, b"{}", nonce="n1"))


def test_string_to_sign_layout():
    headers = {"X-Ca-Key": "k", "X-Ca-Nonce": "n", "X-Ca-Timestamp": "1", "Content-MD5": "bWQ1"}
    assert _rps_yealink.string_to_sign("post", "/api/open/v1/device/add", headers) == (
        "POST\nContent-MD5:bWQ1\nX-Ca-Key:k\nX-Ca-Nonce:n\nX-Ca-Timestamp:1\napi/open/v1/device/add"
    )
    del headers["Content-MD5"]
    assert _rps_yealink.string_to_sign("GET", "/x", headers, {"b": "2", "a": "1"}).endswith("\nx\na=1&b=2")


@pytest.mark.parametrize(
    "url, problem",
    [
        ("https://192.0.2.10/p/", "reserved address"),
        ("https://10.1.2.3/p/", "private"),
        ("https://127.0.0.1/p/", "private, loopback"),
        ("https://[::1]/p/", "private, loopback"),
        ("https://169.254.1.1/p/", "link-local"),
        ("https://localhost/p/", "localhost resolves to"),
        ("http://8.8.8.8/p/", "plain HTTP without authentication"),
        ("ftp://8.8.8.8/p/", "not an http:// or https:// URL"),
        ("https://u:p@8.8.8.8/p/", "url_username / url_password"),
    ],
)
def test_public_url_rule_refuses(url, problem):
    problems, _warnings = _rps.check_public_url(url, has_auth=False, allow_private=False, allow_plain_http=False)
    assert any(problem in p for p in problems), problems


def test_public_url_rule_accepts_public_https_http_with_auth_and_opt_outs():
    assert _rps.check_public_url("https://8.8.8.8/p/", False, False, False) == ([], [])
    assert _rps.check_public_url("http://8.8.8.8/p/", True, False, False) == ([], [])
    assert _rps.check_public_url("http://10.0.0.1/p/", False, True, True)[0] == []
    problems, warnings = _rps.check_public_url("https://pbx.invalid/p/", False, False, False)
    assert problems == [] and "does not resolve" in warnings[0]


def test_plan():
    macs = ["a", "b", "c", "d", "e"]
    found = {
        "a": Found("ours", url=TARGET.url, username="phones"),
        "b": Found("ours", url="https://old.example.net/", username="phones"),
        "c": Found("foreign", message="theirs"),
        "d": Found("invalid", message="bad"),
    }
    plan = _rps.plan("present", macs, found, dict.fromkeys(macs, TARGET), "on_create")
    assert {m: a for m, (a, _msg) in plan.items()} == {"a": "keep", "b": "move", "c": "fail", "d": "fail", "e": "register"}
    assert "theirs" in plan["c"][1] and "bad" in plan["d"][1]
    assert _rps.plan("present", ["a"], found, {"a": TARGET}, "always")["a"][0] == "move"
    absent = _rps.plan("absent", macs, found, dict.fromkeys(macs), "on_create")
    assert {m: a for m, (a, _msg) in absent.items()} == {"a": "unregister", "b": "unregister", "c": "keep", "d": "keep", "e": "keep"}


def test_url_credentials_roundtrip_and_scrubber():
    url = _urls.with_credentials("https://pbx.example.net:8443/p/?x=1", "ph one", "p@ss:w/rd")
    assert url == "https://ph%20one:p%40ss%3Aw%2Frd@pbx.example.net:8443/p/?x=1"
    assert _urls.split_credentials(url) == ("https://pbx.example.net:8443/p/?x=1", "ph one", "p@ss:w/rd")
    assert _rps.Scrubber(["p@ss:w/rd", None, "ab"])("x p@ss:w/rd ab") == "x ******** ab"


def test_retry_after_forms():
    assert _rps_base.retry_after("7") == 7
    later = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 25 < _rps_base.retry_after(later) <= 30
    assert _rps_base.retry_after("soon") is None and _rps_base.retry_after(None) is None


@pytest.fixture
def poly():
    fake = PolyFake()
    yield fake
    fake.close()


def test_http_retries_429_and_5xx_then_succeeds(poly):
    http = _rps_base.Http(retries=3, backoff=0.01)
    poly.fail_next(429, retry_after=0)
    poly.fail_next(503)
    response = http.request("GET", poly.base + "/v1/profiles", headers={"API-KEY": poly.api_key})
    assert response.status_code == 200 and json.loads(response.text)["results"] == []
    assert http.stats == {"requests": 3, "retries": 2, "throttled": 1, "server_errors": 1, "timeouts": 0, "connection_errors": 0}


def test_http_gives_up_with_the_last_answer(poly):
    http = _rps_base.Http(retries=1, backoff=0.01)
    poly.fail_next(500, 500)
    with pytest.raises(_rps_base.RpsError, match=r"HTTP 500 .* after 2 attempts"):
        http.request("GET", poly.base + "/v1/profiles")


def test_http_timeout_is_reported_not_raised_raw(poly):
    http = _rps_base.Http(retries=1, backoff=0.01, timeout=0.3)
    poly.stall_next(2)
    with pytest.raises(_rps_base.RpsError, match=r"no answer within 0.3s, 2 attempts"):
        http.request("GET", poly.base + "/v1/profiles")
    assert http.stats["timeouts"] == 2


def test_client_resolution_through_the_catalog_rps_key(monkeypatch):
    from ansible_collections.pbxops.autoprov.plugins.module_utils._catalog import catalog as _catalog

    assert _rps.client_for("Yealink").vendor == "yealink"
    assert _rps.client_for("gigaset").vendor == "gigaset"  # not in the catalog: the client registry by name
    no_rps = _catalog.VENDORS["yealink"]._replace(key="acme", name="Acme", rps=None, pnp_names=())
    renamed = _catalog.VENDORS["yealink"]._replace(key="snomish", name="Snomish", rps="snom", pnp_names=())
    monkeypatch.setitem(_catalog.VENDORS, "acme", no_rps)
    monkeypatch.setitem(_catalog.VENDORS, "snomish", renamed)
    assert _rps.client_for("snomish").vendor == "snom"
    with pytest.raises(_rps.InputError, match="not provisioned through an RPS"):
        _rps.client_for("acme")
    with pytest.raises(_rps.InputError, match="has no RPS client; valid: fanvil, gigaset, htek, poly, snom, yealink"):
        _rps.client_for("nokia")
