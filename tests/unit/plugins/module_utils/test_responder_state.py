"""provision_status's report over a status database with the responder's own schema."""

from __future__ import annotations

import sqlite3

import pytest

from ansible_collections.pbxops.autoprov.plugins.module_utils import _responder_state as status
from autoprov_responder import store as responder_store

NOW = 1_750_000_000.0
A, B, C, D, E = "001565aabb01", "001565aabb02", "001565aabb03", "001565aabb04", "001565aabb05"
STRANGER = "0c383e000009"


def manifest():
    files, devices = {}, {}
    for mac in (A, B, C, D, E):
        names = ["%s.boot" % mac, "%s.cfg" % mac]
        for name in names:
            files[name] = {"sha256": "sha-" + name, "mac": mac, "vendor": "yealink", "secret": name.endswith(".cfg")}
        devices[mac] = {"vendor": "yealink", "model": "T46S", "files": names, "extensions": ["10"]}
    return {"format": 2, "files": files, "devices": devices}


def fetch(db, t, mac, name, sha=None, status_code=200, reason=None, firmware="66.86.0.15", source="10.99.50.7"):
    db.execute(
        "INSERT INTO fetches (time, proto, method, source, path, file, mac, ua_mac, vendor, model, firmware, user_agent,"
        " status, reason, bytes, sha256) VALUES (?, 'http', 'GET', ?, ?, ?, ?, ?, 'yealink', 'T46S', ?, 'Yealink SIP-T46S', ?, ?, 10, ?)",
        (t, source, name, name, mac, mac, firmware, status_code, reason, sha if status_code in (200, 304) else None),
    )


def pnp_event(db, t, mac, answered, vendor="Fanvil", model="X4U", firmware="2.12.2", known=1):
    db.execute(
        "INSERT INTO pnp_events (time, source, source_port, mac, vendor, vendor_key, model, firmware, known, answered, reason, notify)"
        " VALUES (?, '10.99.50.9', 5060, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            t,
            mac,
            vendor,
            vendor.lower(),
            model,
            firmware,
            known,
            answered,
            None if answered else "unknown_mac",
            "delivered" if answered else None,
        ),
    )


@pytest.fixture
def db_path(tmp_path):
    path = tmp_path / "status.sqlite"
    db = sqlite3.connect(path)
    db.executescript(responder_store.SCHEMA)
    db.execute("PRAGMA user_version = %d" % responder_store.SCHEMA_VERSION)
    # A: both files, current. B: one file changed since. C: only the boot file.
    # D: only refused (no credentials). E: nothing. STRANGER: PnP only, not in the inventory.
    for mac in (A, B, C):
        fetch(db, NOW - 300, mac, "%s.boot" % mac, sha="sha-%s.boot" % mac)
    fetch(db, NOW - 200, A, "%s.cfg" % A, sha="sha-%s.cfg" % A)
    fetch(db, NOW - 200, B, "%s.cfg" % B, sha="older")
    fetch(db, NOW - 100, D, "%s.cfg" % D, status_code=401, reason="auth_required")
    pnp_event(db, NOW - 50, STRANGER, answered=0, known=0)
    pnp_event(db, NOW - 400, C, answered=1, vendor="Yealink", model="T46S", firmware="66.85.0.5")
    db.commit()
    db.close()
    return path


def test_report_states(db_path):
    store = status.Store(str(db_path))
    try:
        inventory = [{"mac": m, "vendor": None, "model": None} for m in (A, B, C, D, E)]
        devices, discovered = status.report(inventory, manifest(), store, now=NOW)
    finally:
        store.close()
    by_mac = {d["mac"]: d for d in devices}
    assert [d["mac"] for d in devices] == [A, B, C, D, E]
    assert by_mac[A]["state"] == "current" and by_mac[A]["current"] is True
    assert by_mac[A]["firmware"] == "66.86.0.15" and by_mac[A]["firmware_from"] == "user-agent"
    assert by_mac[A]["source"] == "10.99.50.7" and by_mac[A]["last_fetch"] == status.iso(NOW - 200)
    assert by_mac[B]["state"] == "outdated" and by_mac[B]["outdated"] == ["%s.cfg" % B]
    assert by_mac[C]["state"] == "partial" and by_mac[C]["missing"] == ["%s.cfg" % C]
    assert by_mac[D]["state"] == "refused" and by_mac[D]["last_refused"]["reason"] == "auth_required"
    assert by_mac[E]["state"] == "never seen" and by_mac[E]["last_fetch"] is None
    assert by_mac[A]["vendor"] == "yealink" and by_mac[A]["model"] == "T46S"  # from the manifest
    assert [d["mac"] for d in discovered] == [STRANGER]
    assert discovered[0]["vendor"] == "fanvil" and discovered[0]["model"] == "X4U" and discovered[0]["firmware"] == "2.12.2"

    text = status.table("pbx1", devices, discovered, now=NOW)
    lines = text.splitlines()
    assert lines[0].startswith("pbx1: 5 device(s):") and "1 discovered" in lines[0]
    row_a = next(line for line in lines if line.startswith("00:15:65:aa:bb:01"))
    assert "66.86.0.15" in row_a and "2/2" in row_a and row_a.endswith("current") and "(3m ago)" in row_a
    assert any(line.startswith("00:15:65:aa:bb:04") and "401" in line and "auth_required" in line for line in lines)
    assert "Discovered, not in the inventory:" in lines
    assert any(line.startswith("0c:38:3e:00:00:09") and "X4U" in line for line in lines)


def test_pnp_firmware_when_no_fetch(db_path):
    store = status.Store(str(db_path))
    try:
        db = sqlite3.connect(db_path)
        pnp_event(db, NOW - 10, E, answered=1, vendor="Yealink", model="T46S", firmware="66.80.0.1")
        db.commit()
        db.close()
        devices, _discovered = status.report([{"mac": E}], manifest(), store, now=NOW)
    finally:
        store.close()
    assert devices[0]["state"] == "pnp only"
    assert devices[0]["firmware"] == "66.80.0.1" and devices[0]["firmware_from"] == "pnp"


def test_unknown_schema_version_is_refused(tmp_path):
    path = tmp_path / "future.sqlite"
    db = sqlite3.connect(path)
    db.execute("PRAGMA user_version = 99")
    db.close()
    with pytest.raises(status.StatusError, match="schema version 99"):
        status.Store(str(path))


def test_unknown_manifest_format_is_refused(tmp_path):
    (tmp_path / status.MANIFEST).write_text('{"format": 7}')
    with pytest.raises(status.StatusError, match="format 7"):
        status.read_manifest(str(tmp_path))


@pytest.mark.parametrize(
    "raw, table",
    [
        ("T46S", "T46S"),
        ("T46S\r00:15:65:ff:ff:ff  Yealink  FORGED", "T46S\\r00:15:65:ff:ff:ff  Yealink  FORGED"),
        ("a\nb\tc\\d", "a\\nb\\tc\\\\d"),
        ("\x1b[2J\x85\u2028\u202e\ufeff", "\\x1b[2J\\x85\\u2028\\u202e\\ufeff"),
        ("Grandstream GXP2170 é ü 中", "Grandstream GXP2170 é ü 中"),
    ],
)
def test_control_characters_are_escaped_where_the_table_shows_them(raw, table):
    assert status.shown(raw) == table
    lines = status._grid(["MODEL", "X"], [[raw, "1"]])
    assert len(lines) == 2 and lines[1].startswith(table)


def test_the_discovered_table_shows_the_most_recent_and_counts_the_rest():
    discovered = [
        {
            "mac": "0c383e%06x" % n,
            "vendor": None,
            "model": None,
            "firmware": None,
            "last_seen": None,
            "source": "10.0.0.1",
            "pnp_events": 1,
            "fetches": 0,
        }
        for n in range(status.DISCOVERED_SHOWN + 7)
    ]
    lines = status.table("pbx", [], discovered).splitlines()
    assert lines[0].endswith("; %d discovered, not in the inventory" % len(discovered))
    assert sum(line.startswith("0c:38:3e:") for line in lines) == status.DISCOVERED_SHOWN
    assert lines[-1] == "... and 7 more seen earlier (all are in the result's discovered list)"


def test_a_version_1_database_reads_without_credentials_and_version_2_shows_them(tmp_path):
    """A responder not yet restarted since the upgrade keeps schema 1 (no fetches.credential)."""
    for version in (1, 2):
        path = tmp_path / ("v%d.sqlite" % version)
        db = sqlite3.connect(path)
        schema = responder_store.SCHEMA
        if version == 1:
            schema = schema.replace(",\n    credential TEXT\n", "\n").replace(", bytes, credential\n", ", bytes\n")
        db.executescript(schema)
        db.execute("PRAGMA user_version = %d" % version)
        fetch(db, NOW - 10, A, "%s.cfg" % A, sha="sha-%s.cfg" % A)
        if version == 2:
            db.execute("UPDATE fetches SET credential = 'previous'")
        db.commit()
        db.close()
        store = status.Store(str(path))
        try:
            devices, _discovered = status.report([{"mac": A}], manifest(), store, now=NOW)
        finally:
            store.close()
        assert devices[0]["credential"] == (None if version == 1 else "previous")
        assert ("(previous password)" in status.table("pbx", devices, [])) is (version == 2)


def test_a_device_that_fetched_through_the_dhcp_url_is_reported_as_arrived_by_dhcp(tmp_path):
    """DHCP option 66 hands out the provisioning URL + dhcp/ (_urls.VIA); the responder records such a fetch's
    path under the token as dhcp/<file> (test_end_to_end checks that side with a real fetch)."""
    path = tmp_path / "status.sqlite"
    db = sqlite3.connect(path)
    db.executescript(responder_store.SCHEMA)
    db.execute("PRAGMA user_version = %d" % responder_store.SCHEMA_VERSION)
    for t, mac, where, code in ((NOW - 90, A, "dhcp/", 200), (NOW - 80, A, "", 200), (NOW - 70, B, "", 200),
                                (NOW - 60, C, "dhcp/", 401), (NOW - 50, D, "/Zt4tok3n/dhcp/", 200)):  # fmt: skip
        fetch(db, t, mac, "%s.cfg" % mac, sha="sha-%s.cfg" % mac, status_code=code, reason=None if code == 200 else "auth_required")
        db.execute("UPDATE fetches SET path = ? WHERE id = last_insert_rowid()", (where + "%s.cfg" % mac,))
    db.commit()
    db.close()
    store = status.Store(str(path))
    try:
        devices, _discovered = status.report([{"mac": m} for m in (A, B, C, D)], manifest(), store, now=NOW)
    finally:
        store.close()
    by_mac = {d["mac"]: d for d in devices}
    assert by_mac[A]["dhcp_fetch"] == status.iso(NOW - 90)  # its later fetch came through the plain URL
    assert [by_mac[m]["dhcp_fetch"] for m in (B, C, D)] == [None, None, None]  # plain URL; refused; a raw target
    row_a = next(line for line in status.table("pbx1", devices, []).splitlines() if line.startswith("00:15:65:aa:bb:01"))
    assert row_a.endswith("(by DHCP)")
