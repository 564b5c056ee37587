# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One line per event on stderr, `key=value` pairs (journald adds host and unit)."""

from __future__ import annotations

import re
import sys
import time

_NEEDS_QUOTES = re.compile(r'[\s"=\\]|[^\x21-\x7e]')

LEVELS = {"debug": 10, "info": 20, "warning": 30, "error": 40}


def _quote(value):
    text = value if isinstance(value, str) else str(value)
    if text == "" or _NEEDS_QUOTES.search(text):
        return '"%s"' % text.encode("unicode_escape").decode("ascii").replace('"', '\\"')
    return text


class EventLog:
    def __init__(self, level="info", stream=None):
        self.threshold = LEVELS[level]
        self.stream = stream or sys.stderr

    def enabled(self, level):
        return LEVELS[level] >= self.threshold

    def event(self, level, name, **fields):
        if LEVELS[level] < self.threshold:
            return
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
        parts = [stamp, level, name]
        parts.extend("%s=%s" % (key, _quote(value)) for key, value in fields.items() if value is not None)
        try:
            self.stream.write(" ".join(parts) + "\n")
            self.stream.flush()
        except (OSError, ValueError):  # stderr gone (closed pipe): keep serving
            pass
