"""The in-place Kea config editor: comments and includes survive, and removing what we added gives the file back byte for byte."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.pbxops.autoprov.plugins.module_utils._dhcp import jsonc

MAIN = "/etc/kea/kea-dhcp4.conf"
OURS = {"name": "tftp-server-name", "data": "http://x/", "user-context": {"pbxops.autoprov": {}}}


def owned(element):
    return isinstance(element, dict) and "pbxops.autoprov" in (element.get("user-context") or {})


SAMPLE = """// site config
{
    "Dhcp4": {
        # a hash comment
        "subnet4": [
            {
                "id": 1, "subnet": "10.0.0.0/24", /* inline */
                "option-data": [ { "name": "routers", "data": "10.0.0.1" } ]
            },
            {
                "id": 2,
                "subnet": "10.0.1.0/24" // trailing
            }
        ]
    }
}
"""


def test_parse_keeps_values_and_skips_comments():
    doc = jsonc.TextDoc({MAIN: SAMPLE}, MAIN)
    assert doc.value()["Dhcp4"]["subnet4"][1] == {"id": 2, "subnet": "10.0.1.0/24"}


def test_add_and_remove_is_byte_exact_and_comments_stay():
    doc = jsonc.TextDoc({MAIN: SAMPLE}, MAIN)
    doc.replace_owned(["Dhcp4", "subnet4", 0], "option-data", owned, [OURS], False, compact=True)
    doc.replace_owned(["Dhcp4", "subnet4", 1], "option-data", owned, [OURS], True)
    doc.replace_owned(["Dhcp4"], "client-classes", owned, [dict(OURS, name="c")], True)
    text = doc.texts[MAIN]
    for comment in ("// site config", "# a hash comment", "/* inline */", "// trailing"):
        assert comment in text
    value = jsonc.TextDoc({MAIN: text}, MAIN).value()  # what Kea would read
    assert value["Dhcp4"]["subnet4"][0]["option-data"][1] == OURS
    assert value["Dhcp4"]["subnet4"][1]["option-data"] == [OURS]
    for path, key, remove in ((["Dhcp4", "subnet4", 0], "option-data", False), (["Dhcp4", "subnet4", 1], "option-data", True)):
        doc.replace_owned(path, key, owned, [], remove)
    doc.replace_owned(["Dhcp4"], "client-classes", owned, [], True)
    assert doc.texts[MAIN] == SAMPLE


def test_unchanged_elements_are_not_rewritten():
    doc = jsonc.TextDoc({MAIN: SAMPLE}, MAIN)
    doc.replace_owned(["Dhcp4", "subnet4", 0], "option-data", owned, [OURS], False)
    once = doc.texts[MAIN]
    doc.replace_owned(["Dhcp4", "subnet4", 0], "option-data", owned, [OURS], False)
    assert doc.texts[MAIN] == once


def test_edits_land_in_the_included_file():
    main = '{ "Dhcp4": { "subnet4": [ <?include "subnets.json"?> ] } }\n'
    included = '// subnets\n{ "id": 1, "subnet": "10.0.0.0/24" }\n'
    texts = {MAIN: main, "/etc/kea/subnets.json": included}
    doc = jsonc.TextDoc(texts, MAIN)
    doc.replace_owned(["Dhcp4", "subnet4", 0], "option-data", owned, [OURS], True)
    assert doc.texts[MAIN] == main
    assert "tftp-server-name" in doc.texts["/etc/kea/subnets.json"]
    doc.replace_owned(["Dhcp4", "subnet4", 0], "option-data", owned, [], True)
    assert doc.texts["/etc/kea/subnets.json"] == included


@pytest.mark.parametrize("bad", ['{ "a": 1 ', '{ "a": 1 } x', '{ "a": <?include "missing"?> }', "{ /* open }"])
def test_broken_configs_are_reported(bad):
    with pytest.raises(jsonc.JsoncError):
        jsonc.TextDoc({MAIN: bad}, MAIN)


def test_dict_doc_merges_what_the_server_filled_in():
    value = {"Dhcp4": {"option-data": [{"code": 1}, dict(OURS, space="dhcp4")]}}
    doc = jsonc.DictDoc(value, merge=lambda old, new: dict(old or {}, **new))
    doc.replace_owned(["Dhcp4"], "option-data", owned, [dict(OURS, data="http://y/")], True)
    assert value["Dhcp4"]["option-data"][1] == dict(OURS, space="dhcp4", data="http://y/")
    doc.replace_owned(["Dhcp4"], "option-data", owned, [], True)
    assert value["Dhcp4"]["option-data"] == [{"code": 1}]


# -- any formatting: our insertion undoes exactly ---------------------------------------------

_space = st.sampled_from(["", " ", "\n", "\n    ", "  // note\n  ", " /* c */ ", "\n# hash\n"])


@st.composite
def configs(draw):
    """A Kea-like document with a subnet whose option-data may be missing, empty or filled, in varied layout."""
    s = [draw(_space) for _index in range(12)]
    items = draw(st.lists(st.sampled_from(['{ "name": "routers", "data": "10.0.0.1" }', '{"code": 150, "data": "0A"}']), max_size=3))
    options = ""
    shape = draw(st.sampled_from(["missing", "array"]))
    if shape == "array":
        options = ',%s"option-data"%s:%s[%s%s%s]' % (s[0], s[1], s[2], s[3], ("," + s[4]).join(items), s[5])
    return '%s{%s"Dhcp4":%s{ "subnet4": [%s{ "id": 1,%s"subnet": "10.0.0.0/24"%s%s}%s] }%s}%s' % (
        s[6],
        s[7],
        s[8],
        s[9],
        s[10],
        options,
        s[11],
        s[6],
        s[7],
        s[8],
    )


@settings(max_examples=150, deadline=None)
@given(configs(), st.integers(min_value=1, max_value=3))
def test_insert_then_remove_gives_the_same_bytes(text, count):
    doc = jsonc.TextDoc({MAIN: text}, MAIN)
    created = "option-data" not in doc.value()["Dhcp4"]["subnet4"][0]
    wanted = [dict(OURS, data="http://x/%d" % i) for i in range(count)]
    doc.replace_owned(["Dhcp4", "subnet4", 0], "option-data", owned, wanted, created)
    assert [e for e in doc.value()["Dhcp4"]["subnet4"][0]["option-data"] if owned(e)] == wanted
    doc.replace_owned(["Dhcp4", "subnet4", 0], "option-data", owned, [], created)
    assert doc.texts[MAIN] == text
