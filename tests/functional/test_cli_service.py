"""Functional: the real `leadgate keys`, `definitions push --activate` / `activate`, `rescore` and `serve`
commands against a temporary SQLite store (a subprocess each, as a person would run them)."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select, text

from leadgate.store.models import Lead, Score
from leadgate.store.store import Store
from tests.conftest import EXAMPLES

CLASSIC = (EXAMPLES / "classic.yaml").read_text()
FADING = """schema: 1
name: fading
version: 1
decay: {half_life: 2s}
engagement:
  - {id: demo, event: demo_requested, per: once, points: 100}
qualify: {threshold: 1000}
"""


def leadgate(url: str, *args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "leadgate.cli", *map(str, args), "--database", url],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'store.db'}"


def events_file(tmp_path: Path, lead_id: str, names: list[str]) -> Path:
    path = tmp_path / f"{lead_id}.jsonl"
    when = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
    rows = [{"message_id": f"{lead_id}-{i}", "lead_id": lead_id, "event": e, "ts": when} for i, e in enumerate(names)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def score_of(url: str, lead_id: str) -> Score:
    store = Store(url)
    try:
        with store.reader() as s:
            score = s.get(Score, lead_id)
            assert score is not None
            return score
    finally:
        store.engine.dispose()


def test_keys_are_created_listed_and_revoked_and_only_their_hash_is_kept(url: str) -> None:
    created = leadgate(url, "keys", "create", "--name", "website", "--scope", "write")
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip()
    assert re.fullmatch(r"lg_[0-9a-f]{12}_[\w-]+", key)
    prefix, secret = key.split("_")[1], key.split("_", 2)[2]
    assert leadgate(url, "keys", "create", "--name", "crm", "--scope", "admin").returncode == 0
    listed = leadgate(url, "keys", "list").stdout.splitlines()
    assert len(listed) == 2 and listed[0].split() == [prefix, "write", "active", "website"]
    store = Store(url)
    try:
        with store.engine.connect() as conn:
            rows = [tuple(map(str, row)) for row in conn.execute(text("SELECT * FROM api_keys"))]
            audit = [tuple(map(str, row)) for row in conn.execute(text("SELECT * FROM audit_log"))]
        assert not any(secret in value for row in rows + audit for value in row)  # never the secret itself
        assert store.verify_key(key) is not None
        revoked = leadgate(url, "keys", "revoke", prefix)
        assert revoked.returncode == 0 and revoked.stdout.strip() == f"revoked {prefix}"
        assert leadgate(url, "keys", "list").stdout.splitlines()[0].split()[2] == "revoked"
        store._keys.clear()  # the verification cache (5 s) of this process
        assert store.verify_key(key) is None
    finally:
        store.engine.dispose()
    missing = leadgate(url, "keys", "revoke", "000000000000")
    assert missing.returncode != 0 and "Traceback" not in missing.stderr


def test_activating_a_lower_threshold_makes_mqls_at_once(url: str, tmp_path: Path) -> None:
    classic = tmp_path / "classic.yaml"
    classic.write_text(CLASSIC)
    pushed = leadgate(url, "definitions", "push", classic, "--author", "ann", "--activate")
    assert pushed.returncode == 0 and "re-scored 0 leads" in pushed.stdout
    imported = leadgate(url, "import", "events", events_file(tmp_path, "u1", ["demo_requested", "trial_started"]))
    assert imported.returncode == 0, imported.stderr
    assert score_of(url, "u1").total == 55 and not score_of(url, "u1").qualified
    lower = tmp_path / "lower.yaml"
    lower.write_text(CLASSIC.replace("threshold: 100", "threshold: 50").replace("version: 1", "version: 2"))
    activated = leadgate(url, "definitions", "push", lower, "--author", "bob", "--activate")
    assert activated.returncode == 0 and "activated #2; re-scored 1 leads" in activated.stdout
    assert score_of(url, "u1").qualified and score_of(url, "u1").definition_version_id == 2
    back = leadgate(url, "definitions", "activate", "1", "--author", "ann")
    assert back.returncode == 0 and back.stdout.strip() == "activated #1; re-scored 1 leads"
    assert score_of(url, "u1").definition_version_id == 1 and not score_of(url, "u1").qualified
    store = Store(url)
    try:
        with store.reader() as s:
            assert s.scalars(select(Lead.stage)).one() == "mql"  # an MQL stays one (forward moves only)
    finally:
        store.engine.dispose()


def test_rescore_moves_scores_as_time_passes(url: str, tmp_path: Path) -> None:
    fading = tmp_path / "fading.yaml"
    fading.write_text(FADING)
    assert leadgate(url, "rescore").returncode != 0  # nothing active yet: a clean error
    assert leadgate(url, "definitions", "push", fading, "--author", "ann", "--activate").returncode == 0
    assert leadgate(url, "import", "events", events_file(tmp_path, "u2", ["demo_requested"])).returncode == 0
    fresh = score_of(url, "u2").total
    time.sleep(1.0)
    rescored = leadgate(url, "rescore")
    assert rescored.returncode == 0 and rescored.stdout.strip() == "re-scored 1 leads; 0 new MQLs"
    assert score_of(url, "u2").total < fresh


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def served(url: str, tmp_path: Path) -> Iterator[tuple[str, str]]:
    classic = tmp_path / "classic.yaml"
    classic.write_text(CLASSIC)
    assert leadgate(url, "definitions", "push", classic, "--author", "ann", "--activate").returncode == 0
    key = leadgate(url, "keys", "create", "--name", "site", "--scope", "write").stdout.strip()
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "leadgate.cli", "serve", "--port", str(port), "--database", url, "--rescore-every", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                assert process.poll() is None, process.stdout.read() if process.stdout else ""
                time.sleep(0.2)
        yield base, key
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_serve_answers_health_and_takes_a_batch(served: tuple[str, str], url: str) -> None:
    base, key = served
    assert httpx.get(f"{base}/health").json() == {"status": "ok"}
    assert httpx.get(f"{base}/openapi.json").status_code == 200
    batch = {"batch": [
        {"type": "identify", "userId": "u9", "traits": {"email": "nina@acme-corp.io"}, "messageId": "i1"},
        {"type": "track", "userId": "u9", "event": "demo_requested", "messageId": "t1"},
    ]}  # fmt: skip
    response = httpx.post(f"{base}/v1/batch", json=batch, auth=(key, ""))
    assert response.status_code == 200 and response.json()["accepted"] == 2
    assert httpx.post(f"{base}/v1/batch", json=batch).status_code == 401
    deadline = time.monotonic() + 20
    status = json.loads(leadgate(url, "status", "--json").stdout)
    while status["last_scored_at"] is None and time.monotonic() < deadline:  # the server's scorer, not ours
        time.sleep(0.2)
        status = json.loads(leadgate(url, "status", "--json").stdout)
    assert (status["leads"], status["events"], status["accounts"]) == (1, 1, 1)
    assert score_of(url, "u9").total == 25
