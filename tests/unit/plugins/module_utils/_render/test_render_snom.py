"""Snom D series: <MAC>.xml (uppercase) settings, snom<model>-<MAC>.htm pointing at it; PnP URL names the file."""

from __future__ import annotations

import pytest
from vendor_helpers import ADMIN_PASSWORD, assert_no_secrets, bare, line, render, render_errors, ua_match, xml_root

from ansible_collections.pbxops.autoprov.plugins.module_utils._catalog import catalog as _catalog
from ansible_collections.pbxops.autoprov.plugins.module_utils._render.render import mask

MAC = "00:04:13:92:2d:24"


@pytest.fixture(scope="module")
def d785():
    device = {
        "mac": MAC,
        "model": "D785",
        "lines": [line(1), line(2, transport="tcp", server="pbx2.example.net")],
        "keys": [
            {"type": "blf", "value": "201", "label": "Anna"},
            {"type": "speeddial", "value": "0049301234", "label": "Office", "line": 2},
            {"type": "dtmf", "value": "*1", "index": 4},
        ],
    }
    return render([device], timezone="Europe/Berlin")


def setting(root, name, idx=None):
    for item in root.find("phone-settings"):
        if item.tag == name and (idx is None or item.get("idx") == str(idx)):
            return item.text or ""
    raise AssertionError("no %s idx=%s" % (name, idx))


def test_file_names(d785):
    files = d785[0]
    assert sorted(files) == ["000413922D24.xml", "snomD785-000413922D24.htm"]
    assert files["000413922D24.xml"].secret and not files["snomD785-000413922D24.htm"].secret


def test_settings_are_escaped_and_per_identity(d785):
    """What the reference rows cannot say: XML escaping, a second identity's own server, no stale state."""
    files = d785[0]
    root = xml_root(files["000413922D24.xml"].content, "settings")
    assert setting(root, "user_realname", 1) == "User 1 & Co <1>"
    assert setting(root, "user_host", 2) == "pbx2.example.net"
    assert setting(root, "user_outbound", 2) == "pbx2.example.net:5060;transport=tcp"
    assert [setting(root, "user_active", n) for n in (1, 2, 3, 12)] == ["on", "on", "off", "off"]
    keys = {k.get("idx"): k for k in root.find("functionKeys")}
    # Every key of the D785 is written: the inventory's three, the rest reset to line.
    assert sorted(keys, key=int) == [str(n) for n in range(24)]
    assert keys["3"].text == "dtmf *1" and keys["2"].text == "line" and keys["2"].get("context") == "active"


def test_d715_files_carry_its_model_token():
    """The D715 calls itself 715 (User-Agent snom715-SIP): it asks for snom715-<MAC>.htm."""
    files = render([{"mac": MAC, "model": "D715", "lines": [line(1)]}])[0]
    assert sorted(files) == ["000413922D24.xml", "snom715-000413922D24.htm"]
    match = ua_match("snom", "Mozilla/4.0 (compatible; snom715-SIP 10.1.215.13 2010.12-00004-g9ba52f5 000413922D24 SXM:0 UXM:0)")
    assert [m.name for m in _catalog.find_models(match.group("model"), "snom")] == ["D715"]


def test_d865_web_password_is_a_secret():
    files, secrets = render([{"mac": MAC, "model": "D865", "lines": [line(1)]}])
    content = files["000413922D24.xml"].content
    root = xml_root(content, "settings")
    assert setting(root, "webserver_admin_password") == ADMIN_PASSWORD
    masked = mask(content, set(), "snom")
    assert ADMIN_PASSWORD not in masked and "Line1-s3cret" not in masked


def test_language_without_a_snom_name_is_refused():
    errors = render_errors([{"mac": MAC, "model": "D785", "lines": [line(1)]}], language="pl")
    # A PBX-wide setting: reported once, for the PBX, with what is valid.
    valid = "de, en, es, fr, it, nl, pt, ru, tr"
    assert errors == ["pbx1: language (autoprov_language): 'pl': Snom phones have no such language; valid: %s" % valid]


def test_htm_points_at_the_settings_and_holds_no_secret(d785):
    files, secrets = d785
    content = files["snomD785-000413922D24.htm"].content
    assert_no_secrets(content, secrets)
    root = xml_root(content, "setting-files")
    assert root.find("file").get("url") == "http://192.0.2.10:8080/p/Zt4token/000413922D24.xml"


def test_pnp_url_names_the_mac_file():
    assert (
        _catalog.VENDORS["snom"].pnp_url.format(url="http://h/p/", mac="000413922d24", MAC="000413922D24") == "http://h/p/000413922D24.xml"
    )
    assert "dhcp" not in _catalog.VENDORS["snom"].methods


def test_user_agent():
    match = ua_match("snom", "Mozilla/4.0 (compatible; snomD785-SIP 10.1.33.33 2010.12-00004-g9ba52f5 000413922D24 SXM:0 UXM:0)")
    assert match.group("model") == "D785" and match.group("firmware") == "10.1.33.33" and bare(match.group("mac")) == "000413922d24"
    assert ua_match("snom", "Mozilla/4.0 (compatible; snom710-SIP 8.7.5.35 1.1.5-IFX-05.01.12 000413741767)").group("mac") == "000413741767"
