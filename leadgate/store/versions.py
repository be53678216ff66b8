"""Definition versions in the store: list them, find one by reference, read it back as a Definition.

Pushing and activating are in ``store.py``.  Versions are immutable: each keeps its YAML source, author,
time and checksum, and every score, score-history row and MQL stage change names the version that made
it (``definition_version_id``), so the counts listed here are exact.

A reference is a version id (``12`` or ``#12``), ``NAME@VERSION`` (``classic@3``), a definition name (its
latest version), ``active``, or ``latest`` (the version pushed last, whatever its name).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from leadgate.definition.loader import load_definition, parse_definition
from leadgate.definition.model import Definition
from leadgate.errors import LeadgateError
from leadgate.store.models import DefinitionVersion, Score, StageChange
from leadgate.store.store import Store


@dataclass(frozen=True)
class VersionInfo:
    id: int
    name: str
    version: str
    author: str
    created_at: datetime
    active: bool
    sha256: str
    scored: int  # leads whose current score this version made
    mqls: int  # leads this version made MQLs (stage changes to mql)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "version": self.version,
            "author": self.author,
            "created_at": self.created_at.isoformat() + "Z",
            "active": self.active,
            "sha256": self.sha256,
            "scored": self.scored,
            "mqls": self.mqls,
        }


def list_versions(store: Store) -> list[VersionInfo]:
    """Every stored version, oldest first, with how many current scores and MQLs it made."""
    with store.session() as s:
        rows = list(s.scalars(select(DefinitionVersion).order_by(DefinitionVersion.id)))
        scored = dict(
            s.execute(select(Score.definition_version_id, func.count()).group_by(Score.definition_version_id)).all()
        )
        mqls = dict(
            s.execute(
                select(StageChange.definition_version_id, func.count())
                .where(StageChange.to_stage == "mql")
                .group_by(StageChange.definition_version_id)
            ).all()
        )
    return [
        VersionInfo(
            r.id, r.name, r.version, r.author, r.created_at, r.active, r.sha256, scored.get(r.id, 0), mqls.get(r.id, 0)
        )
        for r in rows
    ]


def find_version(store: Store, ref: str | int) -> DefinitionVersion:
    """The version a reference names (see the module docstring); a clear error when there is none."""
    text = str(ref).strip()
    with store.session() as s:
        query = select(DefinitionVersion)
        if text.lstrip("#").isdigit():
            row = s.get(DefinitionVersion, int(text.lstrip("#")))
        elif text == "active":
            row = s.scalars(query.where(DefinitionVersion.active)).first()
        elif text == "latest":
            row = s.scalars(query.order_by(DefinitionVersion.id.desc())).first()
        elif "@" in text:
            name, version = text.split("@", 1)
            row = s.scalars(query.where(DefinitionVersion.name == name, DefinitionVersion.version == version)).first()
        else:
            row = s.scalars(query.where(DefinitionVersion.name == text).order_by(DefinitionVersion.id.desc())).first()
    if row is None:
        raise LeadgateError(
            f"no stored definition version {text!r}; expected an id (12 or #12), NAME@VERSION, a name, 'active' or "
            "'latest' "
            "(leadgate definitions list shows them)"
        )
    return row


def version_definition(row: DefinitionVersion) -> Definition:
    """The stored source parsed again (versions are validated when pushed)."""
    return parse_definition(row.source, filename=f"{row.name}@{row.version}")


def label(row: DefinitionVersion) -> str:
    return f"#{row.id} {row.name}@{row.version}"


def resolve(ref: str, database: str | None = None) -> tuple[Definition, str]:
    """A definition named by a file path (when that file exists) or a stored version reference, with a
    label saying which.  The store is only opened for a stored reference."""
    path = Path(ref)
    if path.is_file():
        return load_definition(path), str(path)
    row = stored_version(ref, database)
    return version_definition(row), label(row)


def stored_version(ref: str, database: str | None = None) -> DefinitionVersion:
    """The stored version ``ref`` names in the store at ``database`` (never creating a SQLite file)."""
    store = Store(database)
    try:
        if not store.url.startswith("sqlite") or sqlite_exists(store.url):
            store.upgrade()
            return find_version(store, ref)
        raise LeadgateError(f"{ref!r} is neither a definition file nor a version in {store.url} (no such database)")
    finally:
        store.engine.dispose()


def sqlite_exists(url: str) -> bool:
    name = url.split(":///", 1)[-1]
    return name in ("", ":memory:") or Path(name).exists()
