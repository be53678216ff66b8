"""The portable regex subset: what every engine (re, RE2, PostgreSQL, Java) reads the same way."""

from __future__ import annotations

import pytest

from leadgate.definition.regex import check_portable_regex


@pytest.mark.parametrize(
    "pattern",
    [
        "^vp",
        "(director|vp)",
        "[a-z0-9]+$",
        "a.c",
        "\\d{2,3}",
        "[^@]+@",
        "x*y?z+",
        "\\w+\\s\\W\\S\\D",
        "(?:head|chief) of",
        "[.-]",
        "^c[a-z]o$",
        "a{3}",
    ],
)
def test_portable_patterns_are_accepted(pattern: str) -> None:
    check_portable_regex(pattern)


@pytest.mark.parametrize(
    ("pattern", "why"),
    [
        ("\\bword", "word boundaries"),
        ("word\\B", "word boundaries"),
        ("(?i)vp", "inline flags"),
        ("(?i:vp)", "inline flags"),
        ("(?=x)y", "not in the portable"),
        ("(?<!x)y", "not in the portable"),
        ("(a)\\1", "not in the portable"),
        ("a*?", "not in the portable"),
        ("a+?", "not in the portable"),
        ("\\Aabc", "anchor other than"),
        ("abc\\Z", "anchor other than"),
        ("(?P<n>a)(?P=n)", "not in the portable"),
        ("(unclosed", "invalid regular expression"),
        ("[z-a]", "invalid regular expression"),
        ("*a", "invalid regular expression"),
    ],
)
def test_non_portable_patterns_are_rejected(pattern: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        check_portable_regex(pattern)


def test_the_message_names_the_pattern() -> None:
    with pytest.raises(ValueError, match=r"'\(a\)\\\\1'"):
        check_portable_regex("(a)\\1")
