"""The real-time scorer: ingestion hands it the leads an accepted batch touched; a background thread drains
them in small batches and scores them through the store (one compiled query for many leads), so a request
returns as soon as its events are stored and a decision follows milliseconds later.

Every lead handed over is scored at least once after its events were committed: ids queued while a batch
is being scored wait for the next one.  Under a definition with account roll-ups the store scores (and
records) the accounts' other leads with them, so ``new_mqls`` can name a colleague of the lead whose event
made the account qualify.  ``latencies`` keeps, per scored lead, the seconds from hand-over
to the score being committed (what the live benchmark reports).

``Scorer`` runs in a thread of the server's process; ``scorer_process.ProcessScorer`` (what ``leadgate serve``
runs) does the same in a process of its own.  ``LeadScorer`` is what both offer.  ``PeriodicRescore``
re-scores everyone as of now at an interval, inside ``leadgate serve``.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import deque
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, Protocol

from leadgate.store.store import Store

log = logging.getLogger("leadgate.service")


class LeadScorer(Protocol):
    """What ingestion hands leads to, and what the service reads of it."""

    latencies: deque[float]
    new_mqls: deque[str]
    errors: deque[str]

    def start(self) -> LeadScorer: ...

    def submit(self, lead_ids: Iterable[str]) -> None: ...

    @property
    def pending(self) -> int: ...

    def wait_idle(self, timeout: float = 10) -> bool: ...

    def stop(self, timeout: float = 10) -> None: ...


class Scorer:
    def __init__(self, store: Store, *, max_batch: int = 2000, keep_latencies: int = 100_000):
        self.store = store
        self.max_batch = max_batch
        self.latencies: deque[float] = deque(maxlen=keep_latencies)
        self.new_mqls: deque[str] = deque(maxlen=keep_latencies)
        self.errors: deque[str] = deque(maxlen=100)
        self._pending: dict[str, float] = {}
        self._cond = threading.Condition()
        self._busy = False
        self._stop = False
        self._thread = threading.Thread(target=self._run, name="leadgate-scorer", daemon=True)

    def start(self) -> Scorer:
        self._thread.start()
        return self

    def stop(self, timeout: float = 10) -> None:
        with self._cond:
            self._stop = True
            self._cond.notify_all()
        self._thread.join(timeout)

    def submit(self, lead_ids: Iterable[str]) -> None:
        now = time.perf_counter()
        with self._cond:
            for lead_id in lead_ids:
                self._pending.setdefault(lead_id, now)
            self._cond.notify_all()

    @property
    def pending(self) -> int:
        with self._cond:
            return len(self._pending) + (1 if self._busy else 0)

    def wait_idle(self, timeout: float = 10) -> bool:
        """Block until everything handed over has been scored (tests, benchmarks, shutdown)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._pending or self._busy:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
        return True

    def _run(self) -> None:
        try:  # warm up: parse and compile the active definition, load Arrow's lazy imports, before any event
            self.store.score([])
        except Exception as exc:
            self.errors.append(f"warm-up: {type(exc).__name__}: {exc}")
        while True:
            with self._cond:
                while not self._pending and not self._stop:
                    self._cond.wait()
                if self._stop and not self._pending:
                    return
                ids = list(self._pending)[: self.max_batch]
                started = {i: self._pending.pop(i) for i in ids}
                self._busy = True
            try:
                outcome = self.store.score(ids)
                done = time.perf_counter()
                self.latencies.extend(done - t for t in started.values())
                if outcome is not None:
                    self.new_mqls.extend(outcome.new_mqls)
            except Exception as exc:  # keep serving; the leads are retried with their next event or rescore
                self.errors.append(f"{type(exc).__name__}: {exc}")
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()


class PeriodicRescore:
    """Everyone re-scored as of now every ``every`` seconds (decay and closing windows move scores too), run
    by ``leadgate serve``.  A failed run is logged with its traceback, counted, and retried on the next
    tick; ``to_dict`` is what ``/api/status`` and ``/api/metrics`` show."""

    def __init__(self, store: Store, every: float | None):
        self.store = store
        self.every = every
        self.runs = 0
        self.failures = 0
        self.last_run_at: str | None = None
        self.last_error: str | None = None

    async def loop(self) -> None:
        while self.every:
            await asyncio.sleep(self.every)
            await asyncio.to_thread(self.run_once)

    def run_once(self) -> None:
        try:
            self.store.score(None)
        except Exception as exc:
            self.failures += 1
            self.last_error = f"{type(exc).__name__}: {exc}"
            log.exception("periodic re-scoring failed (retried in %s s)", self.every)
        else:
            self.runs += 1
        self.last_run_at = datetime.now(UTC).isoformat(timespec="seconds")

    def to_dict(self) -> dict[str, Any]:
        return {
            "every_seconds": self.every,
            "runs": self.runs,
            "failures": self.failures,
            "last_run_at": self.last_run_at,
            "last_error": self.last_error,
        }
