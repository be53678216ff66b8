"""Durations in definitions: '90s', '30m', '12h', '7d', '2w', combined, or seconds."""

from __future__ import annotations

import pytest

from leadgate.definition.durations import format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90s", 90),
        ("30m", 1800),
        ("12h", 43200),
        ("7d", 604800),
        ("2w", 1209600),
        ("1d12h", 129600),
        (" 1.5h ", 5400),
        ("7D", 604800),
        ("1h 30m", 5400),
    ],
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "7", "7x", "d7", "-1d", "0s", "1d-", "h", "1.d"])
def test_bad_durations_name_the_accepted_forms(text: str) -> None:
    with pytest.raises(ValueError, match="expected forms like '90s', '30m', '12h', '7d', '2w'"):
        parse_duration(text)


def test_format_duration_uses_the_largest_whole_unit() -> None:
    assert [format_duration(s) for s in (604800, 86400 * 3, 3600, 90, 1.5)] == ["1w", "3d", "1h", "90s", "1.5s"]


@pytest.mark.parametrize("seconds", [90, 1800, 43200, 604800, 86400 * 3])
def test_format_and_parse_round_trip(seconds: float) -> None:
    assert parse_duration(format_duration(seconds)) == seconds
