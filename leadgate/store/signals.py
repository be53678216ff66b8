"""In-process wake-ups after commit: a transaction that wrote outbox rows wakes the delivery worker, one that
made an assignment with an SLA wakes the timer, so both act at once rather than at their next poll."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import event
from sqlalchemy.orm import Session

OUTBOX = "outbox"
TIMERS = "timers"

_listeners: dict[str, list[Callable[[], None]]] = {}


def on_commit(topic: str, callback: Callable[[], None]) -> None:
    """Call ``callback`` after any transaction that raised ``topic`` commits."""
    _listeners.setdefault(topic, []).append(callback)


def remove(topic: str, callback: Callable[[], None]) -> None:
    if callback in _listeners.get(topic, []):
        _listeners[topic].remove(callback)


def fire(topic: str) -> None:
    """Call ``topic``'s callbacks now: a commit in another process raised it (``scorer_process.py``)."""
    for callback in list(_listeners.get(topic, [])):
        callback()


def raise_after_commit(s: Session, topic: str) -> None:
    s.info.setdefault("signals", set()).add(topic)


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    for topic in session.info.pop("signals", ()):
        fire(topic)


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop("signals", None)
