"""The portable regular-expression subset.

A pattern in a definition runs on four regex engines: Python's ``re`` (SQLite and the reference
evaluator), RE2 (DuckDB), PostgreSQL's ARE and Java's (Spark).  Only constructs that mean the same on all
four are accepted: literals, ``.``, character classes, ``\\d \\w \\s`` and their negations, anchors ``^ $``,
alternation, groups and quantifiers.  Word boundaries, look-around, back-references, inline flags and
lazy quantifiers are rejected with a message saying so; case-insensitivity is the ``ignore_case`` option.
"""

from __future__ import annotations

import re
from typing import Any

try:  # Python 3.11+
    import re._constants as _c
    import re._parser as _p
except ImportError:  # pragma: no cover
    import sre_constants as _c  # type: ignore[no-redef]
    import sre_parse as _p  # type: ignore[no-redef]

_ALLOWED = {
    _c.LITERAL,
    _c.NOT_LITERAL,
    _c.ANY,
    _c.IN,
    _c.BRANCH,
    _c.SUBPATTERN,
    _c.MAX_REPEAT,
    _c.AT,
}
_ALLOWED_AT = {_c.AT_BEGINNING, _c.AT_END}


def check_portable_regex(pattern: str) -> None:
    """Raise ValueError if ``pattern`` is not valid or not in the portable subset."""
    try:
        re.compile(pattern)
        parsed = _p.parse(pattern)
    except re.error as exc:
        raise ValueError(f"invalid regular expression {pattern!r}: {exc}") from None
    if parsed.state.flags & (re.IGNORECASE | re.MULTILINE | re.DOTALL | re.VERBOSE):
        raise ValueError("inline flags such as (?i) are not portable; use 'ignore_case: true'")
    if "\\b" in pattern or "\\B" in pattern:
        raise ValueError(r"word boundaries (\b) mean different things across engines; not supported")
    _check(list(parsed), pattern)


def _check(items: list[tuple[Any, Any]], pattern: str) -> None:
    for op, arg in items:
        if op not in _ALLOWED:
            raise ValueError(f"{pattern!r} uses {str(op).lower()}, which is not in the portable regex subset")
        if op is _c.AT and arg not in _ALLOWED_AT:
            raise ValueError(f"{pattern!r} uses an anchor other than ^ and $, which is not portable")
        if op is _c.SUBPATTERN:
            _group, add_flags, del_flags, sub = arg
            if add_flags or del_flags:
                raise ValueError("inline flags are not portable; use 'ignore_case: true'")
            _check(list(sub), pattern)
        elif op is _c.BRANCH:
            for branch in arg[1]:
                _check(list(branch), pattern)
        elif op is _c.MAX_REPEAT:
            _check(list(arg[2]), pattern)
        elif op is _c.IN:
            for sub_op, _ in arg:
                if sub_op not in (_c.LITERAL, _c.RANGE, _c.CATEGORY, _c.NEGATE):
                    raise ValueError(f"{pattern!r} has a character class construct that is not portable")
