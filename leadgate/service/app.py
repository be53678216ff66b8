"""The HTTP service: a thin FastAPI app over the store and ingestion library.

- Segment HTTP Tracking API: ``POST /v1/batch``, ``/v1/track``, ``/v1/identify``, ``/v1/page``,
  ``/v1/screen``, ``/v1/group``, ``/v1/alias`` with a write key (HTTP Basic user name, Bearer token, or
  ``writeKey`` in the body), gzip bodies accepted.  Point ``segment-analytics-python`` or
  ``rudder-sdk-python`` at it with their ``host`` setting.
- Admin API under ``/api`` (admin keys): status, leads with their score and explanation, rejected input
  and its replay, definition versions, re-scoring.
- Every error has one shape (``auth.py``): ``{"error": {"code", "message", "details"}}``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from leadgate.errors import DefinitionError, LeadgateError, StoreBusy, VersionConflict
from leadgate.service import routes_reports, routes_rest, routes_sales, routes_webhooks
from leadgate.service.auth import Admin, ApiError, Body, authorize, error_body, keep_rejected, read_body
from leadgate.service.ingest import ingest, problems_of
from leadgate.service.replay import NotFound, StillInvalid, list_rejected, replay
from leadgate.service.routes_definitions import router as definitions_router
from leadgate.service.scorer import LeadScorer, PeriodicRescore, Scorer
from leadgate.service.scorer_process import ProcessScorer
from leadgate.service.timers import LifecycleTimer
from leadgate.service.webhooks import DeliveryWorker
from leadgate.store.models import ApiKey, Lead, Score
from leadgate.store.predictions import latest_for_lead
from leadgate.store.store import Store

SINGLE = ("track", "identify", "page", "screen", "group", "alias")
HTTP_CODES = {404: "not_found", 405: "method_not_allowed"}
log = logging.getLogger("leadgate.service")


class ServerErrors:
    """Unhandled errors: logged with their traceback and answered 500 in the API's one error shape (never
    Starlette's plain-text "Internal Server Error")."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracked)
        except Exception:
            log.exception("unhandled error answering %s %s", scope.get("method"), scope.get("path"))
            if started:  # too late for an error response: the connection is closed
                raise
            message = "the server could not handle this request; the error is logged"
            await JSONResponse(error_body("internal_error", message), status_code=500)(scope, receive, send)


class DefinitionIn(BaseModel):
    """A definition version to push (YAML source), optionally activated at once."""

    source: str
    author: str | None = None
    activate: bool = False


def create_app(
    store: Store, *, rescore_every: float | None = None, background: bool = True, scorer_process: bool = False
) -> FastAPI:
    """The app over ``store``.  ``rescore_every`` seconds, everyone is re-scored as of now (decay and
    closing windows move scores too); None turns that off (``LEADGATE_RESCORE_SECONDS`` sets it for serve).
    ``background`` runs the webhook delivery worker and the SLA / auto-recycle timer beside the scorer.
    ``scorer_process`` scores in a process of its own (``scorer_process.py``; a store in a file or a
    server, not in memory), rather than in a thread of this one."""

    scorer: LeadScorer = ProcessScorer(store.url) if scorer_process else Scorer(store)
    rescores = PeriodicRescore(store, rescore_every)
    worker = DeliveryWorker(store) if background else None
    timer = LifecycleTimer(store) if background else None

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        scorer.start()
        for job in (worker, timer):
            if job is not None:
                job.start()
        task = asyncio.create_task(rescores.loop()) if rescore_every else None
        yield
        if task is not None:
            task.cancel()
        await asyncio.to_thread(scorer.stop)
        for job in (timer, worker):
            if job is not None:
                await asyncio.to_thread(job.stop)

    app = FastAPI(
        title="leadgate",
        version="0.1.0",
        lifespan=lifespan,
        description="MQL engine: Segment-compatible ingestion, real-time qualification, admin API.",
    )
    app.state.store = store
    app.state.scorer = scorer
    app.state.rescores = rescores
    app.add_middleware(ServerErrors)
    app.state.webhooks, app.state.timer = worker, timer
    app.include_router(routes_rest.router)
    app.include_router(definitions_router)

    @app.exception_handler(ApiError)
    async def _api_error(_r: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(error_body(exc.code, exc.message, exc.details), status_code=exc.status)

    @app.exception_handler(HTTPException)  # Starlette's: unknown paths and methods too, not only FastAPI's
    async def _http_error(_r: Request, exc: HTTPException) -> JSONResponse:
        code = HTTP_CODES.get(exc.status_code, "http_error")
        return JSONResponse(error_body(code, str(exc.detail)), status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_r: Request, exc: RequestValidationError) -> JSONResponse:
        details = [{"loc": list(e["loc"]), "message": e["msg"]} for e in exc.errors()]
        return JSONResponse(error_body("invalid_request", "the request is not valid", details), status_code=422)

    @app.exception_handler(DefinitionError)
    async def _definition_error(_r: Request, exc: DefinitionError) -> JSONResponse:
        details = [str(p) for p in exc.problems]
        return JSONResponse(error_body("invalid_definition", "the definition is not valid", details), status_code=400)

    @app.exception_handler(StoreBusy)
    async def _busy(_r: Request, exc: StoreBusy) -> JSONResponse:  # clients (Segment's too) retry a 503
        return JSONResponse(error_body("store_busy", str(exc)), status_code=503, headers={"Retry-After": "1"})

    @app.exception_handler(LeadgateError)
    async def _leadgate_error(_r: Request, exc: LeadgateError) -> JSONResponse:
        return JSONResponse(error_body("bad_request", str(exc)), status_code=400)

    routes_sales.install(app)
    app.include_router(routes_webhooks.router)
    app.include_router(routes_reports.router)

    @app.get("/health", tags=["service"])
    def health() -> dict[str, str]:
        return {"status": "ok"}

    async def segment_body(request: Request, expected: str) -> tuple[dict[str, Any], ApiKey]:
        """The key first (401 before any 400), then the body: one that cannot be read or is not a JSON
        object is kept in ``rejected`` with why, and answered 400."""
        body = await read_body(request)
        key = await asyncio.to_thread(authorize, request, body.value if isinstance(body.value, dict) else None, "write")
        error = body.error or _shape_error(body, expected)
        if error is not None:
            await asyncio.to_thread(keep_rejected, store, "segment", body, f"body: {error.message}")
            raise error
        value: dict[str, Any] = body.value
        value.pop("writeKey", None)  # a secret: never stored with the message
        return value, key

    @app.post("/v1/batch", tags=["segment"])
    async def batch(request: Request) -> JSONResponse:
        body, key = await segment_body(request, "batch")
        messages = _with_batch_context(body["batch"], body.get("context"))
        result = await asyncio.to_thread(
            ingest, store, messages, sent_at=body.get("sentAt"), actor=f"key:{key.prefix}", scorer=scorer
        )
        return JSONResponse(result.to_dict())

    def single(kind: str) -> Any:
        async def endpoint(request: Request) -> JSONResponse:
            body, key = await segment_body(request, "message")
            body.setdefault("type", kind)
            problems = problems_of(body)
            if problems:  # stored in rejected (listable, replayable), then reported
                await asyncio.to_thread(ingest, store, [body], actor=f"key:{key.prefix}")
                raise ApiError(400, "invalid_message", "the message was rejected", problems)
            result = await asyncio.to_thread(
                ingest, store, [body], sent_at=body.get("sentAt"), actor=f"key:{key.prefix}", scorer=scorer
            )
            return JSONResponse(result.to_dict())

        endpoint.__name__ = kind
        return endpoint

    for kind in SINGLE:
        app.post(f"/v1/{kind}", tags=["segment"], name=kind)(single(kind))

    @app.get("/api/status", tags=["admin"])
    def status(_key: Admin) -> dict[str, Any]:
        """Counts of leads, accounts, events, MQLs and rejected input, the last event time, the active
        definition, and the real-time scorer's backlog."""
        scoring = {"pending": scorer.pending, "scored": len(scorer.latencies), "errors": len(scorer.errors)}
        return {**store.status(), "scorer": scoring, "rescore": rescores.to_dict()}

    @app.get("/api/metrics", tags=["admin"])
    def metrics(_key: Admin, since: int = 0) -> dict[str, Any]:
        """The scorer: how many leads it scored, what is waiting, and seconds from an accepted batch to the
        decision committed (percentiles over the latencies after index ``since``)."""
        latencies = sorted(list(scorer.latencies)[since:])

        def pct(q: float) -> float | None:
            return latencies[min(len(latencies) - 1, int(q * len(latencies)))] if latencies else None

        return {
            "scored": len(scorer.latencies),
            "pending": scorer.pending,
            "errors": list(scorer.errors),
            "p50": pct(0.5),
            "p90": pct(0.9),
            "p99": pct(0.99),
            "max": latencies[-1] if latencies else None,
            "rescore": rescores.to_dict(),
        }

    @app.get("/api/leads/{lead_id}", tags=["admin"])
    def lead(lead_id: str, _key: Admin) -> dict[str, Any]:
        """A lead: stage, traits, account, current score with its explanation, and the latest prediction of
        each model with its top factors."""
        with store.session() as s:
            row = s.get(Lead, lead_id)
            if row is None:
                raise ApiError(404, "not_found", f"no lead {lead_id!r}")
            score = s.get(Score, lead_id) if row.merged_into is None else None  # scored through its survivor
            return {
                "lead_id": row.id,
                "email": row.email,
                "account_id": row.account_id,
                "stage": row.stage,
                "traits": row.traits,
                "merged_into": row.merged_into,
                "score": None if score is None else score.explanation,
                "predictions": latest_for_lead(s, row.id),
            }

    @app.get("/api/rejected", tags=["admin"])
    def rejected(
        _key: Admin, limit: int = 100, source: str | None = None, pending: bool = False
    ) -> list[dict[str, Any]]:
        """Rejected input, newest first (``source``: segment, api, import:leads, ...; ``pending``: not
        replayed yet), each with its reasons (file, row and field for imports) and payload."""
        return list_rejected(store, limit=limit, source=source, pending=pending)

    @app.post("/api/rejected/{rejected_id}/replay", tags=["admin"])
    def replay_rejected(rejected_id: int, key: Admin, corrected: dict[str, Any] | None = None) -> dict[str, Any]:
        """Ingest rejected input again, or the corrected version in the body, if it is now valid."""
        try:
            return replay(store, rejected_id, corrected, actor=f"key:{key.prefix}", scorer=scorer)
        except NotFound as exc:
            raise ApiError(404, "not_found", str(exc)) from None
        except StillInvalid as exc:
            raise ApiError(400, "still_invalid", "the input still has problems", exc.problems) from None

    @app.post("/api/definitions", tags=["admin"])
    def push(body: DefinitionIn, key: Admin) -> dict[str, Any]:
        """Store a definition version (validated first; 400 with every problem).  Pushing a NAME@VERSION
        again with the same source returns the stored version (``created``: false); with other source it is a
        409: bump the version.  Activating re-scores everyone (``rescored``, ``new_mqls``)."""
        actor = f"key:{key.prefix}"
        try:
            row, created = store.push_version(body.source, author=body.author or actor)
        except VersionConflict as exc:
            raise ApiError(409, "version_conflict", str(exc)) from None
        result: dict[str, Any] = {
            "id": row.id,
            "name": row.name,
            "version": row.version,
            "active": body.activate,
            "created": created,
        }
        if body.activate:
            _, outcome = store.activate_and_rescore(row.id, actor=actor)
            result["rescored"] = 0 if outcome is None else len(outcome.scores)
            result["new_mqls"] = [] if outcome is None else outcome.new_mqls
        return result

    @app.post("/api/rescore", tags=["admin"])
    def rescore(key: Admin) -> dict[str, Any]:
        outcome = store.score(None, actor=f"key:{key.prefix}")
        if outcome is None:
            raise ApiError(409, "no_active_definition", "activate a definition first")
        return {"leads": len(outcome.scores), "new_mqls": outcome.new_mqls}

    return app


def _shape_error(body: Body, expected: str) -> ApiError | None:
    if expected == "batch" and not (isinstance(body.value, dict) and isinstance(body.value.get("batch"), list)):
        return ApiError(400, "invalid_batch", "expected an object with a 'batch' list of messages")
    if expected == "message" and not isinstance(body.value, dict):
        return ApiError(400, "invalid_message", "expected a JSON object")
    return None


def _with_batch_context(messages: list[Any], context: Any) -> list[Any]:
    """A batch's ``context`` merged into each message's (the message's own keys win), as Segment does."""
    if not isinstance(context, dict) or not context:
        return messages
    return [
        {**m, "context": {**context, **m["context"]} if isinstance(m.get("context"), dict) else context}
        if isinstance(m, dict) and (m.get("context") is None or isinstance(m.get("context"), dict))
        else m
        for m in messages
    ]


def app_from_env() -> FastAPI:
    """For ``uvicorn leadgate.service.app:app_from_env --factory``."""
    every = os.environ.get("LEADGATE_RESCORE_SECONDS", "300")
    return create_app(Store(), rescore_every=float(every) if every else None)
