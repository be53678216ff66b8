"""The lifecycle timer: SLA breaches and auto-recycling happen when they are due, not at the next event.

A thread inside ``leadgate serve`` sleeps until the earliest due instant (an SLA deadline, an MQL reaching
``recycle_unaccepted_after``), at most ``poll`` seconds so new assignments are seen, then breaches and
recycles in one transaction and emits ``sla.breached`` / ``lead.stage_changed``.  ``leadgate timers run
--once`` does one pass from the CLI.
"""

from __future__ import annotations

import threading
from collections import deque
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from leadgate.store import lifecycle, signals
from leadgate.store.clock import utcnow
from leadgate.store.models import DefinitionVersion
from leadgate.store.store import Store


def run_once(store: Store, now: datetime | None = None) -> dict[str, Any]:
    """Breach every SLA that is due and recycle every MQL left unaccepted too long, as of ``now``."""
    when = now or utcnow()
    with store.session() as s, s.begin():
        version = s.scalar(select(DefinitionVersion.id).where(DefinitionVersion.active))
        breached = lifecycle.breach_due(s, when)
        recycled = lifecycle.recycle_due(s, when, definition_version_id=version)
    return {"breached": breached, "recycled": recycled}


class LifecycleTimer:
    def __init__(self, store: Store, *, poll: float = 5.0):
        self.store = store
        self.poll = poll
        self.errors: deque[str] = deque(maxlen=100)
        self.breached = 0
        self.recycled = 0
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._run, name="leadgate-timer", daemon=True)

    def start(self) -> LifecycleTimer:
        signals.on_commit(signals.TIMERS, self.wake)
        self._thread.start()
        return self

    def wake(self) -> None:
        """A new deadline may be earlier than the one being waited for: look again."""
        self._wake.set()

    def stop(self, timeout: float = 10) -> None:
        signals.remove(signals.TIMERS, self.wake)
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _wait(self) -> float:
        with self.store.session() as s:
            due = lifecycle.next_due(s)
        if due is None:
            return self.poll
        return max(0.0, min(self.poll, (due - utcnow()) / timedelta(seconds=1)))

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                done = run_once(self.store)
                self.breached += len(done["breached"])
                self.recycled += len(done["recycled"])
                wait = self._wait()
            except Exception as exc:  # keep running; the next pass retries
                self.errors.append(f"{type(exc).__name__}: {exc}")
                wait = self.poll
            self._wake.wait(wait + 0.001)
            self._wake.clear()
