"""The backends' plans on real config texts: what they add, that absent gives the bytes back, and what they refuse."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.pbxops.autoprov.plugins.module_utils._dhcp import jsonc
from ansible_collections.pbxops.autoprov.plugins.module_utils._dhcp.backend import DhcpError, Service, insert_line, remove_line
from ansible_collections.pbxops.autoprov.plugins.module_utils._dhcp.dnsmasq import Dnsmasq, option_value
from ansible_collections.pbxops.autoprov.plugins.module_utils._dhcp.isc import IscDhcpd, option_line
from ansible_collections.pbxops.autoprov.plugins.module_utils._dhcp.kea import KeaEdit, KeaFile, kea_merge, option_entry
from ansible_collections.pbxops.autoprov.plugins.module_utils._dhcp.model import build_scope

URL = "http://192.0.2.10:8080/p/Zt4kq9/"
POLY = {"code": 160, "value": URL + "poly/", "vendor_class": "Polycom"}


class FakeRunner:
    """Answers `ip -j -4 addr show` with the given interfaces; knows every binary except systemctl."""

    def __init__(self, interfaces=()):
        self.interfaces = interfaces
        self.calls = []

    def run(self, argv, cwd=None):
        self.calls.append(list(argv))
        if argv[:2] == ["ip", "-j"]:
            links = [
                {"ifname": name, "addr_info": [{"family": "inet", "local": a.split("/")[0], "prefixlen": int(a.split("/")[1])}]}
                for name, a in self.interfaces
            ]
            return 0, json.dumps(links), ""
        return 0, "", ""

    def which(self, name):
        return None if name == "systemctl" else "/usr/sbin/" + name


def scope(**params):
    params.setdefault("subnet", "192.0.2.0/24")
    return build_scope(params)


# -- Kea -------------------------------------------------------------------------------------

KEA = """// site config, kept by hand
{
  "Dhcp4": {
    "interfaces-config": { "interfaces": [ "eth0" ] },
    "subnet4": [
      {
        "id": 7,
        "subnet": "192.0.2.0/24",
        "pools": [ { "pool": "192.0.2.100 - 192.0.2.150" } ],
        "option-data": [ { "name": "routers", "data": "192.0.2.1" } ], # the gateway
        "reservations": [ { "hw-address": "02:00:00:00:00:05", "ip-address": "192.0.2.50" } ]
      }
    ],
    "shared-networks": [ { "name": "lab", "subnet4": [ { "id": 9, "subnet": "198.51.100.0/24" } ] } ]
  }
}
"""


def kea_plan(tmp_path, text=KEA, **params):
    path = tmp_path / "kea-dhcp4.conf"
    path.write_text(text)
    backend = KeaFile({"config_file": str(path), "service": {}}, scope(**params), FakeRunner())
    return path, backend.plan()


def test_kea_adds_only_marked_entries_and_absent_gives_the_bytes_back(tmp_path):
    path, plan = kea_plan(tmp_path, provisioning_url=URL, options=[POLY])
    text = plan.files[str(path)]
    config = jsonc.TextDoc({str(path): text}, str(path)).value()["Dhcp4"]
    subnet = config["subnet4"][0]
    assert subnet["option-data"][0] == {"name": "routers", "data": "192.0.2.1"}
    assert subnet["option-data"][1]["data"] == URL and subnet["option-data"][1]["user-context"]["pbxops.autoprov"]
    assert subnet["require-client-classes"] == ["pbxops-autoprov-192-0-2-0-24-vc-Polycom"]
    polycom = config["client-classes"][0]
    assert polycom["test"] == "substring(option[60].hex,0,7) == 'Polycom'" and polycom["only-if-required"]
    assert polycom["option-data"] == [{"code": 160, "csv-format": False, "data": (URL + "poly/").encode().hex().upper()}]
    assert "# the gateway" in text and "// site config" in text
    path.write_text(text)
    plan = KeaFile({"config_file": str(path), "service": {}}, scope(state="absent"), FakeRunner()).plan()
    assert plan.files[str(path)] == KEA


def test_kea_second_plan_changes_nothing(tmp_path):
    path, plan = kea_plan(tmp_path, provisioning_url=URL, options=[POLY])
    path.write_text(plan.files[str(path)])
    again = KeaFile({"config_file": str(path), "service": {}}, scope(provisioning_url=URL, options=[POLY]), FakeRunner()).plan()
    assert not again.changed


def test_kea_finds_subnets_in_shared_networks(tmp_path):
    path, plan = kea_plan(tmp_path, subnet="198.51.100.0/24", provisioning_url=URL)
    config = jsonc.TextDoc({str(path): plan.files[str(path)]}, str(path)).value()["Dhcp4"]
    assert config["shared-networks"][0]["subnet4"][0]["option-data"][0]["data"] == URL


@pytest.mark.parametrize(
    "params, expected",
    [
        (dict(subnet="203.0.113.0/24", provisioning_url=URL), "does not exist in"),
        (dict(create=True, pools=["192.0.2.20-192.0.2.30"], provisioning_url=URL), "already exists"),
    ],
)
def test_kea_refusals(tmp_path, params, expected):
    with pytest.raises(DhcpError) as caught:
        kea_plan(tmp_path, **params)
    assert expected in caught.value.msg and "(it has: 192.0.2.0/24, 198.51.100.0/24)" in caught.value.msg or "already" in expected


def test_kea_refuses_to_shadow_the_subnets_own_option(tmp_path):
    text = KEA.replace('{ "name": "routers", "data": "192.0.2.1" }', '{ "name": "tftp-server-name", "data": "old" }')
    with pytest.raises(DhcpError, match="already sets option 66"):
        kea_plan(tmp_path, text, provisioning_url=URL)


def test_kea_creates_a_subnet_with_the_next_id(tmp_path):
    params = dict(subnet="203.0.113.0/24", create=True, pools=["203.0.113.100-203.0.113.199"], routers=["203.0.113.1"], lease_time=3600)
    path, plan = kea_plan(tmp_path, provisioning_url="http://203.0.113.10/p/", **params)
    created = jsonc.TextDoc({str(path): plan.files[str(path)]}, str(path)).value()["Dhcp4"]["subnet4"][1]
    assert created["id"] == 10 and created["valid-lifetime"] == 3600
    assert created["pools"] == [{"pool": "203.0.113.100-203.0.113.199"}]
    assert created["option-data"][0] == {"name": "routers", "data": "203.0.113.1"}


def test_kea_option_entries():
    options = {o["code"]: o for o in scope(provisioning_url=URL + "a,b", options=[{"code": 42, "value": ["192.0.2.1"]}])["options"]}
    assert option_entry(options[42]) == {"name": "ntp-servers", "data": "192.0.2.1"}
    assert option_entry(options[66])["csv-format"] is False, "a comma would split Kea's csv data: send bytes"


def test_kea_merge_keeps_what_kea_filled_in():
    old = {"always-send": False, "code": 66, "csv-format": True, "data": "a", "name": "tftp-server-name", "space": "dhcp4"}
    assert kea_merge(old, {"name": "tftp-server-name", "data": "b"}) == dict(old, data="b")
    assert kea_merge(old, {"code": 67, "data": "b"}) == {"code": 67, "data": "b"}


def test_kea_agent_edit_on_the_running_config():
    running = {"Dhcp4": {"subnet4": [{"id": 1, "subnet": "192.0.2.0/24", "option-data": []}]}}
    doc = jsonc.DictDoc(json.loads(json.dumps(running)), merge=kea_merge)
    KeaEdit(scope(provisioning_url=URL), doc, "agent").run()
    assert doc.value()["Dhcp4"]["subnet4"][0]["option-data"][0]["data"] == URL
    KeaEdit(scope(state="absent"), doc, "agent").run()
    assert doc.value() == running


# -- ISC dhcpd ------------------------------------------------------------------------------

DHCPD = """# site dhcpd.conf
option domain-name "example.org";
option site-tftp code 224 = text;

shared-network lab {
  subnet 192.0.2.0 netmask 255.255.255.0 {
    range 192.0.2.100 192.0.2.150;
    option routers 192.0.2.1;
  }
}
subnet 198.51.100.0 netmask 255.255.255.0 { range 198.51.100.10 198.51.100.20; }
"""


def dhcpd_plan(tmp_path, text=DHCPD, **params):
    path = tmp_path / "dhcpd.conf"
    path.write_text(text)
    backend = IscDhcpd({"config_file": str(path), "dropin_dir": str(tmp_path / "d"), "service": {}}, scope(**params), FakeRunner())
    return path, backend, backend.plan()


def test_dhcpd_include_goes_inside_the_subnet_and_comes_out_again(tmp_path):
    path, backend, plan = dhcpd_plan(tmp_path, provisioning_url=URL, options=[POLY])
    text = plan.files[str(path)]
    assert text == DHCPD.replace("    option routers 192.0.2.1;\n", '    option routers 192.0.2.1;\n    include "%s";\n' % backend.dropin)
    dropin = plan.files[backend.dropin]
    assert 'option tftp-server-name "%s";' % URL in dropin
    condition = 'if substring(option vendor-class-identifier, 0, 7) = "Polycom" {\n'
    assert condition + '  option v4-captive-portal "%s";\n}' % (URL + "poly/") in dropin
    path.write_text(text)
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "subnet-192.0.2.0_24.conf").write_text(dropin)
    _p, _b, plan = dhcpd_plan(tmp_path, text, state="absent")
    assert plan.files == {str(path): DHCPD, backend.dropin: None}


def test_dhcpd_inline_block(tmp_path):
    path, backend, plan = dhcpd_plan(tmp_path, subnet="198.51.100.0/24", provisioning_url=URL)
    text = plan.files[str(path)]
    assert '{ range 198.51.100.10 198.51.100.20; include "%s"; }' % backend.dropin.replace("192.0.2.0", "198.51.100.0") in text
    path.write_text(text)
    _p, _b, plan = dhcpd_plan(tmp_path, text, subnet="198.51.100.0/24", state="absent")
    assert plan.files[str(path)] == DHCPD


def test_dhcpd_refuses_to_shadow_and_names_the_line(tmp_path):
    text = DHCPD.replace("option routers 192.0.2.1;", 'option site-tftp "x";')
    with pytest.raises(DhcpError, match=r"dhcpd.conf line 8: the subnet 192.0.2.0/24 already sets option 224 \(site-tftp\)"):
        dhcpd_plan(tmp_path, text, options=[{"code": 224, "type": "string", "value": "y"}])


def test_dhcpd_created_subnet_is_included_at_the_end(tmp_path):
    params = dict(subnet="203.0.113.0/24", create=True, pools=["203.0.113.100-203.0.113.199"], routers=["203.0.113.1"], lease_time=600)
    path, backend, plan = dhcpd_plan(tmp_path, provisioning_url="http://203.0.113.10/", **params)
    assert plan.files[str(path)] == DHCPD + 'include "%s";\n' % backend.dropin
    dropin = plan.files[backend.dropin]
    assert "subnet 203.0.113.0 netmask 255.255.255.0 {\n  range 203.0.113.100 203.0.113.199;\n" in dropin
    assert "default-lease-time 600;" in dropin and "option routers 203.0.113.1;" in dropin


def test_dhcpd_follows_includes_to_the_subnet(tmp_path):
    (tmp_path / "subnets.conf").write_text("subnet 192.0.2.0 netmask 255.255.255.0 {\n  range 192.0.2.100 192.0.2.150;\n}\n")
    main = 'include "%s";\n' % (tmp_path / "subnets.conf")
    path, backend, plan = dhcpd_plan(tmp_path, main, provisioning_url=URL)
    assert str(path) not in plan.files
    assert 'include "%s";' % backend.dropin in plan.files[str(tmp_path / "subnets.conf")]


def test_dhcpd_option_lines():
    given = [{"code": 150, "value": ["192.0.2.1"]}, {"code": 225, "type": "ipv4-list", "value": ["192.0.2.1"]}]
    options = {o["code"]: o for o in scope(options=given)["options"]}
    assert option_line(options[150]) == "option tftp-server-address 192.0.2.1;"
    assert option_line(options[225]) == "option unknown-225 c0:00:02:01;", "codes dhcpd does not know take bytes"


# -- dnsmasq --------------------------------------------------------------------------------

DNSMASQ = """# site dnsmasq.conf
interface=eth1
dhcp-range=192.0.2.100,192.0.2.150,255.255.255.0,12h
dhcp-host=02:00:00:00:00:05,192.0.2.50
dhcp-range=set:lab,198.51.100.10,198.51.100.20,255.255.255.0
dhcp-option=option:domain-name,example.org"""  # no newline at the end


def dnsmasq_backend(tmp_path, text=DNSMASQ, interfaces=(("eth1", "192.0.2.1/24"),), **params):
    path = tmp_path / "dnsmasq.conf"
    path.write_text(text)
    params.setdefault("provisioning_url", URL)
    config = {"config_file": str(path), "dropin_dir": str(tmp_path / "d"), "service": {}}
    return path, Dnsmasq(config, scope(**params), FakeRunner(interfaces))


def test_dnsmasq_one_line_and_the_interface_tag(tmp_path):
    path, backend = dnsmasq_backend(tmp_path, options=[POLY])
    plan = backend.plan()
    assert plan.files[str(path)] == DNSMASQ + "\nconf-file=%s" % backend.dropin
    assert 'dhcp-option=tag:eth1,66,"%s"\n' % URL in plan.files[backend.dropin]
    assert "dhcp-vendorclass=set:pbxops-autoprov-192-0-2-0-24-vc-Polycom,Polycom\n" in plan.files[backend.dropin]
    assert "tag:eth1,tag:pbxops-autoprov-192-0-2-0-24-vc-Polycom,160," in plan.files[backend.dropin]
    path.write_text(plan.files[str(path)])
    _p, backend = dnsmasq_backend(tmp_path, path.read_text(), state="absent", provisioning_url=None)
    assert backend.plan().files[str(path)] == DNSMASQ, "byte for byte, even without a final newline"


def test_dnsmasq_uses_the_ranges_own_tag(tmp_path):
    _path, backend = dnsmasq_backend(tmp_path, subnet="198.51.100.0/24", interfaces=())
    assert 'dhcp-option=tag:lab,66,"%s"' % URL in backend.plan().files[backend.dropin]


def test_dnsmasq_stops_when_requests_cannot_be_told_apart(tmp_path):
    _path, backend = dnsmasq_backend(tmp_path, interfaces=(("eth1", "192.0.2.1/24"), ("eth2", "192.0.2.2/24")))
    with pytest.raises(DhcpError, match="Give the dhcp-range a tag, e.g. dhcp-range=set:phones,192.0.2.100"):
        backend.plan()


def test_dnsmasq_refuses_a_dropin_dir_it_already_reads(tmp_path):
    (tmp_path / "d").mkdir()
    _path, backend = dnsmasq_backend(tmp_path, DNSMASQ + "\nconf-dir=%s,*.conf\n" % (tmp_path / "d"))
    with pytest.raises(DhcpError, match="would be read twice"):
        backend.plan()


def test_dnsmasq_refuses_to_shadow(tmp_path):
    _path, backend = dnsmasq_backend(tmp_path, DNSMASQ + "\ndhcp-option=tag:eth1,option:tftp-server,old\n")
    with pytest.raises(DhcpError, match="dnsmasq.conf line 7 already sets option 66 for the tag eth1"):
        backend.plan()


def test_dnsmasq_missing_subnet(tmp_path):
    _path, backend = dnsmasq_backend(tmp_path, subnet="203.0.113.0/24")
    with pytest.raises(DhcpError, match="no dhcp-range for the subnet 203.0.113.0/24"):
        backend.plan()


@pytest.mark.parametrize(
    "option, value",
    [
        ({"code": 66, "value": "192.0.2.10"}, '"192.0.2.10"'),  # 66 is always text to dnsmasq
        ({"code": 224, "type": "string", "value": "1234"}, "31:32:33:34"),  # would read as a number
        ({"code": 224, "type": "string", "value": "abc-x"}, '"abc-x"'),
        ({"code": 224, "type": "uint8", "value": 255}, "255b"),
        ({"code": 2, "value": -1}, "ff:ff:ff:ff"),
        ({"code": 42, "value": ["192.0.2.1", "192.0.2.2"]}, "192.0.2.1,192.0.2.2"),
    ],
)
def test_dnsmasq_values_keep_their_bytes(option, value):
    assert option_value(scope(options=[option])["options"][0]) == value


# -- shared pieces --------------------------------------------------------------------------


@given(st.text(alphabet="ab \n#=", max_size=40), st.text(alphabet="xyz=", min_size=1, max_size=10), st.data())
def test_insert_line_is_undone_by_remove_line(text, line, data):
    starts = [0] + [i + 1 for i, c in enumerate(text) if c == "\n"]
    offset = data.draw(st.sampled_from(starts + [len(text)]))
    if offset == len(text) and text and not text.endswith("\n"):
        changed = insert_line(text, offset, line)
        start = len(text) + 1
    else:
        changed = insert_line(text, offset, line)
        start = offset
    assert changed[start : start + len(line)] == line
    assert remove_line(changed, start, start + len(line)) == text


def test_service_settings_that_cannot_reload_are_refused_before_any_change():
    with pytest.raises(DhcpError, match="pid_file alone cannot reload"):
        Service({"pid_file": "/run/x.pid"}, "dnsmasq", False, FakeRunner()).check_usable()
    with pytest.raises(DhcpError, match="no systemctl on this host"):
        Service({}, "dnsmasq", False, FakeRunner()).check_usable()
    Service({"pid_file": "/run/kea.pid"}, "kea-dhcp4-server", True, FakeRunner()).check_usable()


def test_diffs_hide_the_servers_own_secrets(tmp_path):
    text = KEA.replace('"interfaces-config"', '"lease-database": { "type": "mysql", "password": "Db-S3cret" },\n    "interfaces-config"')
    _path, plan = kea_plan(tmp_path, text, provisioning_url=URL)
    diff = json.dumps(plan.diffs())
    assert "Db-S3cret" not in diff and URL in diff
    text = DHCPD + 'key ddns { algorithm hmac-sha256; secret "TsigS3cret=="; }\n'
    _path, _backend, plan = dhcpd_plan(tmp_path, text, provisioning_url=URL)
    assert "TsigS3cret" not in json.dumps(plan.diffs())


def test_a_reload_command_alone_needs_systemd_for_the_rollback():
    with pytest.raises(DhcpError, match="service.restart_command .it also restarts the server after a rollback"):
        Service({"reload_command": ["x"]}, "dnsmasq", False, FakeRunner()).check_usable()
    Service({"reload_command": ["x"], "restart_command": ["y"]}, "dnsmasq", False, FakeRunner()).check_usable()
    Service({"manage": False}, "dnsmasq", False, FakeRunner()).check_usable()
