"""The status store: schema version, batched writes, the views provision_status reads."""

from __future__ import annotations

import sqlite3
import time

import pytest

from autoprov_responder import store


class Log:
    def event(self, *args, **kw):
        pass


def test_records_and_views(tmp_path):
    path = str(tmp_path / "s.sqlite")
    s = store.StatusStore(path, Log(), flush_interval=0.05)
    s.start()
    now = time.time()
    mac = "001565aabb01"
    s.fetch(
        {
            "time": now - 10,
            "proto": "http",
            "method": "GET",
            "source": "10.0.0.2",
            "path": "a.cfg",
            "file": "a.cfg",
            "mac": mac,
            "status": 200,
            "bytes": 5,
            "sha256": "old",
            "firmware": "1",
        }
    )
    s.fetch(
        {
            "time": now,
            "proto": "https",
            "method": "GET",
            "source": "10.0.0.3",
            "path": "a.cfg",
            "file": "a.cfg",
            "mac": mac,
            "status": 200,
            "bytes": 5,
            "sha256": "new",
            "firmware": "2",
            "model": "T46S",
        }
    )
    s.fetch(
        {
            "time": now + 1,
            "proto": "http",
            "method": "GET",
            "source": "10.0.0.3",
            "path": "a.cfg",
            "file": "a.cfg",
            "mac": mac,
            "status": 401,
            "reason": "auth_required",
            "bytes": 0,
        }
    )
    event = s.pnp_event(
        {
            "time": now - 20,
            "source": "10.0.0.2",
            "source_port": 5060,
            "mac": mac,
            "vendor_key": "yealink",
            "known": 1,
            "answered": 1,
            "notify": "pending",
        }
    )
    s.pnp_outcome(event, "delivered", 200)  # may land in the same batch as its event
    s.pnp_event(
        {
            "time": now,
            "source": "10.0.0.9",
            "source_port": 5060,
            "mac": "0004130000ff",
            "vendor": "snom",
            "model": "snomD385",
            "known": 0,
            "answered": 0,
            "reason": "unknown_mac",
        }
    )
    s.close()
    db = sqlite3.connect(path)
    db.row_factory = sqlite3.Row
    assert db.execute("PRAGMA user_version").fetchone()[0] == store.SCHEMA_VERSION
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    last = [dict(r) for r in db.execute("SELECT * FROM last_fetches")]
    assert len(last) == 1 and last[0]["sha256"] == "new" and last[0]["source"] == "10.0.0.3" and last[0]["firmware"] == "2"
    seen = {r["mac"]: dict(r) for r in db.execute("SELECT * FROM devices_seen")}
    assert seen[mac]["fetches"] == 3 and seen[mac]["pnp_events"] == 1 and seen[mac]["last_notify"] == "delivered"
    assert seen[mac]["last_source"] == "10.0.0.3" and seen[mac]["vendor_key"] == "yealink" and seen[mac]["firmware"] == "2"
    assert seen["0004130000ff"]["last_pnp_answered"] == 0 and seen["0004130000ff"]["model"] == "snomD385"
    row = db.execute("SELECT notify, notify_status FROM pnp_events WHERE id = ?", (event,)).fetchone()
    assert tuple(row) == ("delivered", 200)
    # a second run continues the ids
    s2 = store.StatusStore(path, Log())
    assert s2.pnp_event({"time": now, "source": "x", "source_port": 1, "known": 0, "answered": 0}) == event + 2
    s2.close()


def test_refuses_a_newer_schema(tmp_path):
    path = str(tmp_path / "s.sqlite")
    db = sqlite3.connect(path)
    db.execute("PRAGMA user_version = 99")
    db.close()
    with pytest.raises(store.StoreError, match="schema version 99"):
        store.StatusStore(path, Log())


def test_retention(tmp_path):
    path = str(tmp_path / "s.sqlite")
    s = store.StatusStore(path, Log(), retention_days=1)
    old = {"time": time.time() - 3 * 86400, "proto": "http", "method": "GET", "source": "x", "path": "p", "status": 404, "bytes": 0}
    s.fetch(old)
    s._write_batch()  # the first batch prunes what is older than the retention
    s._last_prune = 0
    s._maybe_prune()
    s.close()
    assert sqlite3.connect(path).execute("SELECT count(*) FROM fetches").fetchone()[0] == 0


def _fetch(n, mac=None):
    return {
        "time": time.time(),
        "proto": "http",
        "method": "GET",
        "source": "10.0.0.%d" % (n % 250),
        "path": "p%d" % n,
        "mac": mac,
        "status": 404,
        "bytes": 0,
    }


def _count(path, table="fetches"):
    return sqlite3.connect(path).execute("SELECT count(*) FROM %s" % table).fetchone()[0]


def test_a_flood_of_strangers_is_bounded_but_known_devices_are_kept(tmp_path):
    path = str(tmp_path / "s.sqlite")
    admission = store.Admission(other_rate=0.0, other_burst=50, unknown_macs=20, known_burst=30, known_rate=0.0)
    s = store.StatusStore(path, Log(), admission=admission)
    for n in range(10000):
        s.fetch(_fetch(n, mac="0c383e%06x" % n))  # each another unknown MAC
    for n in range(10000):
        s.fetch(_fetch(n))  # misses without a MAC share the same budget
    for n in range(40):
        s.fetch(_fetch(n, mac="001565aabb01"), known=True)
        s.pnp_event({"time": time.time(), "source": "x", "source_port": 1, "mac": "001565aabb02", "known": 1, "answered": 1})
    s.close()
    macs = sqlite3.connect(path).execute("SELECT count(DISTINCT mac) FROM fetches WHERE mac LIKE '0c383e%'").fetchone()[0]
    assert macs == 20 and _count(path) == 50 + 30 and _count(path, "pnp_events") == 30
    assert admission.dropped == 20000 - 50 + 10 + 10
    # After a restart the MACs already recorded still count against the cap.
    s = store.StatusStore(path, Log(), admission=store.Admission(unknown_macs=20))
    s.fetch(_fetch(1, mac="0c383effffff"))
    s.close()
    assert _count(path) == 80


def test_rows_beyond_max_rows_go_oldest_first(tmp_path):
    path = str(tmp_path / "s.sqlite")
    s = store.StatusStore(path, Log(), max_rows=100, admission=store.Admission(other_burst=10**6))
    for n in range(250):
        s.fetch(_fetch(n))
    s._write_batch()
    s.close()
    db = sqlite3.connect(path)
    assert db.execute("SELECT count(*), min(path) FROM fetches WHERE path = 'p150'").fetchone()[0] == 1
    assert _count(path) == 100 and db.execute("SELECT count(*) FROM fetches WHERE path = 'p149'").fetchone()[0] == 0


def test_write_failures_are_said_once_per_outage(tmp_path):
    class Lines(Log):
        def __init__(self):
            self.names = []

        def event(self, level, name, **fields):
            self.names.append(name)

    log = Lines()
    s = store.StatusStore(str(tmp_path / "s.sqlite"), log)
    s._db.execute("PRAGMA query_only = 1")  # as a database gone read-only under us
    for n in range(3):
        s.fetch(_fetch(n))
        s._write_batch()
    s._db.execute("PRAGMA query_only = 0")
    s.close()
    assert log.names.count("store_write_failed") == 1 and "store_dropped" in log.names


def test_a_version_1_database_is_migrated_in_place(tmp_path):
    """Version 1 (before credential): its rows stay, the column and the views are there after opening."""
    path = str(tmp_path / "s.sqlite")
    old = store.SCHEMA.replace(",\n    credential TEXT\n", "\n").replace(", bytes, credential\n", ", bytes\n")
    assert old != store.SCHEMA
    db = sqlite3.connect(path)
    db.executescript(old)
    db.execute(
        "INSERT INTO fetches (time, proto, method, source, path, file, mac, status, bytes) "
        "VALUES (1.0, 'http', 'GET', '10.0.0.5', '/p/a.cfg', 'a.cfg', '001565aabbcc', 200, 10)"
    )
    db.execute("PRAGMA user_version = 1")
    db.commit()
    db.close()
    db = store.open_db(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == store.SCHEMA_VERSION
    assert db.execute("SELECT mac, credential FROM last_fetches").fetchall() == [("001565aabbcc", None)]
    db.close()
