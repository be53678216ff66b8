"""Functional tests: `leadgate calibrate` and `leadgate predict` through the real CLI on generated files, and
predictions used by a definition's `predicted` condition, from a file and from the store."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.conftest import EXAMPLES

AS_OF = "2026-08-03T00:00:00Z"
PREDICTIVE = """\
schema: 1
name: predictive
version: 1
qualify:
  threshold: 1000000
  paths:
    - name: likely
      when: {predicted: sql_model, gte: 0.15}
"""


def leadgate(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "leadgate.cli", *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=600
    )


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("learn")
    result = leadgate("generate", "--out", out, "--leads", "4000", "--seed", "5")
    assert result.returncode == 0, result.stderr
    return out


def inputs(demo: Path) -> list[str | Path]:
    return ["--leads", demo / "leads.csv", "--events", demo / "events.csv", "--accounts", demo / "accounts.csv"]


def learning(demo: Path) -> list[str | Path]:
    return [*inputs(demo), "--outcomes", demo / "outcomes.csv", "--outcome", "sql", "--horizon", "90d"]


def test_calibrate_writes_a_valid_proposal_and_a_report(demo: Path, tmp_path: Path) -> None:
    proposal, report = tmp_path / "proposed.yaml", tmp_path / "report.md"
    result = leadgate(
        "calibrate", EXAMPLES / "classic.yaml", *learning(demo), "--capacity", "15/week",
        "--out", proposal, "--report", report,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "held-out leads" in result.stdout and "classic v1" in result.stdout
    assert f"proposed definition written to {proposal} (not active)" in result.stdout
    assert "~ qualify.threshold: 100 ->" in result.stdout
    text = proposal.read_text()
    assert text.startswith("# Proposed by `leadgate calibrate`") and "version: 2" in text
    assert leadgate("validate", proposal).returncode == 0
    scored = leadgate("score", proposal, *inputs(demo), "--as-of", AS_OF, "--json")
    assert scored.returncode == 0, scored.stderr
    assert json.loads(scored.stdout)["mqls"] > 0
    body = report.read_text()
    assert "| definition | ROC AUC | precision | recall | MQLs | MQLs per week |" in body
    assert "| classic v1 |" in body and "| proposed |" in body


def test_calibrate_json_carries_the_proposal(demo: Path) -> None:
    result = leadgate("calibrate", EXAMPLES / "classic.yaml", *learning(demo), "--target-precision", "0.2", "--json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["proposal"].startswith("# Proposed") and doc["report"]["proposed"]["auc"] > 0.6
    assert doc["report"]["reproduced"] is True and "precision" in doc["report"]["threshold_rule"]


def test_calibrate_errors_are_clean(demo: Path, tmp_path: Path) -> None:
    both = leadgate(
        "calibrate", EXAMPLES / "classic.yaml", *learning(demo), "--capacity", "10", "--target-precision", "0.3"
    )
    assert both.returncode == 2 and "give --capacity or --target-precision, not both" in both.stderr
    bad = tmp_path / "outcomes.csv"
    bad.write_text("lead_id,happened\nL0000001,true\n")
    missing = leadgate(
        "calibrate", EXAMPLES / "classic.yaml", *inputs(demo), "--outcomes", bad, "--outcome", "customer"
    )
    assert missing.returncode == 2
    assert "no column for the outcome 'customer'; expected one named won or customer" in missing.stderr
    capacity = leadgate("calibrate", EXAMPLES / "classic.yaml", *learning(demo), "--capacity", "lots")
    assert capacity.returncode == 2 and "is not a weekly capacity" in capacity.stderr
    for result in (both, missing, capacity):
        assert "Traceback" not in result.stderr


@pytest.fixture(scope="module")
def model(demo: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("model") / "model.json"
    result = leadgate("predict", "train", "--name", "sql_model", *learning(demo), "--as-of", AS_OF, "--out", path)
    assert result.returncode == 0, result.stderr
    assert "model sql_model" in result.stdout and "held-out ROC AUC" in result.stdout
    return path


def test_predictions_qualify_leads_through_a_predicted_condition(demo: Path, model: Path, tmp_path: Path) -> None:
    predictions = tmp_path / "predictions.csv"
    result = leadgate("predict", "score", "--model", model, *inputs(demo), "--as-of", AS_OF, "--out", predictions)
    assert result.returncode == 0, result.stderr
    with predictions.open() as f:
        rows = list(csv.DictReader(f))
    assert rows and set(rows[0]) == {"lead_id", "model", "probability", "scored_at", "factors", "model_version"}
    assert {r["scored_at"] for r in rows} == {AS_OF}
    likely = {r["lead_id"] for r in rows if float(r["probability"]) >= 0.15}
    assert 0 < len(likely) < len(rows)
    definition = tmp_path / "predictive.yaml"
    definition.write_text(PREDICTIVE)
    scores = tmp_path / "scores.jsonl"
    scored = leadgate(
        "score", definition, *inputs(demo), "--predictions", predictions, "--as-of", AS_OF, "--out", scores
    )
    assert scored.returncode == 0, scored.stderr
    lines = [json.loads(line) for line in scores.read_text().splitlines()]
    qualified = {x["lead_id"] for x in lines if x["qualified"]}
    assert qualified == likely
    assert all(x["qualified_by"] == ["likely"] for x in lines if x["qualified"])


def test_predictions_in_the_store_qualify_leads(demo: Path, model: Path, tmp_path: Path) -> None:
    from leadgate.store.store import Store

    url = f"sqlite:///{tmp_path / 'store.db'}"
    trained = leadgate("predict", "train", "--name", "sql_model", *learning(demo), "--as-of", AS_OF, "--database", url)
    assert trained.returncode == 0, trained.stderr
    assert "written to the store" in trained.stdout
    # The store knows a few leads (ingestion would have created them); predictions are scored for those.
    with (demo / "leads.csv").open() as f:
        reader = csv.reader(f)
        header, rows = next(reader), [next(reader) for _ in range(200)]
    subset = tmp_path / "leads.csv"
    with subset.open("w", newline="") as f:
        csv.writer(f).writerows([header, *rows])
    ids = [r[header.index("lead_id")] for r in rows]
    store = Store(url)
    store.upgrade()
    with store.session() as s, s.begin():
        for lead_id in ids:
            store.resolve(s, user_id=lead_id, at=datetime(2026, 5, 1))
    version = store.push_definition(PREDICTIVE, author="tests")
    store.activate(version.id, actor="tests")
    result = leadgate(
        "predict", "score", "--model", "sql_model", "--database", url, "--leads", subset,
        "--events", demo / "events.csv", "--accounts", demo / "accounts.csv", "--as-of", AS_OF,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    created = {r[header.index("lead_id")]: r[header.index("created_at")] for r in rows}
    existing = {i for i, at in created.items() if at <= AS_OF}  # leads created by then get a prediction
    assert f"{len(existing)} predictions recorded" in result.stderr
    outcome = store.score(None, as_of=datetime(2026, 8, 3, 0, 0, 1, tzinfo=UTC).replace(tzinfo=None))
    assert outcome is not None
    probability = {x.lead_id: x.predicted["sql_model"] for x in outcome.scores}
    assert set(probability) == set(ids)
    assert {i for i, p in probability.items() if p is not None} == existing
    likely = {i for i, p in probability.items() if p is not None and p >= 0.15}
    assert likely and {x.lead_id for x in outcome.scores if x.qualified} == likely
    store.engine.dispose()


def test_predict_needs_somewhere_to_write(demo: Path, model: Path) -> None:
    result = leadgate("predict", "score", "--model", model, *inputs(demo))
    assert result.returncode == 2 and "give --out FILE, --database URL" in result.stderr
    unknown = leadgate("predict", "score", "--model", "nothing_here", *inputs(demo), "--out", "x.csv")
    assert unknown.returncode == 2 and "no model file 'nothing_here'" in unknown.stderr


def test_every_command_and_option_is_documented() -> None:
    from leadgate.cli_learn import calibrate, predict

    docs = (EXAMPLES.parent / "docs" / "calibration.md").read_text()
    commands = [("leadgate calibrate", calibrate), *((f"leadgate predict {n}", c) for n, c in predict.commands.items())]
    for name, command in commands:
        assert f"`{name}" in docs, f"docs/calibration.md does not document {name}"
        for param in command.params:
            for option in getattr(param, "opts", []):
                if option.startswith("--") and option != "--help":
                    assert f"`{option}" in docs, f"docs/calibration.md does not document {name} {option}"
