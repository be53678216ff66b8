from __future__ import annotations

import pytest

from leadgate.definition.durations import format_duration, parse_duration
from leadgate.definition.regex import check_portable_regex


@pytest.mark.parametrize("pattern", ["^vp", "(director|vp)", "[a-z0-9]+$", "a.c", "\\d{2,3}", "[^@]+@", "x*y?z+"])
def test_portable_patterns_are_accepted(pattern: str) -> None:
    check_portable_regex(pattern)


@pytest.mark.parametrize(
    ("pattern", "why"),
    [
        ("\\bword", "word boundaries"),
        ("(?i)vp", "inline flags"),
        ("(?=x)y", "not in the portable"),
        ("(a)\\1", "not in the portable"),
        ("a*?", "not in the portable"),
        ("\\Aabc", "anchor"),
        ("(unclosed", "invalid regular expression"),
    ],
)
def test_non_portable_patterns_are_rejected(pattern: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        check_portable_regex(pattern)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90s", 90), ("30m", 1800), ("12h", 43200), ("7d", 604800), ("2w", 1209600), ("1d12h", 129600), (" 1.5h ", 5400)],
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "7", "7x", "d7", "-1d", "0s"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


def test_format_duration() -> None:
    assert [format_duration(s) for s in (604800, 86400 * 3, 3600, 90)] == ["1w", "3d", "1h", "90s"]
