"""Yeastar TA FXS gateways: cfg<mac>.xml, <ta> with one <fxs> per port; never provisioned by RPS."""

from __future__ import annotations

from vendor_helpers import ADMIN_PASSWORD, line, render_files, xml_root

from ansible_collections.pbxops.autoprov.plugins.module_utils._catalog import catalog as _catalog


def test_ports_and_settings():
    files = render_files([{"mac": "f4:b5:49:01:02:03", "model": "TA1600", "lines": [line(n) for n in range(1, 17)]}])
    assert list(files) == ["cfgf4b549010203.xml"] and files["cfgf4b549010203.xml"].secret
    root = xml_root(files["cfgf4b549010203.xml"].content, "ta")
    ports = root.findall("fxs")
    assert len(ports) == 16
    assert root.findtext("fxs[@index='16']/password") == "Line16-s3cret"
    assert root.findtext("fxs[@index='2']/callerid_name") == "User 2 & Co <2>"
    assert root.findtext("system/timezone") == "CET-1CEST,M3.5.0,M10.5.0/3"
    assert root.findtext("system/admin_password") == ADMIN_PASSWORD
    assert root.findtext("provisioning/url") == "http://192.0.2.10:8080/p/Zt4token/"
    assert root.findtext("codecs") == "g722,alaw,ulaw"


def test_no_rps():
    assert "rps" not in _catalog.VENDORS["yeastar"].methods and _catalog.VENDORS["yeastar"].rps is None
    assert [m.lines for m in _catalog.models_of("yeastar")] == [1, 2, 4, 8, 16, 24, 32]
