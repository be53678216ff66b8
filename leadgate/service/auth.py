"""API keys and the one error shape, shared by every router of the HTTP service.

Every error has one shape: ``{"error": {"code", "message", "details"}}``.  A key is read from HTTP Basic
(the user name, as Segment's clients send it), a Bearer token, or ``writeKey`` in a Segment body.
"""

from __future__ import annotations

import base64
import gzip
import json
import re
import zlib
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request

from leadgate.store.models import ApiKey
from leadgate.store.store import Store


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, details: Any = None):
        self.status, self.code, self.message, self.details = status, code, message, details


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details}}


def _token(request: Request, body: dict[str, Any] | None) -> str | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(header[6:]).decode()
        except (ValueError, UnicodeDecodeError):
            return None
        return decoded.split(":", 1)[0]
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    if body and isinstance(body.get("writeKey"), str):
        return str(body["writeKey"])
    return None


@dataclass
class Body:
    """A request body as received (decompressed when that worked) and its JSON value, or why it has none."""

    raw: bytes
    value: Any = None
    error: ApiError | None = None

    def rejected_payload(self) -> dict[str, Any]:
        """What ``rejected`` keeps of a body that could not be read: its first ``KEEP``, as text when
        it is text (a ``writeKey`` in it redacted), else base64."""
        try:
            text = WRITE_KEY.sub(r"\1[redacted]\2", self.raw.decode("utf-8"))
        except UnicodeDecodeError:
            text = None
        if text is None or "\x00" in text:  # not text (PostgreSQL's JSON cannot hold NUL either)
            head: dict[str, Any] = {"body_base64": base64.b64encode(self.raw[:KEEP]).decode()}
            return {**head, "bytes": len(self.raw), "truncated": len(self.raw) > KEEP}
        return {"body": text[:KEEP], "bytes": len(self.raw), "truncated": len(text) > KEEP}


KEEP = 64 * 1024  # what is kept of an unreadable body: its first 64 Ki characters (bytes when not text)
WRITE_KEY = re.compile(r'("writeKey"\s*:\s*")[^"]*(")')


async def read_body(request: Request) -> Body:
    """The body parsed as JSON (gunzipped first with ``Content-Encoding: gzip``); problems are returned, not
    raised, so the caller can check the key first and keep what could not be read."""
    raw = await request.body()
    if request.headers.get("content-encoding", "").lower() == "gzip":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as exc:
            return Body(raw, error=ApiError(400, "bad_gzip", f"the body is not valid gzip: {exc}"))
    try:
        return Body(raw, json.loads(raw or b"{}"))
    except json.JSONDecodeError as exc:
        message = f"the body is not valid JSON: {exc.msg} at position {exc.pos}"
        return Body(raw, error=ApiError(400, "bad_json", message))
    except ValueError as exc:  # not UTF-8 (or -16, -32) text
        return Body(raw, error=ApiError(400, "bad_json", f"the body is not valid JSON: {exc}"))


def keep_rejected(store: Store, source: str, body: Body, problem: str, kind: str | None = None) -> None:
    """Keep a body that could not be read, or is not what the endpoint takes, in ``rejected`` with why
    (listable; replayable with a corrected version): nothing sent is lost silently.  ``kind``: the native
    record the body should have held (``replay.py`` then checks a correction as one)."""
    payload = body.rejected_payload() if body.error is not None else body.value
    if not isinstance(payload, dict):
        payload = {"body": payload}
    if kind is not None:
        payload = {"kind": kind, "record": None, **payload}
    with store.session() as s, s.begin():
        store.reject(s, source, {k: v for k, v in payload.items() if k != "writeKey"}, [problem])


def authorize(request: Request, body: dict[str, Any] | None, scope: str) -> ApiKey:
    """The request's API key, if it is valid and may ``scope`` (admin keys may do anything)."""
    store: Store = request.app.state.store
    token = _token(request, body)
    key = store.verify_key(token) if token else None
    if key is None:
        raise ApiError(401, "unauthorized", "a valid API key is required (HTTP Basic user name or Bearer)")
    if scope not in key.scopes.split() and "admin" not in key.scopes.split():
        raise ApiError(403, "forbidden", f"this key cannot {scope}; its scopes are: {key.scopes}")
    return key


def _admin(request: Request) -> ApiKey:  # sync: FastAPI runs it in the thread pool, off the event loop
    return authorize(request, None, "admin")


def _writer(request: Request) -> ApiKey:
    return authorize(request, None, "write")


def _sales(request: Request) -> ApiKey:
    return authorize(request, None, "sales")


#: A route parameter typed ``Admin`` requires an admin key; ``Writer`` a write (or admin) key; ``Sales`` a
#: sales (or admin) key: what a CRM integration needs for feedback, first touch, opportunities and consent.
Admin = Annotated[ApiKey, Depends(_admin)]
Writer = Annotated[ApiKey, Depends(_writer)]
Sales = Annotated[ApiKey, Depends(_sales)]
