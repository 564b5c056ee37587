"""Poly ZTP: the client and the contract server against the facts of docs/rps.md ("Poly")."""

from __future__ import annotations

import pytest
import requests
from rps_servers import harness
from rps_servers.poly import PolyFake


@pytest.fixture
def poly():
    fake = PolyFake(page_size=2)
    yield fake
    fake.close()


def test_the_profile_holds_the_server_in_its_template(poly):
    harness.run("poly", poly)
    (profile,) = poly.profiles.values()
    assert profile["enabled"] is True and profile["name"].startswith("autoprov-")
    assert profile["template"] == {
        "provisioning": {"server": {"address": harness.URL_A, "username": "phones", "password": harness.URL_PASSWORD}}
    }


def test_our_profile_is_found_on_a_later_page(poly):
    for n in range(5):
        poly.profiles["x%d" % n] = {"name": "other-%d" % n, "template": {"provisioning": {"server": {"address": "https://o/"}}}}
    harness.run("poly", poly)
    del poly.log[:]
    again = harness.run("poly", poly, macs=["0004f2aa0003"])
    assert harness.actions(again) == {"0004f2aa0003": "registered"} and len(poly.profiles) == 6
    assert [p for m, p in poly.log if p.startswith("/v1/profiles")] == ["/v1/profiles", "/v1/profiles?cursor=2", "/v1/profiles?cursor=4"]


def test_a_move_is_delete_then_add_and_a_password_change_writes_only_the_profile(poly):
    harness.run("poly", poly)
    del poly.log[:]
    harness.run("poly", poly, url=harness.URL_B)
    assert [e for e in poly.log if e[0] != "GET"] == [
        ("POST", "/v1/profiles"),
        ("DELETE", "/v1/devices/0004f2aa0001"),
        ("POST", "/v1/devices"),
        ("DELETE", "/v1/devices/64167faa0002"),
        ("POST", "/v1/devices"),
    ]
    del poly.log[:]
    changed = harness.run("poly", poly, url=harness.URL_B, url_password="another-S3cret")
    assert set(harness.actions(changed).values()) == {"updated"}
    assert [e[0] for e in poly.log if e[0] != "GET"] == ["PUT"]
    assert harness.leaked("poly", changed) == [] and "another-S3cret" not in str(changed)


def test_the_service_has_no_device_put_and_unknown_paths_are_not_found(poly):
    headers = {"API-KEY": poly.api_key}
    put = requests.put(poly.base + "/v1/devices/0004f2aa0001", json={"profile": "p1"}, headers=headers, timeout=5)
    assert put.status_code == 404 and put.json() == {"message": "Not Found"}
    assert requests.get(poly.base + "/v1/nothing", headers=headers, timeout=5).json() == {"message": "Not Found"}
    assert requests.get(poly.base + "/v1/devices/0004f2aa0001", timeout=5).json() == {"message": "Unauthorized"}
