"""Fanvil FDPS, Gigaset and Htek: the clients and the contract servers against the facts of docs/rps.md."""

from __future__ import annotations

import hashlib
import xmlrpc.client

import pytest
import requests
from rps_servers import harness
from rps_servers.fanvil import FanvilFake
from rps_servers.gigaset import GigasetFake
from rps_servers.htek import HtekFake

from ansible_collections.pbxops.autoprov.plugins.module_utils._rps import base as _rps_base
from ansible_collections.pbxops.autoprov.plugins.module_utils._rps import engine as _rps
from ansible_collections.pbxops.autoprov.plugins.module_utils._rps import xmlrpc as _rps_xmlrpc


@pytest.fixture
def fanvil():
    fake = FanvilFake()
    yield fake
    fake.close()


@pytest.fixture
def gigaset():
    fake = GigasetFake()
    harness.ship_gigaset(fake)
    yield fake
    fake.close()


@pytest.fixture
def htek():
    fake = HtekFake()
    yield fake
    fake.close()


def fanvil_auth(fake):
    return fake.username, hashlib.md5(hashlib.md5(fake.password.encode()).hexdigest().encode()).hexdigest()


def test_fanvil_material_server_is_falconieris(fanvil):
    harness.run("fanvil", fanvil, url="https://192.0.2.10:8443/p/Zt4kq/", macs=["0c383eaa0001"])
    ((name, server),) = fanvil.servers.items()
    assert name.startswith("autoprov-") and name.endswith("-0C383EAA0001")
    assert server == {"cfgName": name, "cfgPfMode": "1", "cfgDhcpOpt": "false", "cfgPnpEnable": "false",
                      "cfgPfSrv": "192.0.2.10:8443", "cfgPfName": "p/Zt4kq/", "cfgPfProt": "5"}  # fmt: skip
    assert fanvil.calls == ["redirect.checkDevice", "redirect.deleteServer", "redirect.addMaterialServer", "redirect.registerDevice"]


def test_fanvil_move_deregisters_and_deletes_the_old_server(fanvil):
    harness.run("fanvil", fanvil)
    harness.run("fanvil", fanvil, url=harness.URL_B)
    assert sorted(s["cfgPfSrv"] for s in fanvil.servers.values()) == ["192.0.2.20:8443", "192.0.2.20:8443"]


def test_fanvil_url_with_a_query_is_refused_before_anything_is_sent(fanvil):
    with pytest.raises(_rps.InputError, match=r"url: Fanvil FDPS keeps a server's host, path and protocol only"):
        harness.run("fanvil", fanvil, url="https://192.0.2.10/p/?mac=1")
    assert fanvil.log == []


def test_xml_rpc_services_lack_the_calls_no_source_shows(fanvil, htek):
    """A client calling a method the contract server does not have fails (XML-RPC fault: our model of the answer)."""
    http = _rps_base.Http(retries=0)
    for fake, method, auth in ((fanvil, "redirect.registerDevices", fanvil_auth(fanvil)), (htek, "redirect.editDevice", htek.account())):
        with pytest.raises(_rps_base.RpsError, match="fault -32601: unknown method %s" % method):
            _rps_xmlrpc.call(http, fake.base + fake.path, method, ["x"], auth)


def test_fanvil_wants_the_password_hashed_twice(fanvil):
    once = hashlib.md5(fanvil.password.encode()).hexdigest()
    body = xmlrpc.client.dumps(("0C383EAA0001",), "redirect.checkDevice")
    response = requests.post(
        fanvil.base + fanvil.path, data=body, auth=(fanvil.username, once), headers={"Content-Type": "text/xml"}, timeout=5
    )
    assert response.status_code == 401


def test_gigaset_answers_are_untyped_and_name_the_bare_mac(gigaset):
    body = xmlrpc.client.dumps(("7C2F80AA0001-A1B2",), "autoprov.checkDevice")
    response = requests.post(
        gigaset.base + gigaset.path, data=body, auth=gigaset.account(), headers={"Content-Type": "text/xml"}, timeout=5
    )
    assert "<value><boolean>0</boolean></value><value>mac_not_found:7C2F80AA0001</value>" in response.text


def test_gigaset_sends_the_mac_id_and_a_fixed_provider_name(gigaset):
    harness.run("gigaset", gigaset, macs=["7c2f80aa0001"], server_name="pbx-lyon")
    assert gigaset.devices["7C2F80AA0001"]["provider"] == "pbx-lyon"


def test_gigaset_code_is_checked_before_anything_is_sent(gigaset):
    with pytest.raises(_rps.InputError, match=r"devices\[0\] \(7c:2f:80:aa:00:01\)\.pin: the code after the MAC on the label is 4"):
        _rps.run(dict(harness.params("gigaset", gigaset), devices=[{"mac": "7c2f80aa0001", "pin": "A1B"}]), False)
    assert gigaset.log == []


def test_htek_answers_carry_apache_xml_rpc_untyped_values(htek):
    body = xmlrpc.client.dumps(("001fc1aa0001", "srv"), "redirect.registerDevice")
    response = requests.post(htek.base + htek.path, data=body, auth=htek.account(), headers={"Content-Type": "text/xml"}, timeout=5)
    assert 'xmlns:ex="http://ws.apache.org/xmlrpc/namespaces/extensions"' in response.text
    assert "<value>Error: Invalid server</value>" in response.text


def test_htek_override_text_at_write_is_reported_as_another_account(htek):
    htek.rpc_redirect_checkDevice = lambda mac: [True, "unregistered"]  # the other account took it after our lookup
    htek.give_to_other_account("001fc1aa0002")
    result = harness.run("htek", htek)
    message = {r["mac"]: r["message"] for r in result["results"]}["00:1f:c1:aa:00:02"]
    assert message.startswith("registered to another Htek RPS account: Are you sure you want to override MAC addresses")
    assert htek.url_of("001fc1aa0001") and htek.url_of("001fc1aa0002") is None
