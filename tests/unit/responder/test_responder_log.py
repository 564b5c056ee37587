"""The event log: values escaped, and a flood of one event bounded with a count of what was left out."""

from __future__ import annotations

import io

from autoprov_responder import log as eventlog


def test_a_flood_of_one_event_is_cut_and_counted_while_others_still_log():
    out = io.StringIO()
    log = eventlog.EventLog("info", stream=out, rate=0.0, burst=5)
    for n in range(1000):
        log.event("warning", "http_accept_failed", n=n)
    log.event("info", "started", ua="a\rforged line")
    log.summarise_all()
    lines = out.getvalue().splitlines()
    assert sum(" http_accept_failed " in line for line in lines) == 5
    assert any(" log_suppressed " in line and "event=http_accept_failed" in line and "lines=995" in line for line in lines)
    assert any(" started " in line and 'ua="a\\rforged line"' in line for line in lines)
    assert len(lines) == 7
