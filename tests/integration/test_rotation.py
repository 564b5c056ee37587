"""Rotating the config host's password (issue 15, docs/inventory.md "Rotating the config host's
password"): a phone that still holds the replaced password gets its file inside the grace window,
not after it, and status says who still uses it. Against the real responder in namespaces.

Addresses: 10.99.32.0/24 as in test_responder_http (its Site).
"""

from __future__ import annotations

import time

import pytest
from responder_support import user_agent
from test_responder_http import BASE, GS_PASSWORD, PASSWORD, SIP_SECRET, YEALINK, Site

OLD = "Old-Prov-Pass-1"
SECRET_URL, UA = BASE + YEALINK + ".cfg", user_agent("yealink", YEALINK)


@pytest.fixture
def site(netns, tmp_path):
    s = Site(netns, tmp_path)
    yield s
    if s.responder:
        s.responder.stop()
        log = s.responder.log()
        for secret in (PASSWORD, GS_PASSWORD, SIP_SECRET, OLD):
            assert secret not in log, "a secret reached the responder's log"


def _utc(epoch):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


@pytest.mark.parametrize("scheme", [["--basic"], ["--digest"]])
def test_the_replaced_password_works_inside_the_grace_window_and_not_after(site, scheme):
    from ansible_collections.pbxops.autoprov.plugins.module_utils import _responder_state as state

    until = int(time.time()) + 4
    auth = {"username": "prov", "password": PASSWORD, "previous": {"password": OLD, "until": _utc(until)}}
    site.start(auth=auth)
    assert site.curl(SECRET_URL, "-A", UA, *scheme, "-u", "prov:" + OLD)[0] == 200
    site.fetches(expect=lambda rows: any(r["status"] == 200 for r in rows))
    store = state.Store(site.responder.settings["db"])
    try:
        devices, _discovered = state.report([{"mac": YEALINK}], state.read_manifest(str(site.root)), store)
    finally:
        store.close()
    assert devices[0]["credential"] == "previous"
    assert "(previous password)" in state.table("pbx", devices, [])
    assert site.curl(SECRET_URL, "-A", UA, *scheme, "-u", "prov:" + PASSWORD)[0] == 200  # the new one, of course
    time.sleep(max(0.0, until - time.time()) + 0.5)
    assert site.curl(SECRET_URL, "-A", UA, *scheme, "-u", "prov:" + OLD)[0] == 401  # the window has closed
    assert site.curl(SECRET_URL, "-A", UA, *scheme, "-u", "prov:" + PASSWORD)[0] == 200
    # Digest's first request of each pair is the challenge (auth_required): not an answer.
    rows = site.fetches(expect=lambda rows: len(_answers(rows)) == 4)
    assert [(r["status"], r["credential"]) for r in _answers(rows)] == [(200, "previous"), (200, "shared"), (401, None), (200, "shared")]


def _answers(rows):
    return [r for r in rows if r["reason"] != "auth_required"]
