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
import os
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from leadgate.errors import DefinitionError, LeadgateError, StoreBusy, VersionConflict
from leadgate.service import routes_reports, routes_rest, routes_sales, routes_webhooks
from leadgate.service.auth import Admin, ApiError, authorize, error_body, json_body
from leadgate.service.ingest import ingest, problems_of
from leadgate.service.replay import NotFound, StillInvalid, list_rejected, replay
from leadgate.service.routes_definitions import router as definitions_router
from leadgate.service.scorer import Scorer
from leadgate.service.timers import LifecycleTimer
from leadgate.service.webhooks import DeliveryWorker
from leadgate.store.models import Lead, Score
from leadgate.store.predictions import latest_for_lead
from leadgate.store.store import Store

SINGLE = ("track", "identify", "page", "screen", "group", "alias")


class DefinitionIn(BaseModel):
    """A definition version to push (YAML source), optionally activated at once."""

    source: str
    author: str | None = None
    activate: bool = False


def create_app(store: Store, *, rescore_every: float | None = None, background: bool = True) -> FastAPI:
    """The app over ``store``.  ``rescore_every`` seconds, everyone is re-scored as of now (decay and
    closing windows move scores too); None turns that off (``LEADGATE_RESCORE_SECONDS`` sets it for serve).
    ``background`` runs the webhook delivery worker and the SLA / auto-recycle timer beside the scorer."""

    scorer = Scorer(store)
    worker = DeliveryWorker(store) if background else None
    timer = LifecycleTimer(store) if background else None

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        scorer.start()
        for job in (worker, timer):
            if job is not None:
                job.start()
        task = asyncio.create_task(_rescore_loop(store, rescore_every)) if rescore_every else None
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
    app.state.webhooks, app.state.timer = worker, timer
    app.include_router(routes_rest.router)
    app.include_router(definitions_router)

    @app.exception_handler(ApiError)
    async def _api_error(_r: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(error_body(exc.code, exc.message, exc.details), status_code=exc.status)

    @app.exception_handler(HTTPException)
    async def _http_error(_r: Request, exc: HTTPException) -> JSONResponse:
        return JSONResponse(error_body("http_error", str(exc.detail)), status_code=exc.status_code)

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

    @app.post("/v1/batch", tags=["segment"])
    async def batch(request: Request) -> JSONResponse:
        body = await json_body(request)
        if not isinstance(body, dict) or not isinstance(body.get("batch"), list):
            raise ApiError(400, "invalid_batch", "expected an object with a 'batch' list of messages")
        key = await asyncio.to_thread(authorize, request, body, "write")
        result = await asyncio.to_thread(
            ingest, store, body["batch"], sent_at=body.get("sentAt"), actor=f"key:{key.prefix}", scorer=scorer
        )
        return JSONResponse(result.to_dict())

    def single(kind: str) -> Any:
        async def endpoint(request: Request) -> JSONResponse:
            body = await json_body(request)
            if not isinstance(body, dict):
                raise ApiError(400, "invalid_message", "expected a JSON object")
            key = await asyncio.to_thread(authorize, request, body, "write")
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
        return {**store.status(), "scorer": scoring}

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
        }

    @app.get("/api/leads/{lead_id}", tags=["admin"])
    def lead(lead_id: str, _key: Admin) -> dict[str, Any]:
        """A lead: stage, traits, account, current score with its explanation, and the latest prediction of
        each model with its top factors."""
        with store.session() as s:
            row = s.get(Lead, lead_id)
            if row is None:
                raise ApiError(404, "not_found", f"no lead {lead_id!r}")
            score = s.get(Score, lead_id)
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
        409: bump the version."""
        try:
            row, created = store.push_version(body.source, author=body.author or f"key:{key.prefix}")
        except VersionConflict as exc:
            raise ApiError(409, "version_conflict", str(exc)) from None
        if body.activate:
            store.activate(row.id, actor=f"key:{key.prefix}")
            store.score(None, actor=f"key:{key.prefix}")
        return {"id": row.id, "name": row.name, "version": row.version, "active": body.activate, "created": created}

    @app.post("/api/rescore", tags=["admin"])
    def rescore(key: Admin) -> dict[str, Any]:
        outcome = store.score(None, actor=f"key:{key.prefix}")
        if outcome is None:
            raise ApiError(409, "no_active_definition", "activate a definition first")
        return {"leads": len(outcome.scores), "new_mqls": outcome.new_mqls}

    return app


async def _rescore_loop(store: Store, every: float) -> None:
    while True:
        await asyncio.sleep(every)
        with contextlib.suppress(Exception):  # a failed periodic run is retried on the next tick
            await asyncio.to_thread(store.score, None)


def app_from_env() -> FastAPI:
    """For ``uvicorn leadgate.service.app:app_from_env --factory``."""
    every = os.environ.get("LEADGATE_RESCORE_SECONDS", "300")
    return create_app(Store(), rescore_every=float(every) if every else None)
