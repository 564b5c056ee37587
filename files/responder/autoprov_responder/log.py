# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One line per event on stderr, `key=value` pairs (journald adds host and unit).

Every value is escaped (no control character reaches the journal raw), and each event name has
a budget (a token bucket): a flood of one event (a scan, a resource shortage) costs a few lines
a second and one `log_suppressed` line saying how many were left out, never the disk.
"""

from __future__ import annotations

import re
import sys
import threading
import time

_NEEDS_QUOTES = re.compile(r'[\s"=\\]|[^\x21-\x7e]')

LEVELS = {"debug": 10, "info": 20, "warning": 30, "error": 40}
RATE, BURST = 100.0, 1000.0  # lines per second per event name, and how many may come at once
SUMMARY_AFTER = 10.0  # seconds: how often a suppressed event is counted in a log_suppressed line


def _quote(value):
    text = value if isinstance(value, str) else str(value)
    if text == "" or _NEEDS_QUOTES.search(text):
        return '"%s"' % text.encode("unicode_escape").decode("ascii").replace('"', '\\"')
    return text


class EventLog:
    """Lines are written at once, or (once attach() gave it the event loop) gathered and written
    together when the loop has finished the current batch of events: one write for many lines."""

    def __init__(self, level="info", stream=None, rate=RATE, burst=BURST):
        self.threshold = LEVELS[level]
        self.stream = stream or sys.stderr
        self.rate, self.burst = rate, burst
        self._loop = None
        self._loop_thread = None
        self._pending = []
        self._buckets = {}  # event name -> [tokens, last refill (monotonic), suppressed, level, first suppressed]

    def attach(self, loop):
        """Gather lines per loop iteration (None: write each at once again). Call from the loop's thread."""
        self._loop = loop
        self._loop_thread = threading.get_ident()

    def enabled(self, level):
        return LEVELS[level] >= self.threshold

    def event(self, level, name, **fields):
        if LEVELS[level] < self.threshold or not self._admit(level, name):
            return
        self._emit(level, name, fields)

    def _admit(self, level, name):
        """Take a token of this event's bucket; False (and counted) when it is empty."""
        now = time.monotonic()
        bucket = self._buckets.get(name)
        if bucket is None:
            bucket = self._buckets[name] = [self.burst, now, 0, level, 0.0]
        bucket[0] = min(self.burst, bucket[0] + (now - bucket[1]) * self.rate)
        bucket[1] = now
        if bucket[2] and now - bucket[4] >= SUMMARY_AFTER:
            self._summarise(name)
        if bucket[0] >= 1.0:
            bucket[0] -= 1.0
            return True
        if not bucket[2]:
            bucket[3], bucket[4] = level, now
            if self._in_loop_thread():
                self._loop.call_later(SUMMARY_AFTER, self._summarise, name)
        bucket[2] += 1
        return False

    def _summarise(self, name):
        bucket = self._buckets.get(name)
        if bucket is not None and bucket[2]:
            lines, bucket[2] = bucket[2], 0
            seconds = round(time.monotonic() - bucket[4], 1)
            self._emit(bucket[3], "log_suppressed", {"event": name, "lines": lines, "seconds": seconds})

    def summarise_all(self):
        """Write the pending log_suppressed lines now (at shutdown)."""
        for name in list(self._buckets):
            self._summarise(name)

    def _in_loop_thread(self):
        return self._loop is not None and not self._loop.is_closed() and threading.get_ident() == self._loop_thread

    def _emit(self, level, name, fields):
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
        parts = [stamp, level, name]
        parts.extend("%s=%s" % (key, _quote(value)) for key, value in fields.items() if value is not None)
        line = " ".join(parts) + "\n"
        if self._loop is None or self._loop.is_closed() or threading.get_ident() != self._loop_thread:  # e.g. the store's thread
            self._write(line)
            return
        if not self._pending:
            self._loop.call_soon(self.flush)
        self._pending.append(line)

    def flush(self):
        if self._pending:
            lines, self._pending = "".join(self._pending), []
            self._write(lines)

    def _write(self, text):
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):  # stderr gone (closed pipe): keep serving
            pass
