# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The status store: every fetch and every PnP event, in SQLite (WAL).

The network code only appends tuples to a deque (no lock, no I/O); one writer
thread commits them in batches, so a slow disk never slows a reply.
docs/responder.md ("Status store") is the contract with the readers.
"""

from __future__ import annotations

import collections
import itertools
import sqlite3
import threading
import time

SCHEMA_VERSION = 1

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
    sha256 TEXT
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
SELECT mac, file, max(time) AS time, source, proto, path, status, user_agent, vendor, model, firmware, sha256, bytes
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


def open_db(path):
    """Open (and create or check) the database; returns the connection."""
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = NORMAL")
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version not in (0, SCHEMA_VERSION):
        db.close()
        raise StoreError("%s: schema version %d, this responder knows %d" % (path, version, SCHEMA_VERSION))
    db.executescript(SCHEMA)
    db.execute("PRAGMA user_version = %d" % SCHEMA_VERSION)
    return db


class StatusStore:
    """Queue records from the event loop; a thread writes them in batches."""

    def __init__(self, path, log, flush_interval=0.25, retention_days=90, max_pending=200000):
        self.path = path
        self.log = log
        self.flush_interval = flush_interval
        self.retention = retention_days * 86400.0
        self.max_pending = max_pending
        self.dropped = 0
        self._pending = collections.deque()
        self._stop = threading.Event()
        self._db = open_db(path)
        start = self._db.execute("SELECT coalesce(max(id), 0) FROM pnp_events").fetchone()[0]
        self._pnp_ids = itertools.count(start + 1)
        self._thread = threading.Thread(target=self._run, name="status-store", daemon=True)
        self._last_prune = 0.0

    def start(self):
        self._thread.start()

    # --- called from the event loop: cheap, never blocks -------------------------------------
    def _put(self, item):
        if len(self._pending) >= self.max_pending:
            self.dropped += 1
            return
        self._pending.append(item)

    def fetch(self, row):
        """row: dict with FETCH_COLUMNS keys (missing ones are NULL)."""
        self._put((_FETCH, tuple(row.get(c) for c in FETCH_COLUMNS)))

    def pnp_event(self, row):
        """Queue a PnP event; returns its id (for pnp_outcome)."""
        event_id = next(self._pnp_ids)
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
        except sqlite3.Error as exc:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            self.log.event("error", "store_write_failed", db=self.path, error=str(exc), lost=sum(map(len, groups)))
        self._maybe_prune()

    def _maybe_prune(self):
        now = time.time()
        if now - self._last_prune < 86400:
            return
        self._last_prune = now
        cutoff = now - self.retention
        try:
            self._db.execute("DELETE FROM fetches WHERE time < ?", (cutoff,))
            self._db.execute("DELETE FROM pnp_events WHERE time < ?", (cutoff,))
        except sqlite3.Error as exc:
            self.log.event("error", "store_prune_failed", db=self.path, error=str(exc))

    def close(self):
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)
        else:
            self._write_batch()
        if self.dropped:
            self.log.event("warning", "store_dropped", records=self.dropped)
        self._db.close()
