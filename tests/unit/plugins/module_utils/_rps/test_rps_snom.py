"""Snom SRAPS: the client and the contract server against the facts of docs/rps.md ("Snom")."""

from __future__ import annotations

import json

import mohawk
import pytest
import requests
from rps_servers import harness
from rps_servers.snom import SnomFake

COMPANY = "/api/v1/companies/c0ffee"


@pytest.fixture
def snom():
    fake = SnomFake()
    yield fake
    fake.close()


def hawk_put(fake, mac, body, hash_payload):
    """A PUT signed as sipwise/ngcp-panel signs it (no payload hash) or as falconieri does (with one)."""
    url = fake.base + COMPANY + "/endpoints/" + mac
    data = json.dumps(body).encode()
    credentials = {"id": fake.key_id, "key": fake.secret, "algorithm": "sha256"}
    if hash_payload:
        sender = mohawk.Sender(credentials, url, "PUT", content=data, content_type="application/json")
    else:
        sender = mohawk.Sender(credentials, url, "PUT", always_hash_content=False)
    assert ("hash=" in sender.request_header) is hash_payload
    headers = {"Authorization": sender.request_header, "Content-Type": "application/json"}
    return requests.put(url, data=data, headers=headers, timeout=5)


def endpoint_body(fake, mac, url, **extra):
    return dict(
        mac=mac, autoprovisioning_enabled="true", settings_manager={fake.server_setting: {"value": url, "attrs": {"perm": "RW"}}}, **extra
    )


def test_a_put_without_payload_hash_and_an_upper_case_mac_is_accepted_and_kept_by_a_rerun(snom):
    response = hawk_put(snom, "000413AA0001", endpoint_body(snom, "000413AA0001", harness.URL_A), hash_payload=False)
    assert response.status_code == 201, response.text
    result = harness.run("snom", snom, macs=["000413aa0001"], url_username=None, url_password=None)
    assert harness.actions(result) == {"000413aa0001": "unchanged"}, result


def test_a_payload_hash_that_does_not_match_the_body_is_refused(snom):
    url = snom.base + COMPANY + "/endpoints/000413aa0001"
    body = json.dumps(endpoint_body(snom, "000413aa0001", harness.URL_A)).encode()
    sender = mohawk.Sender({"id": snom.key_id, "key": snom.secret, "algorithm": "sha256"}, url, "PUT", content=b"{}",
                           content_type="application/json")  # fmt: skip
    response = requests.put(url, data=body, headers={"Authorization": sender.request_header, "Content-Type": "application/json"}, timeout=5)
    assert response.status_code == 401 and "MisComputedContentHash" in response.text


def test_the_setting_uuid_is_found_past_the_first_page_of_settings(snom):
    harness.run("snom", snom)
    settings = [path for method, path in snom.log if "/settings/" in path]
    assert settings == ["/api/v1/settings/?page_size=1000", "/api/v1/settings/?page=2&page_size=1000"]
    assert snom.endpoints["000413aa0001"]["settings_manager"] == {
        snom.server_setting: {"value": "https://phones:%s@192.0.2.10/p/Zt4kq/" % harness.URL_PASSWORD, "attrs": {"perm": "RW"}}
    }


def test_an_endpoint_list_without_settings_is_read_in_detail(snom):
    snom.list_summary = True
    harness.run("snom", snom)
    del snom.log[:]
    again = harness.run("snom", snom)
    assert set(harness.actions(again).values()) == {"unchanged"}
    assert ("GET", COMPANY + "/endpoints/000413aa0001") in snom.log and not [e for e in snom.log if e[0] != "GET"]


def test_a_move_keeps_the_endpoints_other_settings(snom):
    other = snom.settings[3]["uuid"]
    body = endpoint_body(snom, "000413aa0001", harness.URL_A)
    body["settings_manager"][other] = {"value": "de", "attrs": {"perm": "R"}}
    assert hawk_put(snom, "000413aa0001", body, hash_payload=True).status_code == 201
    moved = harness.run("snom", snom, macs=["000413aa0001"], url=harness.URL_B)
    assert harness.actions(moved) == {"000413aa0001": "updated"}
    assert snom.endpoints["000413aa0001"]["settings_manager"][other] == {"value": "de", "attrs": {"perm": "R"}}


def test_the_contract_server_refuses_what_sraps_does_not_know(snom):
    old_body = {"mac": "000413aa0001", "autoprovisioning_enabled": True, "provisioning_url": harness.URL_A}
    refused = hawk_put(snom, "000413aa0001", old_body, hash_payload=True)
    assert refused.status_code == 400 and "provisioning_url" in refused.json()
    url = snom.base + "/api/v1/endpoints/000413aa0001"
    sender = mohawk.Sender({"id": snom.key_id, "key": snom.secret, "algorithm": "sha256"}, url, "GET", content=b"", content_type="")
    unknown = requests.get(url, headers={"Authorization": sender.request_header}, timeout=5)
    assert unknown.status_code == 404 and unknown.json() == {"detail": "Not found."}
