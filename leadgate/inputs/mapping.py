"""Column mappings: how the columns of someone else's export (a HubSpot contacts export, a Salesforce leads
report) become leadgate's lead, account and event records, so the file loads without editing.

A mapping is a small YAML file::

    kind: leads                      # leads, accounts or events
    columns:
      Record ID: id                  # source column -> target
      Email: email
      Job Title: trait.title
      Number of Employees: {to: account.employees, type: number}
      Create Date: {to: trait.created, type: timestamp, format: "%Y-%m-%d %H:%M", timezone: America/New_York}
      Owner: ignore
    constants:                       # the same value on every record
      trait.source_system: hubspot
    unmapped: ignore                 # or "trait" / "property": keep other columns under their own names

Targets per kind -- leads: ``id``, ``email``, ``anonymous_id``, ``trait.NAME``, ``account.id``,
``account.domain``, ``account.NAME`` (an account trait); accounts: ``id``, ``domain``, ``trait.NAME``;
events: ``id`` (idempotency key), ``lead_id``, ``email``, ``anonymous_id``, ``event``, ``timestamp``,
``property.NAME``; any kind: ``ignore``.  Types: ``string`` (default), ``number``, ``boolean``,
``timestamp`` (ISO-8601 or epoch by default, or a ``strptime`` ``format``; naive times in ``timezone``,
default UTC).  Empty cells are missing values.  A value that does not convert is a problem of that row
and field; the row is rejected with it, never silently dropped.
"""

from __future__ import annotations

import re
from collections.abc import Mapping as MappingABC
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from leadgate.errors import InputError
from leadgate.inputs.convert import EPOCH_MS_ABOVE, FALSE, NUMBER, TRUE

Kind = Literal["leads", "accounts", "events"]
ValueType = Literal["string", "number", "boolean", "timestamp"]
FIXED: dict[str, frozenset[str]] = {
    "leads": frozenset({"id", "email", "anonymous_id", "account.id", "account.domain"}),
    "accounts": frozenset({"id", "domain"}),
    "events": frozenset({"id", "lead_id", "email", "anonymous_id", "event", "timestamp"}),
}
PREFIXES: dict[str, tuple[str, ...]] = {
    "leads": ("trait.", "account."),
    "accounts": ("trait.",),
    "events": ("property.",),
}
#: Identifiers a record of each kind needs at least one of (the mapping must map or set one).
IDENTIFIERS: dict[str, frozenset[str]] = {
    "leads": frozenset({"id", "email"}),
    "accounts": frozenset({"id"}),
    "events": frozenset({"lead_id", "email", "anonymous_id"}),
}
_NUMBER = re.compile(NUMBER)


class Column(BaseModel):
    """Where one source column goes, and how its text becomes a value."""

    model_config = ConfigDict(extra="forbid")

    to: str
    type: ValueType = "string"
    format: str | None = None
    timezone: str = "UTC"
    required: bool = False

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (expected an IANA name like Europe/Paris)") from None
        return value


class Mapping(BaseModel):
    """A column mapping for one kind of record."""

    model_config = ConfigDict(extra="forbid")

    kind: Kind
    columns: dict[str, Column] = Field(default_factory=dict)
    constants: dict[str, Any] = Field(default_factory=dict)
    unmapped: Literal["ignore", "trait", "property"] = "ignore"
    source: str = "<mapping>"

    @field_validator("columns", mode="before")
    @classmethod
    def _short_form(cls, value: Any) -> Any:
        if isinstance(value, MappingABC):
            return {k: {"to": v} if isinstance(v, str) else v for k, v in value.items()}
        return value

    @model_validator(mode="after")
    def _targets(self) -> Mapping:
        problems = []
        targets = [c.to for c in self.columns.values() if c.to != "ignore"] + list(self.constants)
        for target in targets:
            if target not in FIXED[self.kind] and not target.startswith(PREFIXES[self.kind]):
                allowed = sorted(FIXED[self.kind]) + [p + "NAME" for p in PREFIXES[self.kind]]
                problems.append(f"target {target!r} is not one of {', '.join(allowed)}, ignore")
            elif target.endswith(".") or target.count(".") > 1:
                problems.append(f"target {target!r}: expected one name after the dot")
        seen: set[str] = set()
        for target in targets:
            if target in seen:
                problems.append(f"target {target!r} is set twice")
            seen.add(target)
        if not IDENTIFIERS[self.kind] & set(targets):
            problems.append(f"nothing is mapped to {' or '.join(sorted(IDENTIFIERS[self.kind]))}")
        if self.kind == "events" and "event" not in targets:
            problems.append("nothing is mapped to event (map a column or set a constant)")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def check_header(self, header: list[str], file: str) -> list[str]:
        """Mapped columns the file lacks: an error for required ones, returned as notes for the others."""
        missing = [name for name in self.columns if name not in header]
        required = [name for name in missing if self.columns[name].required]
        if required:
            raise InputError(
                f"{file}: column {', '.join(repr(n) for n in required)} required by {self.source} is missing; "
                f"the file has {', '.join(repr(h) for h in header)}"
            )
        return missing

    def apply(self, row: dict[str, Any]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        """One source row → a record (the native REST shape) and its problems as (source column, message)."""
        record: dict[str, Any] = {}
        problems: list[tuple[str, str]] = []
        for target, value in self.constants.items():
            _put(record, self.kind, target, value)
        for name, value in row.items():
            column = self.columns.get(name)
            if column is None:
                if self.unmapped != "ignore" and not _blank(value):
                    prefix = "trait." if self.kind != "events" else "property."
                    _put(record, self.kind, prefix + name, value)
                continue
            if column.to == "ignore" or _blank(value):
                continue
            try:
                converted = convert(value, column)
            except ValueError as exc:
                problems.append((name, str(exc)))
                _put(record, self.kind, column.to, value)  # kept as found, for the rejected row
                continue
            _put(record, self.kind, column.to, converted)
        return record, problems


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _put(record: dict[str, Any], kind: str, target: str, value: Any) -> None:
    if isinstance(value, datetime):
        value = value.isoformat()
    if "." not in target or target in ("account.id", "account.domain"):
        if target.startswith("account."):
            record.setdefault("account", {})[target.removeprefix("account.")] = value
        else:
            record[target] = value
        return
    group, name = target.split(".", 1)
    if group == "account":
        record.setdefault("account", {}).setdefault("traits", {})[name] = value
    else:
        record.setdefault({"trait": "traits", "property": "properties"}[group], {})[name] = value


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:39] + "…'"


def convert(value: Any, column: Column) -> Any:
    """A cell's value as the column's type; ValueError saying what was expected."""
    kind = column.type
    if kind == "string":
        return value.strip() if isinstance(value, str) else value  # a JSON Lines value keeps its JSON type
    if kind == "number":
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return value
        text = str(value).strip().replace(",", "")
        if not _NUMBER.match(text):
            raise ValueError(f"expected a number, found {_show(value)}")
        number = float(text)
        return int(number) if number.is_integer() and abs(number) < 2**53 else number
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in TRUE:
            return True
        if text in FALSE:
            return False
        raise ValueError(f"expected true or false (or yes/no, 1/0), found {_show(value)}")
    return _timestamp(value, column)


def _timestamp(value: Any, column: Column) -> datetime:
    zone = ZoneInfo(column.timezone)
    text = str(value).strip()
    try:
        if column.format:
            parsed = datetime.strptime(text, column.format)
        elif isinstance(value, (int, float)) or _NUMBER.match(text):
            number = float(text)
            seconds = number / 1000 if abs(number) > EPOCH_MS_ABOVE else number
            return datetime.fromtimestamp(seconds, UTC)
        else:
            parsed = datetime.fromisoformat(text.replace("z", "Z"))
    except (ValueError, OverflowError, OSError):
        expected = f"a time like {column.format!r}" if column.format else "an ISO-8601 time or epoch seconds"
        raise ValueError(f"expected {expected}, found {_show(value)}") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone)
    return parsed.astimezone(UTC)


def default_mapping(kind: str) -> Mapping:
    """Files already in leadgate's own shape: the columns of docs/semantics.md, everything else kept."""
    by_kind: dict[str, dict[str, Any]] = {
        "leads": {"lead_id": "id", "id": "id", "email": "email", "account_id": "account.id"},
        "accounts": {"account_id": "id", "id": "id", "domain": "domain"},
        "events": {"message_id": "id", "lead_id": "lead_id", "email": "email", "anonymous_id": "anonymous_id",
                   "event": "event", "ts": {"to": "timestamp", "type": "timestamp"}},
    }  # fmt: skip
    columns = by_kind[kind]
    unmapped = "property" if kind == "events" else "trait"
    if kind == "leads":
        columns = {k: v for k, v in columns.items() if k != "id"}
    return Mapping.model_validate({"kind": kind, "columns": columns, "unmapped": unmapped, "source": "default"})


def load_mapping(path: Path, kind: str | None = None) -> Mapping:
    """Read and check a mapping file; InputError naming each problem."""
    try:
        doc = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise InputError(f"{path}: cannot read the mapping: {exc}") from None
    return parse_mapping(doc, str(path), kind)


def parse_mapping(doc: Any, source: str, kind: str | None = None) -> Mapping:
    if not isinstance(doc, dict):
        raise InputError(f"{source}: a mapping is a YAML object with kind and columns")
    doc = dict(doc)
    if kind is not None and doc.setdefault("kind", kind) != kind:
        raise InputError(f"{source}: this mapping is for {doc['kind']}, not {kind}")
    doc["source"] = source
    try:
        return Mapping.model_validate(doc)
    except ValidationError as exc:
        raise InputError(f"{source}: " + "; ".join(validation_problems(exc))) from None


def validation_problems(exc: ValidationError) -> list[str]:
    """A pydantic error as one ``field.path: message`` per problem."""
    problems = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"])
        message = err["msg"].removeprefix("Value error, ")
        problems.append(f"{where}: {message}" if where else message)
    return problems
