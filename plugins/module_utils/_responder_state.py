# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What each device fetched, from the responder's status store (SQLite, read-only) and the manifest.

Python standard library only: provision_status runs this on the PBX. The store's
schema is the responder's contract (docs/responder.md, "Status store").
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
import unicodedata

from ansible_collections.pbxops.autoprov.plugins.module_utils import _urls
from ansible_collections.pbxops.autoprov.plugins.module_utils._files.sync import MANIFEST

# 2 added fetches.credential; a version 1 database (a responder not restarted since) reads as NULL there.
SCHEMA_VERSIONS = (1, 2)
# Where the responder role writes the responder's configuration (roles/responder: autoprov_responder_config_dir).
RESPONDER_CONFIG = "/etc/autoprov-responder/responder.json"
MANIFEST_FORMATS = (1, 2)


def argument_spec():
    """The options the doc fragment pbxops.autoprov.responder_state documents (a unit test keeps the two paired)."""
    return dict(responder_config=dict(type="path", default=RESPONDER_CONFIG), db=dict(type="path"), config_root=dict(type="path"))


class StatusError(Exception):
    pass


# -- reading ---------------------------------------------------------------------
def read_responder_config(path):
    try:
        with open(path, encoding="utf-8") as handle:
            config = json.load(handle)
    except FileNotFoundError:
        raise StatusError("no responder configuration at %s; is the responder installed there (autoprov_responder_config_dir)?" % path)
    except (OSError, ValueError) as exc:
        raise StatusError("cannot read the responder configuration %s: %s" % (path, exc))
    if not isinstance(config, dict):
        raise StatusError("%s is not a responder configuration (a JSON object)" % path)
    return config


def locate(responder_config, db=None, config_root=None):
    """(status database, config root): the paths given, else those the responder's configuration names.

    A relative db is relative to the configuration's directory, as the responder reads it (docs/responder.md).
    """
    config = read_responder_config(responder_config) if not (db and config_root) else {}
    db = db or os.path.join(os.path.dirname(responder_config), config.get("db") or "status.sqlite")
    root = config_root or config.get("root")
    if not root:
        raise StatusError("no config root: give config_root, or a responder_config (%s) that has root" % responder_config)
    return db, root


def read_manifest(root):
    path = os.path.join(root, MANIFEST)
    try:
        with open(path, encoding="utf-8") as handle:
            manifest = json.load(handle)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise StatusError("cannot read the manifest %s: %s" % (path, exc))
    if not isinstance(manifest, dict) or manifest.get("format") not in MANIFEST_FORMATS:
        raise StatusError("%s: manifest format %r is not one this module reads (%s)" % (path, manifest.get("format"), MANIFEST_FORMATS))
    return manifest


class Store:
    """The responder's status database, opened read-only."""

    def __init__(self, path):
        if not os.path.exists(path):
            raise FileNotFoundError(path)
        try:
            self.db = sqlite3.connect("file:%s?mode=ro" % path, uri=True, timeout=5)
            version = self.db.execute("PRAGMA user_version").fetchone()[0]
        except sqlite3.Error as exc:
            raise StatusError("cannot open the status database %s read-only: %s" % (path, exc))
        if version not in SCHEMA_VERSIONS:
            self.db.close()
            raise StatusError("%s: status database schema version %s is not one this module reads (%s)" % (path, version, SCHEMA_VERSIONS))
        self.version = version
        self.db.row_factory = sqlite3.Row

    def close(self):
        self.db.close()

    def _rows(self, sql, args=()):
        try:
            return [dict(row) for row in self.db.execute(sql, args)]
        except sqlite3.Error as exc:
            raise StatusError("reading the status database: %s" % exc)

    def last_fetches(self):
        return self._rows(
            "SELECT mac, file, time, source, proto, firmware, model, user_agent, sha256, %s FROM last_fetches WHERE mac IS NOT NULL"
            % ("credential" if self.version >= 2 else "NULL AS credential")
        )

    def devices_seen(self):
        return self._rows("SELECT * FROM devices_seen")

    def last_addresses(self, macs):
        """{mac: (source, time)}: where each of macs last fetched a file from (served, 200 or 304) or sent PnP from.

        Refused requests do not count, unlike devices_seen.last_source: anyone can ask for a device's file.
        """
        found = {}
        macs = list(macs)
        for start in range(0, len(macs), 400):  # two lists of bound parameters each, under SQLite's limit
            chunk = macs[start : start + 400]
            marks = ",".join("?" * len(chunk))
            sql = (
                "SELECT mac, source, max(time) AS time FROM ("
                "SELECT mac, source, time FROM fetches WHERE status IN (200, 304) AND mac IN (%s) "
                "UNION ALL SELECT mac, source, time FROM pnp_events WHERE mac IN (%s)) GROUP BY mac" % (marks, marks)
            )
            found.update((row["mac"], (row["source"], row["time"])) for row in self._rows(sql, chunk + chunk) if row["source"])
        return found

    def last_refusals(self):
        """Per MAC, the newest refused request (after its newest served one, if any)."""
        return self._rows(
            "SELECT f.mac, f.time, f.source, f.path, f.status, f.reason FROM fetches f "
            "JOIN (SELECT mac, MAX(id) AS id FROM fetches WHERE mac IS NOT NULL AND status NOT IN (200, 304) GROUP BY mac) r "
            "ON f.id = r.id"
        )

    def dhcp_fetches(self):
        """{mac: time} of each device's newest served fetch through the URL DHCP option 66 hands out: the
        responder records a fetch's path under the token, 'dhcp/<file>' there (_urls.VIA)."""
        prefix = _urls.DHCP + "/"
        rows = self._rows(
            "SELECT mac, max(time) AS time FROM fetches"
            " WHERE mac IS NOT NULL AND status IN (200, 304) AND substr(path, 1, ?) = ? GROUP BY mac",
            (len(prefix), prefix),
        )
        return {row["mac"]: row["time"] for row in rows}

    def last_pnp(self):
        return self._rows(
            "SELECT p.mac, p.time, p.source, p.vendor, p.model, p.firmware, p.answered, p.reason, p.notify FROM pnp_events p "
            "JOIN (SELECT mac, MAX(id) AS id FROM pnp_events WHERE mac IS NOT NULL GROUP BY mac) l ON p.id = l.id"
        )


# -- the report ------------------------------------------------------------------
def iso(ts):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts)) if ts else None


def report(inventory, manifest, store, now=None):
    """inventory: [{mac, vendor, model}] (normalised). Returns (devices, discovered)."""
    now = time.time() if now is None else now
    files_of = (manifest or {}).get("files", {})
    devices_of = (manifest or {}).get("devices", {})
    fetched, seen, refusals, pnp, by_dhcp = {}, {}, {}, {}, {}
    if store:
        for row in store.last_fetches():
            fetched.setdefault(row["mac"], []).append(row)
        seen = {row["mac"]: row for row in store.devices_seen()}
        refusals = {row["mac"]: row for row in store.last_refusals()}
        pnp = {row["mac"]: row for row in store.last_pnp()}
        by_dhcp = store.dhcp_fetches()

    names = {key: (info or {}).get("name") or key for key, info in ((manifest or {}).get("vendors") or {}).items()}
    known = {d["mac"] for d in inventory}
    devices = [
        _device(d, devices_of.get(d["mac"], {}), files_of, fetched.get(d["mac"], []), refusals.get(d["mac"]), pnp.get(d["mac"]))
        for d in inventory
    ]
    for device in devices:
        device["vendor_name"] = names.get(device["vendor"], device["vendor"])
        device["dhcp_fetch"] = iso(by_dhcp.get(device["mac"]))
    discovered = [
        _discovered(row, pnp.get(mac), names)
        for mac, row in sorted(seen.items(), key=lambda kv: -(kv[1]["last_seen"] or 0))
        if mac not in known
    ]
    return devices, discovered


def _device(wanted, in_manifest, files_of, fetches, refusal, pnp):
    expected = sorted(in_manifest.get("files", []))
    got = {row["file"]: row for row in sorted(fetches, key=lambda r: r["time"])}  # the latest fetch of each file
    files = _file_states(expected, got, files_of)
    last = max(fetches, key=lambda r: r["time"]) if fetches else None
    firmware, firmware_from = _firmware(fetches, pnp)
    missing = [name for name in expected if name not in got and not (files_of.get(name) or {}).get("optional")]
    outdated = [f["file"] for f in files if f["current"] is False]
    refused_after = bool(refusal) and (not last or refusal["time"] > last["time"])
    state = _state(outdated, missing, last, refused_after, pnp)
    return {
        "mac": wanted["mac"],
        "vendor": wanted.get("vendor") or in_manifest.get("vendor"),
        "model": wanted.get("model") or in_manifest.get("model"),
        "in_manifest": bool(in_manifest),
        "state": state,
        "last_fetch": iso(last["time"]) if last else None,
        "last_fetch_epoch": last["time"] if last else None,
        "source": last["source"] if last else (pnp or {}).get("source"),
        "proto": last["proto"] if last else None,
        "firmware": firmware,
        "firmware_from": firmware_from,
        "fetched_model": last["model"] if last else None,
        "files": files,
        "missing": missing,
        "outdated": outdated,
        "current": state == "current",
        "last_refused": (
            {"time": iso(refusal["time"]), "path": refusal["path"], "status": refusal["status"], "reason": refusal["reason"]}
            if refused_after
            else None
        ),
        "last_pnp": _pnp_summary(pnp),
        "credential": _credential(fetches),
    }


def _credential(fetches):
    """The kind of pair the device's newest authenticated fetch proved (shared, device, or previous:
    the pair a rotation replaced, still accepted in its grace window), or None."""
    proved = [row for row in fetches if row.get("credential")]
    return max(proved, key=lambda r: r["time"])["credential"] if proved else None


def _file_states(expected, got, files_of):
    """Each file the manifest lists or the device fetched (shared, model-wide files count too)."""
    files = []
    for name in sorted(set(expected) | set(got)):
        row = got.get(name)
        current_sha = (files_of.get(name) or {}).get("sha256")
        files.append(
            {
                "file": name,
                "fetched": iso(row["time"]) if row else None,
                "source": row["source"] if row else None,
                # None: not fetched, or a file the manifest no longer lists.
                "current": (row["sha256"] == current_sha) if row and current_sha else None,
            }
        )
    return files


def _firmware(fetches, pnp):
    """(firmware, where from): the latest User-Agent that names one, else the PnP SUBSCRIBE's."""
    for row in sorted(fetches, key=lambda r: r["time"], reverse=True):
        if row.get("firmware"):
            return row["firmware"], "user-agent"
    if pnp and pnp.get("firmware"):
        return pnp["firmware"], "pnp"
    return None, None


def _state(outdated, missing, last, refused_after, pnp):
    if outdated:
        return "outdated"
    if last:
        return "partial" if missing else "current"
    if refused_after:
        return "refused"
    return "pnp only" if pnp else "never seen"


def _pnp_summary(pnp):
    if not pnp:
        return None
    return {
        "time": iso(pnp["time"]),
        "source": pnp["source"],
        "answered": bool(pnp["answered"]),
        "reason": pnp["reason"],
        "notify": pnp["notify"],
    }


def _discovered(row, pnp, names):
    return {
        "mac": row["mac"],
        "vendor": names.get(row.get("vendor_key")) or row.get("vendor_key") or (pnp or {}).get("vendor"),
        "vendor_key": row.get("vendor_key"),
        "model": row.get("model"),
        "firmware": row.get("firmware"),
        "first_seen": iso(row.get("first_seen")),
        "last_seen": iso(row.get("last_seen")),
        "source": row.get("last_source"),
        "pnp_events": row.get("pnp_events") or 0,
        "fetches": row.get("fetches") or 0,
        "answered": bool(row.get("last_pnp_answered")),
    }


# -- the table a person reads ----------------------------------------------------------
def _ago(epoch, now):
    if not epoch:
        return ""
    seconds = max(0, int(now - epoch))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return " (%d%s ago)" % (seconds // size, unit)
    return " (%ds ago)" % seconds


def _colon(mac):
    return ":".join(mac[i : i + 2] for i in range(0, 12, 2))


DISCOVERED_SHOWN = 50  # rows of the discovered table (a LAN scan must not bury the fleet's own lines)
_SHOWN_AS = {"\\": "\\\\", "\r": "\\r", "\n": "\\n", "\t": "\\t"}


def shown(value):
    """A value as a table shows it: what a phone or a spoofer sent (User-Agent, SIP headers) cannot
    start a line, move the cursor or reorder text. Control, format, separator and unassigned
    characters (Unicode categories C and Z, but the space) become escapes; the data stays exact."""
    text = str(value)
    if text.isprintable() and "\\" not in text:
        return text
    return "".join(_SHOWN_AS.get(c) or (c if c == " " or unicodedata.category(c)[0] not in "CZ" else _escape(c)) for c in text)


def _escape(char):
    code = ord(char)
    return "\\x%02x" % code if code < 0x100 else ("\\u%04x" % code if code < 0x10000 else "\\U%08x" % code)


def _grid(header, rows):
    rows = [[shown(c) for c in row] for row in rows]
    widths = [max(len(c) for c in col) for col in zip(header, *rows)]
    return ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in [header] + rows]


def table(pbx, devices, discovered, now=None):
    now = time.time() if now is None else now
    counts = {}
    for d in devices:
        counts[d["state"]] = counts.get(d["state"], 0) + 1
    summary = ", ".join("%d %s" % (n, s) for s, n in sorted(counts.items())) or "no devices"
    lines = ["%s: %d device(s): %s; %d discovered, not in the inventory" % (pbx, len(devices), summary, len(discovered)), ""]
    rows = []
    for d in devices:
        got = len([f for f in d["files"] if f["fetched"]])
        state = d["state"]
        if d["outdated"]:
            state += ": " + ", ".join(d["outdated"])
        elif d["missing"] and d["last_fetch"]:
            state += ": not fetched " + ", ".join(d["missing"])
        elif d["last_refused"]:
            state += ": %s %s (%s)" % (d["last_refused"]["status"], d["last_refused"]["path"], d["last_refused"]["reason"])
        if d.get("credential") == "previous":
            state += " (previous password)"
        if d.get("dhcp_fetch"):
            state += " (by DHCP)"
        rows.append(
            [
                _colon(d["mac"]),
                d["vendor_name"] or "-",
                d["model"] or "-",
                (d["last_fetch"].replace("T", " ").rstrip("Z") + _ago(d["last_fetch_epoch"], now)) if d["last_fetch"] else "-",
                d["source"] or "-",
                d["firmware"] or "-",
                "%d/%d" % (got, len(d["files"])),
                state,
            ]
        )
    lines += _grid(["MAC", "VENDOR", "MODEL", "LAST FETCH (UTC)", "FROM", "FIRMWARE", "FILES", "STATE"], rows)
    if discovered:
        lines += ["", "Discovered, not in the inventory:"]
        lines += _grid(
            ["MAC", "VENDOR", "MODEL", "FIRMWARE", "LAST SEEN (UTC)", "FROM", "PNP", "FETCHES"],
            [
                [
                    _colon(d["mac"]),
                    d["vendor"] or "-",
                    d["model"] or "-",
                    d["firmware"] or "-",
                    (d["last_seen"] or "-").replace("T", " ").rstrip("Z"),
                    d["source"] or "-",
                    str(d["pnp_events"]),
                    str(d["fetches"]),
                ]
                for d in discovered[:DISCOVERED_SHOWN]
            ],
        )
        if len(discovered) > DISCOVERED_SHOWN:  # most recent first; the rest are in the `discovered` result
            lines.append("... and %d more seen earlier (all are in the result's discovered list)" % (len(discovered) - DISCOVERED_SHOWN))
    return "\n".join(lines)
