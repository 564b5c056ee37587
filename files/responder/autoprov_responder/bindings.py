# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which address each device's secret files are bound to (docs/responder.md, "Provisioning window").

The first source that fetches a device's secret file inside the device's provisioning
window gets it; from then on, until the window is opened again (a new `window` stamp in
the manifest), that device's secret files go to that address only. Kept in a small JSON
file beside the status database, so a restart does not hand a device to the next asker;
one entry per device of the manifest at most.
"""

from __future__ import annotations

import asyncio
import json
import os
import tempfile

FORMAT = 1
_SAVE_DELAY = 0.5  # seconds: a boot storm binds many devices, one write covers them


class Bindings:
    def __init__(self, path, log):
        self.path = path
        self.log = log
        self._bound = {}  # mac -> {"source", "window", "time"}
        self._save_pending = False
        self._warned = False
        self._load()

    def source(self, mac, window):
        """The address the device is bound to in this window, or None."""
        entry = self._bound.get(mac)
        if entry is None or window is None or entry["window"] != window:
            return None
        return entry["source"]

    def bind(self, mac, window, source, now):
        self._bound[mac] = {"source": source, "window": window, "time": now}
        self.log.event("info", "device_bound", mac=mac, src=source)
        self._schedule_save()

    def forget(self, known):
        """Drop devices no longer in the manifest (their bindings mean nothing)."""
        gone = [mac for mac in self._bound if mac not in known]
        for mac in gone:
            del self._bound[mac]
        if gone:
            self._schedule_save()

    def __len__(self):
        return len(self._bound)

    def _load(self):
        try:
            with open(self.path, encoding="utf-8") as handle:
                data = json.load(handle)
        except FileNotFoundError:
            return
        except (OSError, ValueError) as exc:
            self.log.event("error", "bindings_unreadable", path=self.path, error=str(exc))
            return
        entries = data.get("devices") if isinstance(data, dict) and data.get("format") == FORMAT else None
        if not isinstance(entries, dict):
            self.log.event("error", "bindings_unreadable", path=self.path, error="not a bindings file of format %d" % FORMAT)
            return
        for mac, entry in entries.items():
            if isinstance(entry, dict) and isinstance(entry.get("source"), str) and isinstance(entry.get("window"), (int, float)):
                self._bound[mac] = {"source": entry["source"], "window": entry["window"], "time": entry.get("time")}

    def _schedule_save(self):
        if self._save_pending:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.save()
            return
        self._save_pending = True
        loop.call_later(_SAVE_DELAY, self.save)

    def save(self):
        """Write the file atomically (fsync, rename, fsync the directory); on failure keep them in memory."""
        self._save_pending = False
        data = json.dumps({"format": FORMAT, "devices": self._bound}, sort_keys=True).encode("utf-8")
        directory = os.path.dirname(self.path) or "."
        try:
            fd, tmp = tempfile.mkstemp(dir=directory, prefix=".bindings-")
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(data)
                    handle.flush()
                    os.fsync(handle.fileno())
                os.replace(tmp, self.path)
            except BaseException:
                if os.path.exists(tmp):
                    os.unlink(tmp)
                raise
            dir_fd = os.open(directory, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
        except OSError as exc:
            if not self._warned:  # once: a read-only state directory must not flood the log
                self._warned = True
                self.log.event("warning", "bindings_not_saved", path=self.path, error=exc.strerror or str(exc))
