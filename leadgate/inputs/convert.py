"""Column conversion with row-level errors: vectorized for the clean case, per row only where values fail.

Each converter takes an Arrow column and returns (converted column, {row index: message}).  Rows with a
message are left out of the table by the caller and reported; nothing is silently dropped.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pyarrow as pa
import pyarrow.compute as pc

from leadgate.inputs.dataset import TS_TYPE

Errors = dict[int, str]
NUMBER = r"^\s*[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?\s*$"
TRUE = frozenset({"true", "t", "yes", "y", "1"})
FALSE = frozenset({"false", "f", "no", "n", "0"})
#: Epoch numbers above this are milliseconds (1e11 s is the year 5138; 1e11 ms is 1973).
EPOCH_MS_ABOVE = 1e11
#: Instants from 0001-01-01 to 9999-12-31T23:59:59.999999 (UTC), in microseconds since the epoch: what
#: Python and every engine can hold.
MIN_MICROS = -62_135_596_800_000_000
MAX_MICROS = 253_402_300_799_999_999


def _bad_rows(column: pa.ChunkedArray | pa.Array, ok: pa.ChunkedArray | pa.Array) -> list[int]:
    bad = pc.and_(pc.is_valid(column), pc.invert(pc.fill_null(ok, True)))
    return pc.indices_nonzero(pc.fill_null(bad, False)).to_pylist()  # type: ignore[no-any-return]


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:39] + "…'"


def to_string(column: pa.ChunkedArray) -> tuple[pa.ChunkedArray, Errors]:
    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        return pc.cast(column, pa.string()), {}
    if pa.types.is_timestamp(column.type):
        return pc.cast(pc.strftime(column, "%Y-%m-%dT%H:%M:%S"), pa.string()), {}
    if pa.types.is_null(column.type):
        return pa.chunked_array([pa.nulls(len(column), pa.string())]), {}
    if pa.types.is_boolean(column.type):
        return pc.if_else(column, "true", "false"), {}
    return pc.cast(column, pa.string()), {}


def to_number(column: pa.ChunkedArray) -> tuple[pa.ChunkedArray, Errors]:
    t = column.type
    if pa.types.is_integer(t) or pa.types.is_null(t):
        return pc.cast(column, pa.float64()), {}
    if pa.types.is_floating(t) or pa.types.is_decimal(t):
        return _finite(column, pc.cast(column, pa.float64()), {})
    if pa.types.is_boolean(t):
        return pc.cast(pc.cast(column, pa.int8()), pa.float64()), {}
    text, _ = to_string(column)
    ok = pc.match_substring_regex(text, NUMBER)
    bad = _bad_rows(text, ok)
    if bad:
        text = pc.if_else(pc.fill_null(ok, False), text, pa.scalar(None, pa.string()))
    errors = {i: f"expected a number, found {_show(column[i].as_py())}" for i in bad}
    return _finite(column, pc.cast(pc.utf8_trim_whitespace(text), pa.float64()), errors)


def _finite(column: pa.ChunkedArray, numbers: pa.ChunkedArray, errors: Errors) -> tuple[pa.ChunkedArray, Errors]:
    """Infinite and NaN numbers (``1e400``, ``inf``, JSON's ``NaN``) are errors, and read as missing."""
    finite = pc.is_finite(numbers)
    bad = _bad_rows(numbers, finite)
    if not bad:
        return numbers, errors
    for i in bad:
        errors.setdefault(i, f"expected a finite number, found {_show(column[i].as_py())}")
    return pc.if_else(pc.fill_null(finite, True), numbers, pa.scalar(None, pa.float64())), errors


def to_boolean(column: pa.ChunkedArray) -> tuple[pa.ChunkedArray, Errors]:
    t = column.type
    if pa.types.is_boolean(t) or pa.types.is_null(t):
        return pc.cast(column, pa.bool_()), {}
    if pa.types.is_integer(t) or pa.types.is_floating(t):
        ok = pc.is_in(column, pa.array([0, 1], t))
        bad = _bad_rows(column, ok)
        cleaned = pc.if_else(pc.fill_null(ok, False), column, pa.scalar(None, t))
        errors = {i: f"expected true or false, found {_show(column[i].as_py())}" for i in bad}
        return pc.not_equal(cleaned, pa.scalar(0, t)), errors
    text = pc.utf8_lower(pc.utf8_trim_whitespace(to_string(column)[0]))
    is_true = pc.is_in(text, pa.array(sorted(TRUE)))
    is_false = pc.is_in(text, pa.array(sorted(FALSE)))
    ok = pc.or_(is_true, is_false)
    bad = _bad_rows(text, ok)
    errors = {i: f"expected true or false (or yes/no, 1/0), found {_show(column[i].as_py())}" for i in bad}
    result = pc.if_else(is_true, True, pc.if_else(is_false, False, pa.scalar(None, pa.bool_())))
    return pc.if_else(pc.is_valid(text), result, pa.scalar(None, pa.bool_())), errors


class OutOfRange(ValueError):
    """An epoch number outside the years 1 to 9999."""


def _parse_one(value: object) -> int:
    """Microseconds since the epoch (UTC) of one timestamp value; raises ValueError (also for an instant
    outside the years 1 to 9999)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = value / 1000 if abs(value) > EPOCH_MS_ABOVE else value
        micros = round(seconds * 1_000_000)  # OverflowError for an infinite value, ValueError for NaN
        if not MIN_MICROS <= micros <= MAX_MICROS:
            raise OutOfRange(value)
        return micros
    text = str(value).strip()
    try:
        number = float(text)
    except ValueError:
        number = None
    if number is not None:
        return _parse_one(number)
    parsed = datetime.fromisoformat(text.replace("z", "Z"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    delta = parsed - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds


def to_timestamp(column: pa.ChunkedArray) -> tuple[pa.ChunkedArray, Errors]:
    """ISO-8601 text (with Z or an offset: converted to UTC; naive: taken as UTC), epoch seconds or
    milliseconds (by magnitude), or a timestamp column, into naive UTC microseconds."""
    t = column.type
    if pa.types.is_timestamp(t):
        if t.tz is not None:
            column = pc.cast(column, pa.timestamp(t.unit, "UTC"))
            column = column.cast(pa.timestamp(t.unit))
        return pc.cast(column, TS_TYPE), {}
    if pa.types.is_null(t):
        return pa.chunked_array([pa.nulls(len(column), TS_TYPE)]), {}
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        for target in (pa.timestamp("us", "UTC"), TS_TYPE):
            try:
                return pc.cast(pc.cast(column, target), TS_TYPE), {}
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                continue
    values = column.to_pylist()
    micros: list[int | None] = []
    errors: Errors = {}
    for i, value in enumerate(values):
        if value is None or value == "":
            micros.append(None)
            continue
        try:
            micros.append(_parse_one(value))
        except (OutOfRange, OverflowError):
            micros.append(None)
            errors[i] = f"expected a time from the year 1 to 9999 (epoch seconds or milliseconds), found {_show(value)}"
        except (ValueError, TypeError):
            micros.append(None)
            errors[i] = f"expected an ISO-8601 time or epoch seconds, found {_show(value)}"
    return pa.chunked_array([pa.array(micros, pa.int64()).cast(TS_TYPE)]), errors


CONVERTERS = {"string": to_string, "number": to_number, "boolean": to_boolean}
