"""Durations in definitions: '90s', '30m', '12h', '7d', '2w' (or combined, '1d12h')."""

from __future__ import annotations

import re

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_PART = re.compile(r"(\d+(?:\.\d+)?)([smhdw])")
#: The longest duration: 100 years (windows and half-lives beyond it would take instants out of the range
#: engines and Python can write); the shortest: a microsecond, the precision of instants.
MAX_SECONDS = 36525 * 86400
MIN_SECONDS = 1e-6


def check_duration(seconds: float, text: str | None = None) -> float:
    """``seconds`` if it is a usable duration; raises ValueError naming the limits."""
    shown = repr(text) if text is not None else f"{seconds:g} seconds"
    if not seconds <= MAX_SECONDS:  # NaN fails too
        raise ValueError(f"{shown} is too long; expected a duration of at most 100 years (36525d)")
    if seconds < MIN_SECONDS:
        raise ValueError(f"{shown} is too short; expected a duration of at least a microsecond (0.000001s)")
    return seconds


def parse_duration(text: str) -> float:
    """Seconds in ``text``; raises ValueError naming the accepted forms."""
    s = text.strip().lower().replace(" ", "")
    pos, total = 0, 0.0
    for m in _PART.finditer(s):
        if m.start() != pos:
            break
        total += float(m.group(1)) * UNITS[m.group(2)]
        pos = m.end()
    if not s or pos != len(s) or total <= 0:
        raise ValueError(f"'{text}' is not a duration; expected forms like '90s', '30m', '12h', '7d', '2w'")
    return check_duration(total, text)


def format_duration(seconds: float) -> str:
    for unit in ("w", "d", "h", "m"):
        size = UNITS[unit]
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"
