"""Admin API over definition versions: list them, show one, and diff two (stored or given as YAML).

    GET  /api/definitions                        every version, oldest first, with its counts
    GET  /api/definitions/diff?old=REF&new=REF   rule-by-rule changes between two stored versions
    POST /api/definitions/diff                   the same with either side given as YAML source
    GET  /api/definitions/{ref}                  one version with its YAML source

A reference is an id (``12``), ``NAME@VERSION``, a name (its latest version) or ``active``.  Pushing is
``POST /api/definitions`` (``app.py``).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel

from leadgate.definition.diff import diff_definitions
from leadgate.definition.loader import parse_definition
from leadgate.definition.model import Definition
from leadgate.errors import LeadgateError
from leadgate.service.auth import Admin, ApiError
from leadgate.store.store import Store
from leadgate.store.versions import find_version, label, list_versions, version_definition

router = APIRouter(prefix="/api/definitions", tags=["admin"])


def _store(request: Request) -> Store:
    return request.app.state.store  # type: ignore[no-any-return]


def _stored(store: Store, ref: str) -> tuple[Definition, str]:
    try:
        row = find_version(store, ref)
    except LeadgateError as exc:
        raise ApiError(404, "not_found", str(exc)) from None
    return version_definition(row), label(row)


@router.get("")
def list_definitions(request: Request, _key: Admin) -> list[dict[str, Any]]:
    """Every stored version: author, time, whether active, how many current scores and MQLs it made."""
    return [v.to_dict() for v in list_versions(_store(request))]


@router.get("/diff")
def diff_stored(request: Request, old: str, new: str, _key: Admin) -> dict[str, Any]:
    """What changed from version ``old`` to version ``new``, rule by rule."""
    store = _store(request)
    (a, a_label), (b, b_label) = _stored(store, old), _stored(store, new)
    return diff_definitions(a, b, a_label, b_label).to_dict()


class DiffIn(BaseModel):
    """Each side is a stored version (``old`` / ``new``) or YAML source (``old_source`` / ``new_source``)."""

    old: str | None = None
    old_source: str | None = None
    new: str | None = None
    new_source: str | None = None


def _side(store: Store, ref: str | None, source: str | None, name: str) -> tuple[Definition, str]:
    if (ref is None) == (source is None):
        raise ApiError(400, "invalid_request", f"give exactly one of '{name}' (a stored version) or '{name}_source'")
    if ref is not None:
        return _stored(store, ref)
    assert source is not None
    return parse_definition(source, filename=f"<{name}_source>"), f"<{name}_source>"


@router.post("/diff")
def diff_any(request: Request, body: DiffIn, _key: Admin) -> dict[str, Any]:
    """What changed from ``old`` to ``new``; either may be a stored version or YAML not pushed yet."""
    store = _store(request)
    a, a_label = _side(store, body.old, body.old_source, "old")
    b, b_label = _side(store, body.new, body.new_source, "new")
    return diff_definitions(a, b, a_label, b_label).to_dict()


@router.get("/{ref}")
def show_definition(request: Request, ref: str, _key: Admin) -> dict[str, Any]:
    """One version: its details and YAML source exactly as pushed."""
    store = _store(request)
    try:
        row = find_version(store, ref)
    except LeadgateError as exc:
        raise ApiError(404, "not_found", str(exc)) from None
    info = next(v for v in list_versions(store) if v.id == row.id)
    return {**info.to_dict(), "source": row.source}
