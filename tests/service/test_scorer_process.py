"""The scorer in a process of its own: decisions equal to the thread scorer's, idle only when everything
handed over is scored, the child's commits wake this process's delivery worker and timer, and a child that
dies is started again."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from leadgate.service.ingest import ingest
from leadgate.service.scorer_process import ProcessScorer
from leadgate.store import signals, subscriptions
from leadgate.store.models import Lead, Score
from leadgate.store.store import Store
from tests.service.conftest import ready_store


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    st = ready_store(store_url)
    yield st
    st.engine.dispose()


def qualifying(user: str) -> list[dict[str, object]]:
    """Messages that take ``user`` to 110 points under examples/classic.yaml."""
    identify = {"type": "identify", "userId": user, "traits": {"title": "VP Sales"}, "messageId": f"{user}-i"}
    tracks = [
        {"type": "track", "userId": user, "event": name, "messageId": f"{user}-{name}"}
        for name in ("demo_requested", "trial_started", "webinar_attended", "newsletter_subscribed")
    ]
    pages = [
        {"type": "page", "userId": user, "properties": {"path": "/pricing"}, "messageId": f"{user}-p{i}"}
        for i in range(3)
    ]
    case = {"type": "track", "userId": user, "event": "content_downloaded", "messageId": f"{user}-cs",
            "properties": {"asset_type": "case_study"}}  # fmt: skip
    return [identify, *tracks, *pages, case]


def test_scores_in_another_process_and_reports_back(store: Store) -> None:
    scorer = ProcessScorer(store.url).start()
    try:
        result = ingest(store, qualifying("u1"), scorer=scorer)
        assert result.accepted == len(qualifying("u1"))
        assert scorer.wait_idle(30) and scorer.pending == 0
        assert list(scorer.new_mqls) == ["u1"] and not scorer.errors
        assert scorer.latencies and all(0 <= x < 30 for x in scorer.latencies)
        pid = scorer._proc.pid
        assert pid != os.getpid()
    finally:
        scorer.stop()
    assert not scorer._proc.is_alive()
    with store.reader() as s:
        score = s.get(Score, "u1")
        assert score is not None and score.qualified and score.total == store.score(["u1"]).scores[0].total
        assert s.scalars(select(Lead.stage).where(Lead.id == "u1")).one() == "mql"


def test_idle_waits_for_everything_handed_over(store: Store) -> None:
    scorer = ProcessScorer(store.url, max_batch=1).start()  # one lead a pass: several passes to be idle
    try:
        for user in ("a", "b", "c"):
            ingest(store, qualifying(user), scorer=scorer, score=False)
        scorer.submit(["a", "b", "c"])
        assert scorer.pending >= 1
        assert scorer.wait_idle(30)
        assert scorer.pending == 0 and sorted(scorer.new_mqls) == ["a", "b", "c"]
    finally:
        scorer.stop()


def test_the_childs_commits_wake_this_process(store: Store) -> None:
    subscriptions.add(store, name="crm", url="http://127.0.0.1:9/", event_types=["mql.created"], actor="tests")
    woken: list[str] = []

    def heard() -> None:
        woken.append(signals.OUTBOX)

    signals.on_commit(signals.OUTBOX, heard)
    scorer = ProcessScorer(store.url).start()
    try:
        ingest(store, qualifying("u1"), scorer=scorer)
        assert scorer.wait_idle(30) and list(scorer.new_mqls) == ["u1"]
        deadline = time.monotonic() + 5
        while not woken and time.monotonic() < deadline:
            time.sleep(0.01)
        assert woken  # the outbox row was written by the child; the worker here learns of it at once
    finally:
        signals.remove(signals.OUTBOX, heard)
        scorer.stop()


def test_a_child_that_dies_is_started_again(store: Store) -> None:
    scorer = ProcessScorer(store.url).start()
    try:
        assert scorer.wait_idle(30)
        first = scorer._proc
        os.kill(first.pid, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while scorer.restarts == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert scorer.restarts == 1 and any("ended unexpectedly" in e for e in scorer.errors)
        assert scorer._proc is not first and scorer._proc.is_alive()
        ingest(store, qualifying("u2"), scorer=scorer)
        assert scorer.wait_idle(30) and "u2" in scorer.new_mqls
    finally:
        scorer.stop()
