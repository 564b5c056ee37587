"""backend none: the values a person sets on a DHCP server we do not manage."""

from __future__ import annotations

from ansible_collections.pbxops.autoprov.plugins.module_utils._dhcp import manual
from ansible_collections.pbxops.autoprov.plugins.module_utils._dhcp.model import build_scope

URL = "http://192.0.2.10:8080/Zt4kq9Token/"


def scope(**extra):
    params = dict(subnet="192.0.2.0/24", provisioning_url=URL, provisioning_username="phones", provisioning_password="p@ss word")
    params.update(extra)
    return build_scope(params)


def test_option_66_with_the_credentials_and_the_password_masked():
    entries, text = manual.instructions(scope(), URL, "phones", "p@ss word")
    shown = "http://phones:********@192.0.2.10:8080/Zt4kq9Token/"
    assert entries == [dict(code=66, name="tftp-server-name", type="string", value=shown, hex=None, vendor_class=None)]
    assert "p@ss" not in text and "p%40ss" not in text
    assert text.startswith("Set these options on the DHCP server of subnet 192.0.2.0/24 by hand (backend none: nothing was changed)")
    assert "******** stands for the HTTP password (autoprov_http_password" in text


def test_further_options_with_their_bytes():
    options = [
        dict(code=67, value="y000000000066.cfg"),
        dict(code=150, value=["192.0.2.10", "192.0.2.11"]),
        dict(code=43, value="01:04:c0:00:02:0a"),
        dict(code=160, value=URL, vendor_class="Polycom"),
    ]
    entries, text = manual.instructions(scope(options=options), URL, None, None)
    by_code = {e["code"]: e for e in entries}
    assert by_code[66]["value"] == URL and "********" not in text
    assert by_code[150]["value"] == "192.0.2.10, 192.0.2.11" and by_code[150]["hex"] == "c000020ac000020b"
    assert by_code[43]["hex"] == "0104c000020a"
    assert "- option 43 (vendor-encapsulated-options): 01:04:c0:00:02:0a [hex 0104c000020a]" in text
    assert "- option 160 (provisioning-url-160) (only for vendor class 'Polycom'): %s" % URL in text


def test_removal_is_worded_as_removal():
    _entries, text = manual.instructions(scope(state="absent"), URL, "phones", "x")
    assert text.startswith("Remove these options from the DHCP server of subnet 192.0.2.0/24")
