"""The real-time scorer in a process of its own: ``leadgate serve``'s default.

Python runs one thread at a time per process, so a scorer thread beside the HTTP handlers takes turns with
ingestion on one core however many the machine has.  ``ProcessScorer`` keeps the ``Scorer`` interface
(``submit``, ``pending``, ``wait_idle``, ``latencies``, ``new_mqls``, ``errors``, ``stop``) but scores in a
child process with its own store connection: ingestion and scoring then run side by side.

The parent sends ``(seq, handed_over, lead_ids)`` down a pipe; the child gathers whatever has arrived, scores
it in batches through the same ``Store.score`` (so decisions are those of the thread scorer), and answers
after each pass with the last ``seq`` it had read before the pass, its backlog, the latencies (seconds from
hand-over to the score committed; both sides read the machine's monotonic clock), new MQLs, errors, and the
wake-up signals its commits raised (outbox, timers), which the parent passes on to its delivery worker and
timer.  Idle means every ``seq`` sent has been read and nothing is left to score.  A child that dies is
started again; the leads it held are re-scored by the next event or periodic re-scoring.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from multiprocessing.connection import Connection
from typing import Any

from leadgate.store import signals

log = logging.getLogger("leadgate.service")

STOP = "stop"


class ProcessScorer:
    def __init__(self, url: str, *, max_batch: int = 2000, keep_latencies: int = 100_000):
        self.url = url
        self.max_batch = max_batch
        self.latencies: deque[float] = deque(maxlen=keep_latencies)
        self.new_mqls: deque[str] = deque(maxlen=keep_latencies)
        self.errors: deque[str] = deque(maxlen=100)
        self.restarts = 0
        self._cond = threading.Condition()
        self._send_lock = threading.Lock()
        self._sent = 0  # last seq sent
        self._read = 0  # last seq the child had read before its latest pass
        self._unread: dict[int, int] = {}  # seq -> leads, not yet read by the child
        self._backlog = 0  # leads the child holds, not yet scored
        self._stopping = False
        self._ctx = multiprocessing.get_context("spawn")  # never fork a process that runs threads
        self._conn: Connection | None = None
        self._proc: Any = None
        self._reader: threading.Thread | None = None

    def start(self) -> ProcessScorer:
        self._spawn()
        return self

    def _spawn(self) -> None:
        parent, child = self._ctx.Pipe()
        self._proc = self._ctx.Process(
            target=child_main, args=(self.url, child, self.max_batch), name="leadgate-scorer", daemon=True
        )
        self._proc.start()
        child.close()
        self._conn = parent
        self._reader = threading.Thread(target=self._listen, args=(parent,), name="leadgate-scorer-pipe", daemon=True)
        self._reader.start()

    def submit(self, lead_ids: Iterable[str]) -> None:
        ids = list(lead_ids)
        if not ids:
            return
        with self._send_lock:
            with self._cond:
                self._sent += 1
                seq = self._sent
                self._unread[seq] = len(ids)
            assert self._conn is not None
            try:
                self._conn.send((seq, time.monotonic(), ids))
            except OSError as exc:  # the child is gone: the restart in _listen takes over
                self.errors.append(f"scorer process: {type(exc).__name__}: {exc}")

    @property
    def pending(self) -> int:
        with self._cond:
            return self._backlog + sum(self._unread.values())

    def wait_idle(self, timeout: float = 10) -> bool:
        """Block until everything handed over has been scored (tests, benchmarks, shutdown)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._read < self._sent or self._backlog:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
        return True

    def stop(self, timeout: float = 10) -> None:
        """Let the child finish what it holds, then end it."""
        with self._send_lock:
            self._stopping = True
            if self._conn is not None:
                with contextlib.suppress(OSError):
                    self._conn.send(STOP)
        if self._proc is not None:
            self._proc.join(timeout)
            if self._proc.is_alive():
                self._proc.terminate()
                self._proc.join(1)
        if self._reader is not None:
            self._reader.join(1)

    def _listen(self, conn: Connection) -> None:
        while True:
            try:
                status = conn.recv()
            except (EOFError, OSError):
                break
            self._take(status)
        conn.close()
        if self._stopping:
            return
        code = self._proc.exitcode if self._proc is not None else None
        self.errors.append(f"scorer process ended unexpectedly (exit code {code}); started again")
        log.error("the scorer process ended unexpectedly (exit code %s); starting it again", code)
        with self._cond:  # what it held is lost to it: the next event or periodic re-scoring covers those leads
            self._read, self._backlog = self._sent, 0
            self._unread.clear()
            self._cond.notify_all()
        self.restarts += 1
        with self._send_lock:
            if not self._stopping:
                self._spawn()

    def _take(self, status: dict[str, Any]) -> None:
        self.latencies.extend(status["latencies"])
        self.new_mqls.extend(status["new_mqls"])
        self.errors.extend(status["errors"])
        with self._cond:
            self._read = max(self._read, status["read"])
            for seq in [s for s in self._unread if s <= self._read]:
                del self._unread[seq]
            self._backlog = status["backlog"]
            self._cond.notify_all()
        for topic in status["signals"]:
            signals.fire(topic)


def child_main(url: str, conn: Connection, max_batch: int) -> None:
    """The scorer process: read hand-overs, score them in batches, answer after each pass."""
    from leadgate.store.store import Store  # imported in the child only

    store = Store(url)
    raised: set[str] = set()

    def hearing(topic: str) -> Callable[[], None]:
        return lambda: raised.add(topic)

    for topic in (signals.OUTBOX, signals.TIMERS):
        signals.on_commit(topic, hearing(topic))
    errors: list[str] = []
    try:  # warm up: parse and compile the active definition before any event
        store.score([])
    except Exception as exc:
        errors.append(f"warm-up: {type(exc).__name__}: {exc}")
    pending: dict[str, float] = {}
    read, stopping = 0, False

    def take(message: Any) -> None:
        nonlocal read, stopping
        if message == STOP:
            stopping = True
            return
        seq, handed_over, ids = message
        read = max(read, seq)
        for lead_id in ids:
            pending.setdefault(lead_id, handed_over)

    while True:
        if not pending and not stopping:
            try:
                take(conn.recv())
            except EOFError:  # the parent is gone
                return
        while conn.poll():
            take(conn.recv())
        if stopping and not pending:
            conn.send({"read": read, "backlog": 0, "latencies": [], "new_mqls": [], "errors": errors, "signals": []})
            return
        read_before = read
        ids = list(pending)[:max_batch]
        started = {i: pending.pop(i) for i in ids}
        latencies: list[float] = []
        new_mqls: list[str] = []
        try:
            outcome = store.score(ids)
            done = time.monotonic()
            latencies = [done - t for t in started.values()]
            if outcome is not None:
                new_mqls = list(outcome.new_mqls)
        except Exception as exc:  # keep serving; the leads are retried with their next event or rescore
            errors.append(f"{type(exc).__name__}: {exc}")
        conn.send(
            {
                "read": read_before,
                "backlog": len(pending),
                "latencies": latencies,
                "new_mqls": new_mqls,
                "errors": errors,
                "signals": sorted(raised),
            }
        )
        errors = []
        raised.clear()
