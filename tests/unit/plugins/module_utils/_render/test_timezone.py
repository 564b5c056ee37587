from __future__ import annotations

import pytest

from ansible_collections.pbxops.autoprov.plugins.module_utils._render import timezone as _timezone


def test_berlin_offset_and_dst_rule_come_from_the_tz_database():
    tz = _timezone.describe("Europe/Berlin")
    assert tz["offset"] == "+1" and tz["offset_minutes"] == 60
    assert tz["posix"] == "CET-1CEST,M3.5.0,M10.5.0/3"
    assert tz["dst_start"] == {"month": 3, "week": 5, "weekday": 0, "minutes": 120}
    assert tz["dst_end"] == {"month": 10, "week": 5, "weekday": 0, "minutes": 180}
    assert tz["dst_saving_minutes"] == 60


@pytest.mark.parametrize(
    "name, offset, dst",
    [("UTC", "+0", False), ("Asia/Kolkata", "+5:30", False), ("America/St_Johns", "-3:30", True), ("America/New_York", "-5", True)],
)
def test_offsets_west_and_east(name, offset, dst):
    tz = _timezone.describe(name)
    assert tz["offset"] == offset
    assert tz["dst"] is dst
    assert (tz["dst_start"] is not None) is dst


@pytest.mark.parametrize("bad", ["Mars/Olympus", "", "../../etc/passwd", "/etc/localtime", None])
def test_unknown_zones_are_refused_with_an_example(bad):
    with pytest.raises(_timezone.TimezoneError, match="Europe/Berlin"):
        _timezone.describe(bad)
