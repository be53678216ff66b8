"""Native REST: upsert leads and accounts, post events, import files.  Write keys may call these.

Each endpoint takes one record (a JSON object) or many (a JSON array, up to ``MAX_ITEMS``).  Every record is
checked on its own: one bad record is a 400 naming each problem; in a list, the good records are applied
and each bad one is reported by index.  Either way the bad ones are kept in ``rejected`` (listable,
replayable).  Events are idempotent by ``id``; accepted events and changed leads are handed to the
background scorer, like Segment input.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import JSONResponse

from leadgate.errors import InputError
from leadgate.inputs.mapping import parse_mapping
from leadgate.service.auth import ApiError, Writer, keep_rejected, read_body
from leadgate.service.imports import KINDS, import_file
from leadgate.service.records import MODELS, submit
from leadgate.store.store import Store

MAX_ITEMS = 10_000
router = APIRouter(tags=["records"])


def _inline(schema: dict[str, Any]) -> dict[str, Any]:
    """A model's JSON Schema with its ``$defs`` inlined, to stand alone in the OpenAPI document."""
    defs = schema.pop("$defs", {})

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return walk(defs[ref.removeprefix("#/$defs/")])
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    return dict(walk(schema))


def _body(kind: str) -> dict[str, Any]:
    one = _inline(MODELS[kind].model_json_schema())
    schema = {"oneOf": [one, {"type": "array", "items": one, "maxItems": MAX_ITEMS}]}
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


async def _submit(request: Request, key: Any, kind: str) -> JSONResponse:
    store: Store = request.app.state.store
    read = await read_body(request)
    if read.error is not None:  # kept in rejected with why, like a bad record
        await asyncio.to_thread(keep_rejected, store, "api", read, f"body: {read.error.message}", kind)
        raise read.error
    body = read.value
    many = isinstance(body, list)
    items = body if many else [body]
    if len(items) > MAX_ITEMS:
        raise ApiError(413, "too_many", f"at most {MAX_ITEMS} records per request; import a file for more")
    result = await asyncio.to_thread(submit, store, kind, items, actor=f"key:{key.prefix}")
    if result.touched:
        request.app.state.scorer.submit(sorted(result.touched))
    if not many and result.rejected:
        raise ApiError(400, "invalid_record", f"the {kind} was rejected", result.rejected[0]["problems"])
    return JSONResponse(result.to_dict())


@router.post("/api/leads", openapi_extra=_body("lead"))
async def upsert_leads(request: Request, key: Writer) -> JSONResponse:
    """Create or update leads by ``id`` and/or ``email`` (leads with the same address merge); traits are
    merged into the lead's; ``account`` re-points it.  Without one, the account follows the email's company
    domain (free-mail and disposable domains excluded)."""
    return await _submit(request, key, "lead")


@router.post("/api/accounts", openapi_extra=_body("account"))
async def upsert_accounts(request: Request, key: Writer) -> JSONResponse:
    """Create or update accounts by ``id``; traits are merged; the account's leads are re-scored."""
    return await _submit(request, key, "account")


@router.post("/api/events", openapi_extra=_body("event"))
async def post_events(request: Request, key: Writer) -> JSONResponse:
    """Record events of leads named by ``lead_id``, ``email`` or ``anonymous_id`` (created if new).  An
    event with an ``id`` is stored once however often it is posted; ``timestamp`` defaults to now."""
    return await _submit(request, key, "event")


@router.post("/api/imports/{kind}")
def import_upload(
    kind: str,
    key: Writer,
    request: Request,
    file: Annotated[UploadFile, File(description="CSV or JSON Lines (.csv, .jsonl, .ndjson; .gz too)")],
    mapping: Annotated[
        UploadFile | None, File(description="a column mapping (YAML); default: leadgate's columns")
    ] = None,
    score: Annotated[bool, Form()] = True,
) -> dict[str, Any]:
    """Bulk import of ``leads``, ``accounts`` or ``events`` from an uploaded file through a column mapping
    (``examples/mappings/``).  Bad rows are kept in ``rejected`` with file, row, field and reason; the
    touched leads are scored once at the end.  The same as ``leadgate import``."""
    if kind not in KINDS:
        raise ApiError(404, "not_found", f"no import of {kind!r}; expected leads, accounts or events")
    store: Store = request.app.state.store
    name = Path(file.filename or f"upload.{kind}.csv").name
    try:
        parsed = None
        if mapping is not None:
            import yaml

            try:
                doc = yaml.safe_load(mapping.file.read())
            except yaml.YAMLError as exc:
                raise InputError(f"{mapping.filename}: cannot read the mapping: {exc}") from None
            parsed = parse_mapping(doc, mapping.filename or "mapping", kind)
        with tempfile.TemporaryDirectory(prefix="leadgate-import-") as tmp:
            path = Path(tmp) / name
            with path.open("wb") as out:
                shutil.copyfileobj(file.file, out)
            report = import_file(store, kind, path, parsed, actor=f"key:{key.prefix}", name=name, score=score)
    except InputError as exc:
        raise ApiError(400, "invalid_import", exc.message, [str(r) for r in exc.rows] or None) from None
    return report.to_dict()
