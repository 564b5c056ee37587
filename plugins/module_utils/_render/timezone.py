# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Time zones: one IANA name in the inventory, each vendor's spelling out.

Phones want a UTC offset, a POSIX TZ rule, or both. Both come from the system's
tz database (the POSIX rule is the footer of the TZif file), so nothing here is
a hand-kept table.
"""

from __future__ import annotations

import os
import re

try:
    import zoneinfo
except ImportError:  # pragma: no cover - Python < 3.9 on the controller
    zoneinfo = None

_POSIX = re.compile(r"^(?P<std><[^>]+>|[A-Za-z]{3,})(?P<off>[+-]?\d{1,2}(?::\d{2}){0,2})(?P<dst>.*)$")
_DST = re.compile(
    r"^(?:<[^>]+>|[A-Za-z]{3,})(?P<off>[+-]?\d{1,2}(?::\d{2}){0,2})?"
    r",M(?P<m1>\d+)\.(?P<w1>\d)\.(?P<d1>\d)(?:/(?P<t1>[+-]?\d+(?::\d+){0,2}))?"
    r",M(?P<m2>\d+)\.(?P<w2>\d)\.(?P<d2>\d)(?:/(?P<t2>[+-]?\d+(?::\d+){0,2}))?$"
)


class TimezoneError(ValueError):
    pass


def _tzif_footer(name):
    for base in getattr(zoneinfo, "TZPATH", ()) or ("/usr/share/zoneinfo",):
        path = os.path.join(base, name)
        if os.path.isfile(path):
            with open(path, "rb") as handle:
                raw = handle.read()
            if raw[:4] == b"TZif" and raw.endswith(b"\n"):
                return raw.rstrip(b"\n").rsplit(b"\n", 1)[-1].decode("ascii")
    return None


def _minutes(text):
    parts = [int(p) for p in text.lstrip("+-").split(":")] + [0]
    value = parts[0] * 60 + parts[1]
    return -value if text.startswith("-") else value


def _rule(match, n):
    """A DST transition: month, week of month (5 = last), weekday (0 = Sunday), local time in minutes."""
    return {
        "month": int(match.group("m%d" % n)),
        "week": int(match.group("w%d" % n)),
        "weekday": int(match.group("d%d" % n)),
        "minutes": _minutes(match.group("t%d" % n) or "2"),
    }


def describe(name):
    """{name, posix, offset_minutes, offset (e.g. '+1', '+5:30', '-3:30'), dst, dst_start, dst_end,
    dst_saving_minutes} for an IANA zone; dst_* are None where the zone has no daylight saving rule."""
    if not isinstance(name, str) or not name or ".." in name or name.startswith("/"):
        raise TimezoneError("%r is not an IANA time zone name such as Europe/Berlin or UTC" % (name,))
    if zoneinfo is not None:
        try:
            zoneinfo.ZoneInfo(name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise TimezoneError("unknown time zone %r; use an IANA name such as Europe/Berlin, America/New_York or UTC" % name) from None
    posix = _tzif_footer(name) or ("UTC0" if name in ("UTC", "Etc/UTC") else None)
    if not posix:
        raise TimezoneError("time zone %r has no POSIX rule in this system's tz database" % name)
    match = _POSIX.match(posix)
    if not match:
        raise TimezoneError("cannot read the POSIX rule %r of time zone %r" % (posix, name))
    parts = [int(p) for p in match.group("off").lstrip("+-").split(":")] + [0, 0]
    # POSIX counts westwards: CET-1 is one hour east of UTC.
    sign = 1 if match.group("off").startswith("-") else -1
    minutes = sign * (parts[0] * 60 + parts[1])
    hours, rest = divmod(abs(minutes), 60)
    offset = "%s%d%s" % ("-" if minutes < 0 else "+", hours, ":%02d" % rest if rest else "")
    dst = _DST.match(match.group("dst")) if match.group("dst") else None
    saving = None
    if dst:
        # The DST offset, when written, is again counted westwards; default one hour ahead.
        saving = (-_minutes(dst.group("off")) - minutes) if dst.group("off") else 60
    return {
        "name": name,
        "posix": posix,
        "offset_minutes": minutes,
        "offset": offset,
        "dst": bool(match.group("dst")),
        "dst_start": _rule(dst, 1) if dst else None,
        "dst_end": _rule(dst, 2) if dst else None,
        "dst_saving_minutes": saving,
    }
