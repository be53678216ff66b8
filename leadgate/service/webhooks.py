"""Webhook delivery: Standard Webhooks signatures and the worker that posts the outbox.

A delivery is a POST of the event's JSON body with ``webhook-id`` (the outbox event id: the same on every
retry and replay, so receivers can drop duplicates), ``webhook-timestamp`` (seconds, of this attempt) and
``webhook-signature`` (``v1,<base64 HMAC-SHA256 of "id.timestamp.body">`` keyed with the decoded secret).
A 2xx response is success; anything else (or no answer) is retried with exponential backoff.

The worker runs inside ``leadgate serve`` (a thread, woken when a transaction writes outbox rows) or once
from the CLI (``leadgate webhooks deliver --once``).  Several workers may run: deliveries are leased.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import threading
import time
import uuid
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import httpx

from leadgate.store import outbox, signals
from leadgate.store.clock import utcnow
from leadgate.store.store import Store

USER_AGENT = "leadgate-webhooks/0.1"


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header value for one message (Standard Webhooks, v1)."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    mac = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def body_of(job: outbox.Job) -> bytes:
    return json.dumps(job.payload, separators=(",", ":"), sort_keys=True, default=str).encode()


def headers_for(job: outbox.Job, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    ts = int(time.time()) if timestamp is None else timestamp
    return {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": job.event_id,
        "webhook-timestamp": str(ts),
        "webhook-signature": sign(job.secret, job.event_id, ts, body),
    }


class DeliveryWorker:
    """Posts due deliveries, a few at a time in parallel (never two of one lead's line at once)."""

    def __init__(
        self,
        store: Store,
        *,
        concurrency: int = 8,
        poll: float = 1.0,
        timeout: float = 10.0,
        base_delay: float | None = None,
        max_age: float | None = None,
    ):
        self.store = store
        self.poll = poll
        self.timeout = timeout
        self.base_delay = base_delay if base_delay is not None else float(os.environ.get("LEADGATE_WEBHOOK_BASE", 1))
        self.max_age = max_age if max_age is not None else float(os.environ.get("LEADGATE_WEBHOOK_MAX_AGE", 259200))
        self.name = f"worker-{uuid.uuid4().hex[:8]}"
        self.errors: deque[str] = deque(maxlen=100)
        self.delivered = 0
        self._pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="leadgate-webhook")
        self._client = httpx.Client(timeout=timeout, follow_redirects=False)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="leadgate-webhooks", daemon=True)

    # -- lifecycle -------------------------------------------------------------------------------------
    def start(self) -> DeliveryWorker:
        signals.on_commit(signals.OUTBOX, self.wake)
        self._thread.start()
        return self

    def stop(self, timeout: float = 10) -> None:
        signals.remove(signals.OUTBOX, self.wake)
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
        self.close()

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        self._client.close()

    def wake(self) -> None:
        self._wake.set()

    # -- work ------------------------------------------------------------------------------------------
    def _post(self, job: outbox.Job) -> tuple[outbox.Job, int | None, str | None, float, str | None]:
        body = body_of(job)
        started = time.perf_counter()
        try:
            response = self._client.post(job.url, content=body, headers=headers_for(job, body))
            elapsed = (time.perf_counter() - started) * 1000
            ok = 200 <= response.status_code < 300
            return job, response.status_code, None if ok else f"HTTP {response.status_code}", elapsed, response.text
        except httpx.HTTPError as exc:
            elapsed = (time.perf_counter() - started) * 1000
            return job, None, f"{type(exc).__name__}: {exc}", elapsed, None

    def run_once(self, limit: int = 200) -> int:
        """Attempt every delivery that is due and first in its line; returns how many were attempted."""
        with self.store.session() as s, s.begin():
            jobs = outbox.claim(s, worker=self.name, now=utcnow(), limit=limit, lease=self.timeout * 3)
        if not jobs:
            return 0
        results = list(self._pool.map(self._post, jobs))
        with self.store.session() as s, s.begin():
            for job, status, error, elapsed, response in results:
                state = outbox.record(
                    s,
                    job,
                    now=utcnow(),
                    status_code=status,
                    error=error,
                    duration_ms=elapsed,
                    response=response,
                    base_delay=self.base_delay,
                    max_age=self.max_age,
                )
                self.delivered += state == "delivered"
        return len(jobs)

    def drain(self, timeout: float = 30.0) -> int:
        """Deliver until nothing is due (ops, tests): total attempts made."""
        deadline = time.monotonic() + timeout
        total = 0
        while time.monotonic() < deadline:
            done = self.run_once()
            total += done
            if not done:
                break
        return total

    def _sleep_for(self) -> float:
        with self.store.session() as s:
            due = outbox.next_due(s)
        if due is None:
            return self.poll
        return max(0.0, min(self.poll, (due - utcnow()) / timedelta(seconds=1)))

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                if self.run_once():
                    continue
                wait = self._sleep_for()
            except Exception as exc:  # keep delivering; the failed batch's leases expire and it is retried
                self.errors.append(f"{type(exc).__name__}: {exc}")
                wait = self.poll
            self._wake.wait(wait)
            self._wake.clear()
