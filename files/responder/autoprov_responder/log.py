# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One line per event on stderr, `key=value` pairs (journald adds host and unit)."""

from __future__ import annotations

import re
import sys
import threading
import time

_NEEDS_QUOTES = re.compile(r'[\s"=\\]|[^\x21-\x7e]')

LEVELS = {"debug": 10, "info": 20, "warning": 30, "error": 40}


def _quote(value):
    text = value if isinstance(value, str) else str(value)
    if text == "" or _NEEDS_QUOTES.search(text):
        return '"%s"' % text.encode("unicode_escape").decode("ascii").replace('"', '\\"')
    return text


class EventLog:
    """Lines are written at once, or (once attach() gave it the event loop) gathered and written
    together when the loop has finished the current batch of events: one write for many lines."""

    def __init__(self, level="info", stream=None):
        self.threshold = LEVELS[level]
        self.stream = stream or sys.stderr
        self._loop = None
        self._loop_thread = None
        self._pending = []

    def attach(self, loop):
        """Gather lines per loop iteration (None: write each at once again). Call from the loop's thread."""
        self._loop = loop
        self._loop_thread = threading.get_ident()

    def enabled(self, level):
        return LEVELS[level] >= self.threshold

    def event(self, level, name, **fields):
        if LEVELS[level] < self.threshold:
            return
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
