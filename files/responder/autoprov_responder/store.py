# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The status store: fetches and PnP events, in SQLite (WAL), bounded in size and age.

The network code only appends tuples to a deque (no lock, no I/O); one writer
thread commits them in batches, so a slow disk never slows a reply.
docs/responder.md ("Status store") is the contract with the readers.

What a flood can add is bounded (Admission): records about devices the manifest knows are
kept (up to a budget per device), records about anything else (unknown MACs, misses, strangers)
share one small budget, and at most `unknown_macs` MACs the manifest does not know are ever
recorded. Each table keeps at most `max_rows` rows and `retention_days` days.
"""

from __future__ import annotations

import collections
import itertools
import sqlite3
import threading
import time

SCHEMA_VERSION = 2
# What takes a database of an older version to this one (the views are recreated by SCHEMA).
MIGRATIONS = {
    1: "ALTER TABLE fetches ADD COLUMN credential TEXT; DROP VIEW IF EXISTS last_fetches;",
}

FETCH_COLUMNS = (
    "time",
    "proto",
    "method",
    "source",
    "path",
    "file",
    "mac",
    "ua_mac",
    "vendor",
    "model",
    "firmware",
    "user_agent",
    "status",
    "reason",
    "bytes",
    "sha256",
    "credential",
)
PNP_COLUMNS = (
    "id",
    "time",
    "source",
    "source_port",
    "mac",
    "vendor",
    "vendor_key",
    "model",
    "firmware",
    "user_agent",
    "known",
    "answered",
    "reason",
    "notify",
)

SCHEMA = """
CREATE TABLE IF NOT EXISTS fetches (
    id INTEGER PRIMARY KEY,
    time REAL NOT NULL,
    proto TEXT NOT NULL,
    method TEXT NOT NULL,
    source TEXT NOT NULL,
    path TEXT NOT NULL,
    file TEXT,
    mac TEXT,
    ua_mac TEXT,
    vendor TEXT,
    model TEXT,
    firmware TEXT,
    user_agent TEXT,
    status INTEGER NOT NULL,
    reason TEXT,
    bytes INTEGER NOT NULL,
    sha256 TEXT,
    credential TEXT
);
CREATE INDEX IF NOT EXISTS fetches_mac_time ON fetches (mac, time);
CREATE INDEX IF NOT EXISTS fetches_time ON fetches (time);

CREATE TABLE IF NOT EXISTS pnp_events (
    id INTEGER PRIMARY KEY,
    time REAL NOT NULL,
    source TEXT NOT NULL,
    source_port INTEGER NOT NULL,
    mac TEXT,
    vendor TEXT,
    vendor_key TEXT,
    model TEXT,
    firmware TEXT,
    user_agent TEXT,
    known INTEGER NOT NULL,
    answered INTEGER NOT NULL,
    reason TEXT,
    notify TEXT,
    notify_status INTEGER,
    notify_time REAL
);
CREATE INDEX IF NOT EXISTS pnp_mac_time ON pnp_events (mac, time);
CREATE INDEX IF NOT EXISTS pnp_time ON pnp_events (time);

-- SQLite takes bare columns from the row that holds the single max() of a group.
CREATE VIEW IF NOT EXISTS last_fetches AS
SELECT mac, file, max(time) AS time, source, proto, path, status, user_agent, vendor, model, firmware, sha256, bytes, credential
FROM fetches
WHERE mac IS NOT NULL AND file IS NOT NULL AND status IN (200, 304)
GROUP BY mac, file;

CREATE VIEW IF NOT EXISTS devices_seen AS
WITH seen AS (
    SELECT mac, time, source, vendor_key, model, firmware, 1 AS is_pnp FROM pnp_events WHERE mac IS NOT NULL
    UNION ALL
    SELECT mac, time, source, vendor, model, firmware, 0 FROM fetches WHERE mac IS NOT NULL
),
agg AS (
    SELECT mac, min(time) AS first_seen, max(time) AS last_seen, sum(is_pnp) AS pnp_events, sum(1 - is_pnp) AS fetches
    FROM seen GROUP BY mac
),
last_src AS (SELECT mac, max(time), source FROM seen GROUP BY mac),
vendor AS (SELECT mac, max(time), vendor_key FROM seen WHERE vendor_key IS NOT NULL GROUP BY mac),
model AS (SELECT mac, max(time), model FROM seen WHERE model IS NOT NULL GROUP BY mac),
firmware AS (SELECT mac, max(time), firmware FROM seen WHERE firmware IS NOT NULL GROUP BY mac),
last_pnp AS (SELECT mac, max(time), answered, notify FROM pnp_events WHERE mac IS NOT NULL GROUP BY mac)
SELECT agg.mac AS mac, agg.first_seen AS first_seen, agg.last_seen AS last_seen, last_src.source AS last_source,
       vendor.vendor_key AS vendor_key, model.model AS model, firmware.firmware AS firmware,
       agg.pnp_events AS pnp_events, agg.fetches AS fetches,
       last_pnp.answered AS last_pnp_answered, last_pnp.notify AS last_notify
FROM agg
JOIN last_src USING (mac)
LEFT JOIN vendor USING (mac)
LEFT JOIN model USING (mac)
LEFT JOIN firmware USING (mac)
LEFT JOIN last_pnp USING (mac);
"""

_INSERT_FETCH = "INSERT INTO fetches (%s) VALUES (%s)" % (", ".join(FETCH_COLUMNS), ", ".join("?" * len(FETCH_COLUMNS)))
_INSERT_PNP = "INSERT INTO pnp_events (%s) VALUES (%s)" % (", ".join(PNP_COLUMNS), ", ".join("?" * len(PNP_COLUMNS)))
_UPDATE_OUTCOME = "UPDATE pnp_events SET notify = ?, notify_status = ?, notify_time = ? WHERE id = ?"

_FETCH, _PNP, _OUTCOME = 0, 1, 2


class StoreError(Exception):
    pass


class _Bucket:
    """A token bucket: `burst` at once, `rate` per second after that."""

    __slots__ = ("tokens", "last", "rate", "burst")

    def __init__(self, rate, burst, now):
        self.tokens, self.last, self.rate, self.burst = float(burst), now, float(rate), float(burst)

    def take(self, now):
        self.tokens = min(self.burst, self.tokens + (now - self.last) * self.rate)
        self.last = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


class Admission:
    """Which records are written: a budget per known device, one shared budget for the rest,
    and a cap on how many MACs the manifest does not know are recorded at all."""

    def __init__(self, known_rate=0.2, known_burst=200, other_rate=5.0, other_burst=300, unknown_macs=1000):
        self.known_rate, self.known_burst = known_rate, known_burst
        self.other = _Bucket(other_rate, other_burst, time.monotonic())
        self.unknown_macs = unknown_macs
        self.recorded_unknown = set()  # MACs not in the manifest that the database already holds
        self._known = {}  # mac -> _Bucket (only MACs the manifest lists: bounded by the fleet)
        self.dropped = 0

    def admit(self, known, mac):
        now = time.monotonic()
        if known and mac:
            bucket = self._known.get(mac)
            if bucket is None:
                bucket = self._known[mac] = _Bucket(self.known_rate, self.known_burst, now)
            allowed = bucket.take(now)
        elif mac and mac not in self.recorded_unknown and len(self.recorded_unknown) >= self.unknown_macs:
            allowed = False
        else:
            allowed = self.other.take(now)
            if allowed and mac:
                self.recorded_unknown.add(mac)
        if not allowed:
            self.dropped += 1
        return allowed


def open_db(path):
    """Open (and create or check) the database; returns the connection."""
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = NORMAL")
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version not in (0, SCHEMA_VERSION) and version not in MIGRATIONS:
        db.close()
        raise StoreError("%s: schema version %d, this responder knows %d" % (path, version, SCHEMA_VERSION))
    while version in MIGRATIONS:  # each step in one transaction with its version: a crash leaves one or the other
        db.executescript("BEGIN; %s PRAGMA user_version = %d; COMMIT;" % (MIGRATIONS[version], version + 1))
        version += 1
    db.executescript(SCHEMA)
    db.execute("PRAGMA user_version = %d" % SCHEMA_VERSION)
    return db


class StatusStore:
    """Queue records from the event loop; a thread writes them in batches."""

    def __init__(self, path, log, flush_interval=0.25, retention_days=90, max_pending=200000, max_rows=500000, admission=None):
        self.path = path
        self.log = log
        self.flush_interval = flush_interval
        self.retention = retention_days * 86400.0
        self.max_pending = max_pending
        self.max_rows = max_rows
        self.admission = admission or Admission()
        self.dropped = 0
        self._pending = collections.deque()
        self._stop = threading.Event()
        self._db = open_db(path)
        start = self._db.execute("SELECT coalesce(max(id), 0) FROM pnp_events").fetchone()[0]
        self._pnp_ids = itertools.count(start + 1)
        self._thread = threading.Thread(target=self._run, name="status-store", daemon=True)
        self._last_prune = 0.0
        self._last_trim = 0.0
        self._failing = False
        self._load_unknown()

    def _load_unknown(self):
        """The MACs already recorded that no manifest listed when they were (known = 0 / no device file)."""
        rows = self._db.execute(
            "SELECT mac FROM pnp_events WHERE mac IS NOT NULL AND known = 0"
            " UNION SELECT mac FROM fetches WHERE mac IS NOT NULL AND file IS NULL"
        )
        self.admission.recorded_unknown = {mac for (mac,) in rows}

    def start(self):
        self._thread.start()

    # --- called from the event loop: cheap, never blocks -------------------------------------
    def _put(self, item):
        if len(self._pending) >= self.max_pending:
            self.dropped += 1
            return
        self._pending.append(item)

    def fetch(self, row, known=False):
        """row: dict with FETCH_COLUMNS keys (missing ones are NULL); known: its MAC is a device the manifest lists."""
        if self.admission.admit(known, row.get("mac")):
            self._put((_FETCH, tuple(row.get(c) for c in FETCH_COLUMNS)))

    def pnp_event(self, row):
        """Queue a PnP event; returns its id (for pnp_outcome; an event not admitted is not written)."""
        event_id = next(self._pnp_ids)
        if self.admission.admit(bool(row.get("known")), row.get("mac")):
            row = dict(row, id=event_id)
            self._put((_PNP, tuple(row.get(c) for c in PNP_COLUMNS)))
        return event_id

    def pnp_outcome(self, event_id, notify, status=None, when=None):
        self._put((_OUTCOME, (notify, status, when if when is not None else time.time(), event_id)))

    # --- writer thread -----------------------------------------------------------------------
    def _run(self):
        while not self._stop.wait(self.flush_interval):
            self._write_batch()
        self._write_batch()

    def _write_batch(self):
        pending = self._pending
        if not pending:
            self._maybe_prune()
            return
        groups = ([], [], [])
        while pending:
            kind, values = pending.popleft()
            groups[kind].append(values)
        try:
            self._db.execute("BEGIN")
            if groups[_FETCH]:
                self._db.executemany(_INSERT_FETCH, groups[_FETCH])
            if groups[_PNP]:
                self._db.executemany(_INSERT_PNP, groups[_PNP])
            if groups[_OUTCOME]:  # after the inserts: an outcome may follow its event in the same batch
                self._db.executemany(_UPDATE_OUTCOME, groups[_OUTCOME])
            self._db.execute("COMMIT")
            self._failing = False
        except sqlite3.Error as exc:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            self.dropped += sum(map(len, groups))
            if not self._failing:  # once per outage, not once per batch; close() says how many were lost
                self._failing = True
                self.log.event("error", "store_write_failed", db=self.path, error=str(exc), detail="serving without recording")
        self._maybe_trim()
        self._maybe_prune()

    def _maybe_trim(self):
        """Keep at most max_rows rows per table (the oldest go first); checked once a minute."""
        now = time.monotonic()
        if now - self._last_trim < 60:
            return
        self._last_trim = now
        try:
            for table in ("fetches", "pnp_events"):
                top = self._db.execute("SELECT max(id) FROM %s" % table).fetchone()[0]
                if top is not None and top > self.max_rows:
                    self._db.execute("DELETE FROM %s WHERE id <= ?" % table, (top - self.max_rows,))
        except sqlite3.Error as exc:
            self.log.event("error", "store_prune_failed", db=self.path, error=str(exc))

    def _maybe_prune(self):
        now = time.time()
        if now - self._last_prune < 86400:
            return
        self._last_prune = now
        cutoff = now - self.retention
        try:
            self._db.execute("DELETE FROM fetches WHERE time < ?", (cutoff,))
            self._db.execute("DELETE FROM pnp_events WHERE time < ?", (cutoff,))
            self._load_unknown()  # MACs that aged out no longer count against the cap
        except sqlite3.Error as exc:
            self.log.event("error", "store_prune_failed", db=self.path, error=str(exc))

    def close(self):
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)
        else:
            self._write_batch()
        if self.dropped or self.admission.dropped:
            self.log.event("warning", "store_dropped", records=self.dropped, not_admitted=self.admission.dropped)
        self._db.close()


class NullStore:
    """What the responder records into when the database cannot be opened: nothing (it keeps serving)."""

    def __init__(self):
        self._ids = itertools.count(1)

    def start(self):
        pass

    def fetch(self, row, known=False):
        pass

    def pnp_event(self, row):
        return next(self._ids)

    def pnp_outcome(self, event_id, notify, status=None, when=None):
        pass

    def close(self):
        pass
