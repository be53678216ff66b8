"""Errors raised by leadgate.  Lowest layer: imports nothing from the package."""

from __future__ import annotations

from dataclasses import dataclass, field


class LeadgateError(Exception):
    """Base class for every error leadgate reports to a user (CLI exit code 2, HTTP 4xx)."""

    exit_code = 2


@dataclass(frozen=True)
class Problem:
    """One problem found in a user's file: where, which key, what was found, what was expected."""

    message: str
    file: str | None = None
    line: int | None = None
    col: int | None = None
    key: str | None = None
    found: str | None = None
    expected: str | None = None

    def __str__(self) -> str:
        where = ":".join(str(p) for p in (self.file, self.line, self.col) if p is not None)
        parts = [f"{where}: " if where else ""]
        if self.key:
            parts.append(f"{self.key}: ")
        parts.append(self.message)
        if self.found is not None:
            parts.append(f" (found {self.found}")
            parts.append(f"; expected {self.expected})" if self.expected else ")")
        elif self.expected:
            parts.append(f" (expected {self.expected})")
        return "".join(parts)


class DefinitionError(LeadgateError):
    """A definition file is invalid.  Holds every problem found, each with its position."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class VersionConflict(LeadgateError):
    """A definition NAME@VERSION is already stored with different content (versions are immutable)."""


@dataclass
class RowError:
    """One malformed input row: file, 1-based row number, field and what was wrong."""

    file: str
    row: int
    field: str | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:row {self.row}"
        return f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"


@dataclass
class InputError(LeadgateError):
    """An input file cannot be read at all (missing, unknown format, no usable header)."""

    message: str
    rows: list[RowError] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(self.message)


class EngineError(LeadgateError):
    """An engine is unavailable or failed to run compiled SQL."""


class NotFoundError(LeadgateError):
    """A lead, opportunity, subscription or other stored thing that was named does not exist."""


class LifecycleError(LeadgateError):
    """A lifecycle move that the lead's current stage does not allow (e.g. accepting a lead that is no MQL)."""


class StoreBusy(LeadgateError):
    """The store could not take a write in time (another writer held it too long)."""


class CalibrationError(LeadgateError):
    """Calibration or a predictive model cannot go on with these inputs (no outcomes to learn from, an
    unreachable target, a model file that does not fit the data...)."""
