"""Yeastar TA FXS gateways: what templates/yeastar/reference.yml cannot say (file set, item lists, escaping, lint)."""

from __future__ import annotations

from vendor_helpers import line, render_errors, render_files, ua_match, xml_root

from ansible_collections.pbxops.autoprov.plugins.module_utils._catalog import catalog as _catalog

MAC = "f4:b5:49:01:02:03"


def test_one_secret_file_with_an_item_per_port():
    files = render_files([{"mac": MAC, "model": "TA1600", "lines": [line(n) for n in range(1, 17)]}])
    assert list(files) == ["cfgf4b549010203.xml"] and files["cfgf4b549010203.xml"].secret
    root = xml_root(files["cfgf4b549010203.xml"].content, "ta")
    ports = root.find("gateway/fxsport")
    assert ports.get("itemcount") == "16" and [p.tag for p in ports] == ["fxsport%d" % n for n in range(16)]
    assert [p.findtext("idx") for p in ports] == [p.findtext("channel") for p in ports] == [str(n) for n in range(1, 17)]
    # Sixteen ports on one server: one VoIP server template, which every port uses.
    assert root.find("gateway/voiptrunktemplate").get("itemcount") == "1"
    assert {p.findtext("voiptemplate") for p in ports} == {"1"}
    assert root.findtext("gateway/fxsport/fxsport1/name") == "User 2 & Co <2>"


def test_ports_on_two_servers_get_two_templates_in_order_of_first_use():
    lines = [line(1, server="a.example.net"), line(2, server="b.example.net"), line(3, server="a.example.net"), line(4)]
    root = xml_root(render_files([{"mac": MAC, "model": "TA800", "lines": lines}])["cfgf4b549010203.xml"].content, "ta")
    hosts = [t.findtext("host") for t in root.find("gateway/voiptrunktemplate")]
    assert hosts == ["a.example.net", "b.example.net", "pbx.example.net"]
    assert [p.findtext("voiptemplate") for p in root.find("gateway/fxsport")] == ["1", "2", "1", "3"]


def test_more_servers_than_templates_is_refused_naming_host_mac_and_line():
    # A TA200 has one VoIP server template (half its two ports).
    errors = render_errors([{"mac": MAC, "model": "TA200", "lines": [line(1), line(2, server="other.example.net")]}])
    assert errors == [
        "pbx1: device f4:b5:49:01:02:03 (autoprov_devices[0]): lines[1].server: the TA200 has 1 VoIP server template(s) "
        "and these lines use 2 distinct server/port/transport; give at most 1"
    ]


def test_codecs_the_ta_lacks_are_left_out_and_none_left_is_refused():
    files = render_files([{"mac": MAC, "model": "TA200", "lines": [line(1)]}], codecs=["OPUS", "PCMA"])
    root = xml_root(files["cfgf4b549010203.xml"].content, "ta")
    assert [root.findtext("gateway/voiptrunktemplate/voiptrunktemplate0/codec%d" % n) for n in range(1, 6)] == ["alaw", "", "", "", ""]
    errors = render_errors([{"mac": MAC, "model": "TA200", "lines": [line(1)]}], codecs=["OPUS"])
    assert len(errors) == 1 and errors[0].startswith("pbx1: codecs (autoprov_codecs): ['OPUS']: the TA knows none of them; valid: PCMU")


def test_no_periodic_resync_is_refused():
    errors = render_errors([{"mac": MAC, "model": "TA100", "lines": [line(1)]}], resync_interval=0)
    assert errors == ["pbx1: resync_interval (autoprov_resync_interval): 0: the TA has no value for 'never'; give minutes from 1"]


def test_user_agent_pattern_never_blocks_a_ta_on_its_mac():
    """No source shows the TA's HTTP User-Agent: the pattern must not capture a MAC the responder would compare."""
    assert "mac" not in _catalog.VENDORS["yeastar"].user_agent.groupindex
    assert ua_match("yeastar", "Yeastar TA400 41.19.0.16").group("model") == "TA400"


def test_no_rps():
    assert "rps" not in _catalog.VENDORS["yeastar"].methods and _catalog.VENDORS["yeastar"].rps is None
    assert [m.lines for m in _catalog.models_of("yeastar")] == [1, 2, 4, 8, 16, 24, 32]
