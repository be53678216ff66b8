"""API keys and the one error shape, shared by every router of the HTTP service.

Every error has one shape: ``{"error": {"code", "message", "details"}}``.  A key is read from HTTP Basic
(the user name, as Segment's clients send it), a Bearer token, or ``writeKey`` in a Segment body.
"""

from __future__ import annotations

import base64
import gzip
import json
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


async def json_body(request: Request) -> Any:
    raw = await request.body()
    if request.headers.get("content-encoding", "").lower() == "gzip":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise ApiError(400, "bad_gzip", f"the body is not valid gzip: {exc}") from None
    try:
        return json.loads(raw or b"{}")
    except json.JSONDecodeError as exc:
        raise ApiError(400, "bad_json", f"the body is not valid JSON: {exc.msg} at position {exc.pos}") from None


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
