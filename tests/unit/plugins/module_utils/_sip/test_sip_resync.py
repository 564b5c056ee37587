"""resync's logic: which device gets which NOTIFY where, the message itself, and the exchange with retransmission."""

from __future__ import annotations

import socket
import sqlite3
import threading

import pytest

from ansible_collections.pbxops.autoprov.plugins.module_utils import _responder_state as status
from ansible_collections.pbxops.autoprov.plugins.module_utils._sip import message as _sip
from ansible_collections.pbxops.autoprov.plugins.module_utils._sip import resync as _resync
from autoprov_responder import store as responder_store

YEALINK, POLY, CISCO, SNOM = "001565aabb01", "0004f2aabb02", "00562baabb03", "000413aabb04"
MANIFEST = {
    "format": 2,
    "devices": {
        YEALINK: {"vendor": "yealink", "model": "T46S", "files": [], "extensions": ["201", "202"]},
        POLY: {"vendor": "poly", "model": "VVX450", "files": [], "extensions": ["10#1"]},
        CISCO: {"vendor": "cisco", "model": "6841", "files": [], "extensions": []},
        SNOM: {"vendor": "snom", "model": "D785", "files": [], "extensions": ["204"]},
    },
}
PATH = "/srv/configs/.autoprov-manifest.json"


def plan(macs, seen=None, overrides=None, **kw):
    entries, warnings = _resync.plan(macs, MANIFEST, PATH, seen or {}, overrides, **kw)
    return {e["mac"]: e for e in entries}, warnings


def test_device_macs_any_notation_and_every_error():
    secret_item = {"mac": "0004.f2aa.bb02", "lines": [{"extension": "1", "secret": "Sup3r-Secret"}]}
    macs, errors = _resync.device_macs(["00:15:65:AA:BB:01", "0004.f2aa.bb02", "001565aabb01", "zz", secret_item])
    assert macs == [YEALINK, POLY]
    assert len(errors) == 2 and errors[0].startswith("devices[3]: mac: 'zz' is not a MAC")
    assert errors[1].startswith("devices[4]: give the device's MAC, not a dict") and "Sup3r-Secret" not in errors[1]


def test_event_per_vendor_from_the_catalog_and_user_is_the_first_extension():
    seen = {m: ("192.0.2.%d" % n, 1_750_000_000.0) for n, m in enumerate((YEALINK, POLY, CISCO, SNOM), start=31)}
    entries, warnings = plan([YEALINK, POLY, CISCO, SNOM], seen)
    assert warnings == []
    assert {m: e["event"] for m, e in entries.items()} == {
        YEALINK: "check-sync;reboot=false",
        POLY: "check-sync",
        CISCO: "resync",
        SNOM: "check-sync;reboot=false",
    }
    assert entries[YEALINK]["user"] == "201" and entries[CISCO]["user"] == CISCO  # no extension: the MAC
    assert _resync.request_uri(entries[YEALINK]) == "sip:201@192.0.2.31:5060"
    assert _resync.request_uri(entries[POLY]) == "sip:10%231@192.0.2.32:5060"  # '#' is no URI character
    assert entries[YEALINK]["address_from"] == "status_db" and entries[YEALINK]["last_seen"] == "2025-06-15T15:06:40Z"


def test_addresses_override_the_database_and_event_overrides_the_catalog():
    seen = {YEALINK: ("::ffff:192.0.2.31", 1.0), POLY: ("192.0.2.32", 1.0)}
    overrides = {"00:04:f2:aa:bb:02": "192.0.2.99:5070", "0056.2baa.bb03": "[2001:db8::3]", "000413aabb04": "127.0.0.1"}
    entries, _unused = plan([YEALINK, POLY, CISCO, SNOM], seen, overrides, port=5062, event="check-sync;reboot=true")
    assert (entries[YEALINK]["host"], entries[YEALINK]["port"], entries[YEALINK]["address_from"]) == ("192.0.2.31", 5062, "status_db")
    assert (entries[POLY]["host"], entries[POLY]["port"], entries[POLY]["address_from"]) == ("192.0.2.99", 5070, "addresses")
    assert _resync.request_uri(entries[CISCO]) == "sip:%s@[2001:db8::3]:5062" % CISCO
    assert (entries[SNOM]["host"], entries[SNOM]["port"]) == ("127.0.0.1", 5062)
    assert {e["event"] for e in entries.values()} == {"check-sync;reboot=true"}


def test_never_seen_has_no_address():
    entries, warnings = plan([YEALINK, POLY], seen={POLY: ("?", 1.0)})
    assert entries[YEALINK]["host"] is None and entries[POLY]["host"] is None
    assert warnings == ["device 0004f2aabb02: the status database holds '?' as its address, which is no IP address"]
    _resync.skip(list(entries.values()))
    assert entries[YEALINK]["outcome"] == entries[POLY]["outcome"] == "no_address"


def test_only_the_addresses_of_devices_asked_are_resolved():
    entries, _unused = plan([YEALINK], overrides={YEALINK: "localhost:5062", POLY: "no-such-host.invalid"})
    assert (entries[YEALINK]["host"], entries[YEALINK]["port"]) in (("127.0.0.1", 5062), ("::1", 5062))


def test_bad_input_names_device_and_field_every_problem_at_once():
    with pytest.raises(_resync.ResyncError) as error:
        plan(
            [YEALINK, "0c383e000009"],
            overrides={"nonsense": "192.0.2.1", YEALINK: "192.0.2.1:99999"},
            event="check-sync\r\nX-Injected: 1",
        )
    text = str(error.value)
    assert "addresses: key 'nonsense' is not a MAC" in text
    assert "device 001565aabb01: addresses[001565aabb01]: '192.0.2.1:99999': port 99999 is not a UDP port" in text
    assert "event: 'check-sync\\r\\nX-Injected: 1' is not an Event header value" in text
    assert "device 0c383e000009: mac: not in the manifest %s" % PATH in text


def test_check_mode_tolerates_devices_not_in_the_manifest_yet():
    entries, warnings = plan(["0c383e000009"], check_mode=True)
    assert entries["0c383e000009"]["vendor"] is None and "not in the manifest" in warnings[0] and "check mode" in warnings[0]


def test_a_vendor_the_catalog_lacks_needs_an_event():
    manifest = {"format": 2, "devices": {YEALINK: {"vendor": "acme", "extensions": ["1"]}}}
    with pytest.raises(_resync.ResyncError, match="device 001565aabb01: vendor: 'acme'.*give event"):
        _resync.plan([YEALINK], manifest, PATH, {})
    entries, _unused = _resync.plan([YEALINK], manifest, PATH, {}, event="check-sync")
    assert entries[0]["event"] == "check-sync"


def test_notify_is_a_well_formed_out_of_dialog_request():
    entry = {"mac": YEALINK, "user": "201", "host": "192.0.2.31", "port": 5060, "event": "check-sync;reboot=false"}
    raw = _resync.build_notify(entry, "192.0.2.1", 40000, "cid@192.0.2.1", "tag1", "z9hG4bKxyz")
    assert raw.endswith(b"\r\n\r\n") and b"\n\n" not in raw.replace(b"\r\n", b"")
    message = _sip.parse_message(raw)
    assert message["kind"] == "request" and message["method"] == "NOTIFY" and message["uri"] == "sip:201@192.0.2.31:5060"
    h = {name: values[0] for name, values in message["headers"].items()}
    assert h["via"] == "SIP/2.0/UDP 192.0.2.1:40000;branch=z9hG4bKxyz;rport"
    assert h["from"] == "<sip:autoprov@192.0.2.1>;tag=tag1"
    assert h["to"] == "<sip:201@192.0.2.31:5060>"  # no tag: out of dialog
    assert h["call-id"] == "cid@192.0.2.1" and h["cseq"] == "1 NOTIFY" and h["max-forwards"] == "70"
    assert h["contact"] == "<sip:autoprov@192.0.2.1:40000>"
    assert h["event"] == "check-sync;reboot=false" and h["subscription-state"] == "terminated"
    assert h["content-length"] == "0" and message["body"] == ""
    v6 = _sip.parse_message(_resync.build_notify(dict(entry, host="2001:db8::31"), "2001:db8::1", 40000, "c", "t", "z9hG4bKv6"))
    assert v6["uri"] == "sip:201@[2001:db8::31]:5060" and "[2001:db8::1]:40000" in _sip.header(v6, "via")


# -- the exchange, against UDP "phones" on loopback ------------------------------------------------------
class Phone(threading.Thread):
    """Answers each NOTIFY with `answers` in turn (None: stays silent), after dropping the first `drop` datagrams."""

    def __init__(self, answers, drop=0):
        super().__init__(daemon=True)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.answers, self.drop, self.received, self.stopped = list(answers), drop, [], False

    def run(self):
        while not self.stopped:
            try:
                data, peer = self.sock.recvfrom(65535)
            except socket.timeout:
                continue
            self.received.append(_sip.parse_message(data))
            if len(self.received) <= self.drop:
                continue
            for answer in self.answers:
                if answer is None:
                    continue
                ok = _sip.build_ok(self.received[-1]).decode()
                self.sock.sendto(ok.replace("SIP/2.0 200 OK", "SIP/2.0 " + answer, 1).encode(), peer)

    def stop(self):
        self.stopped = True
        self.join(2)
        self.sock.close()


def entry(mac, port):
    return {"mac": mac, "user": "201", "host": "127.0.0.1", "port": port, "event": "check-sync;reboot=false"}


def test_send_reports_each_outcome_and_retransmits_until_answered():
    lossy = Phone(["200 OK"], drop=2)  # the first two NOTIFYs are "lost"
    refusing = Phone(["100 Trying", "489 Bad Event"])
    silent = Phone([None])
    phones = (lossy, refusing, silent)
    for phone in phones:
        phone.start()
    entries = [entry(YEALINK, lossy.port), entry(POLY, refusing.port), entry(CISCO, silent.port), dict(entry(SNOM, 0), host=None)]
    try:
        _resync.send(entries, timeout=1.8)
    finally:
        for phone in phones:
            phone.stop()
    got = {e["mac"]: e for e in entries}
    assert got[YEALINK]["outcome"] == "delivered" and got[YEALINK]["sip_status"] == 200
    assert got[YEALINK]["transmissions"] == 3 and got[YEALINK]["elapsed_ms"] >= 1400  # answered at the send at 1.5 s
    assert got[POLY]["outcome"] == "rejected" and (got[POLY]["sip_status"], got[POLY]["sip_reason"]) == (489, "Bad Event")
    assert got[POLY]["transmissions"] == 1
    assert got[CISCO]["outcome"] == "timeout" and got[CISCO]["sip_status"] is None
    assert got[CISCO]["transmissions"] == len(_sip.send_times(1.8)) == 3 == len(silent.received)
    assert got[SNOM]["outcome"] == "no_address" and got[SNOM]["transmissions"] == 0
    # Every retransmission is the same request (same branch, Call-ID and CSeq), as RFC 3261 17.1.2.2 wants.
    assert len({(_sip.top_branch(m), _sip.header(m, "call-id"), _sip.header(m, "cseq")) for m in lossy.received}) == 1
    assert lossy.received[0]["uri"] == "sip:201@127.0.0.1:%d" % lossy.port


def test_a_provisional_answer_keeps_waiting_and_is_reported_on_timeout():
    ringing = Phone(["180 Ringing"])
    ringing.start()
    entries = [entry(YEALINK, ringing.port)]
    try:
        _resync.send(entries, timeout=1.0)
    finally:
        ringing.stop()
    assert entries[0]["outcome"] == "timeout" and entries[0]["sip_status"] == 180
    assert entries[0]["transmissions"] == 2  # at 0 and 0.5 s; after the 180 the next would be 4 s later


def test_an_address_this_host_cannot_send_to_is_unreachable_not_a_failure():
    entries = [dict(entry(YEALINK, 5060), host="2001:db8::31")]
    _resync.send(entries, timeout=0.5, source_address="127.0.0.1")
    assert entries[0]["outcome"] == "unreachable" and "cannot reach an IPv6 address" in entries[0]["error"]


# -- the addresses the status store gives -------------------------------------------------------------------
def test_last_addresses_from_served_fetches_and_pnp_never_refusals(tmp_path):
    path = tmp_path / "status.sqlite"
    db = sqlite3.connect(path)
    db.executescript(responder_store.SCHEMA)
    db.execute("PRAGMA user_version = %d" % responder_store.SCHEMA_VERSION)
    rows = [
        (10.0, "192.0.2.31", YEALINK, 200),
        (20.0, "192.0.2.66", YEALINK, 403),  # someone asking for its file: not where the phone is
        (15.0, "192.0.2.32", POLY, 304),
    ]
    for t, source, mac, code in rows:
        db.execute(
            "INSERT INTO fetches (time, proto, method, source, path, file, mac, status, bytes)"
            " VALUES (?, 'http', 'GET', ?, 'f', 'f', ?, ?, 0)",
            (t, source, mac, code),
        )
    db.execute(
        "INSERT INTO pnp_events (time, source, source_port, mac, known, answered) VALUES (30.0, '192.0.2.40', 5060, ?, 1, 1)", (POLY,)
    )
    db.commit()
    db.close()
    store = status.Store(str(path))
    try:
        assert store.last_addresses([YEALINK, POLY, CISCO]) == {YEALINK: ("192.0.2.31", 10.0), POLY: ("192.0.2.40", 30.0)}
    finally:
        store.close()


def test_locate_reads_the_responder_config_relative_db(tmp_path):
    config = tmp_path / "responder.json"
    config.write_text('{"root": "/srv/configs", "url": "http://x/", "db": "state/status.sqlite"}')
    assert status.locate(str(config)) == (str(tmp_path / "state" / "status.sqlite"), "/srv/configs")
    assert status.locate(str(tmp_path / "absent.json"), "/d.sqlite", "/r") == ("/d.sqlite", "/r")
    with pytest.raises(status.StatusError, match="no responder configuration"):
        status.locate(str(tmp_path / "absent.json"), "/d.sqlite")
