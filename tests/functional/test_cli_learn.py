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
    few = leadgate("calibrate", EXAMPLES / "classic.yaml", *learning(demo)[:-2], "--horizon", "1d", "--capacity", "5")
    assert few.returncode == 2 and "too few converted leads to learn from: " in few.stderr
    assert "at least 20 are needed (about 27 converted leads in all)" in few.stderr
    no_outcomes = leadgate("calibrate", EXAMPLES / "classic.yaml", *inputs(demo), "--outcome", "sql")
    assert no_outcomes.returncode == 2 and "give --outcomes FILE with --leads" in no_outcomes.stderr
    for result in (both, missing, capacity, few, no_outcomes):
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


def test_calibrate_reads_predictions_and_notes_their_absence(demo: Path, model: Path, tmp_path: Path) -> None:
    predictions = tmp_path / "predictions.csv"
    scored = leadgate("predict", "score", "--model", model, *inputs(demo), "--as-of", AS_OF, "--out", predictions)
    assert scored.returncode == 0, scored.stderr
    definition = tmp_path / "predictive.yaml"
    definition.write_text(PREDICTIVE)
    args = [*learning(demo), "--as-of", AS_OF, "--capacity", "15/week", "--json"]
    without = leadgate("calibrate", definition, *args)
    assert without.returncode == 0, without.stderr
    assert "the definition reads model predictions (sql_model) but no --predictions file was given" in without.stderr
    assert json.loads(without.stdout)["report"]["current"]["mqls"] == 0  # 'predicted' is false for everyone
    given = leadgate("calibrate", definition, *args, "--predictions", predictions)
    assert given.returncode == 0, given.stderr
    assert "note" not in given.stderr
    assert json.loads(given.stdout)["report"]["current"]["mqls"] > 0  # the path 'likely' now qualifies leads


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


STORED = """\
schema: 1
name: sized
version: 1
fit:
  - id: big
    when: {trait: employees, gte: 200}
    points: 10
qualify:
  threshold: 10
"""
STORE_AS_OF = datetime(2026, 6, 1)


def learning_store(url: str, leads: int = 900) -> None:
    """Leads in a store whose tier decides how often sales accepted them in the 30 days after STORE_AS_OF
    (gold 50%, silver 15%, bronze 2%); employees is noise.  Some leads were SQLs before: they are left out."""
    import random
    from datetime import timedelta

    from leadgate.store.models import StageChange
    from leadgate.store.store import IncomingEvent, Store

    rng = random.Random(11)
    store = Store(url)
    store.upgrade()
    with store.session() as s, s.begin():
        events = []
        for i in range(leads):
            tier = rng.choice(["gold", "silver", "bronze"])
            lead = store.resolve(s, user_id=f"S{i:04d}", at=STORE_AS_OF - timedelta(days=rng.uniform(5, 120)))
            lead.traits = {"tier": tier, "employees": rng.randint(1, 500), "first_name": f"N{i}"}
            events.append(IncomingEvent(f"e{i}", lead.id, "page_view", STORE_AS_OF - timedelta(days=rng.uniform(0, 4))))
            p = {"gold": 0.5, "silver": 0.15, "bronze": 0.02}[tier]
            if rng.random() < p:
                at = STORE_AS_OF + timedelta(days=rng.uniform(-20, 28))
                s.add(StageChange(lead_id=lead.id, from_stage="new", to_stage="sql", at=at, reason="accept", actor="t"))
        store.record_events(s, events)
    store.engine.dispose()


def test_calibrate_reads_the_store_and_stored_versions(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    (tmp_path / "sized.yaml").write_text(STORED)
    pushed = leadgate("definitions", "push", tmp_path / "sized.yaml", "--author", "t", "--database", url)
    assert pushed.returncode == 0, pushed.stderr
    learning_store(url)
    proposal, report = tmp_path / "proposed.yaml", tmp_path / "report.json"
    result = leadgate(
        "calibrate", "sized@1", "--outcome", "sql", "--database", url, "--as-of", "2026-06-01T00:00:00Z",
        "--horizon", "30d", "--capacity", "20/week", "--out", proposal, "--report", report,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert f"history: store {url}; outcomes: the store" in result.stdout
    assert f"leadgate definitions push {proposal} --author NAME" in result.stdout
    data = json.loads(report.read_text())
    assert data["converted_before"] > 0 and data["population"] + data["converted_before"] == 900
    assert data["positives"] > 60 and data["proposed"]["auc"] > 0.7
    text = proposal.read_text()
    assert "from sized v1 (#1 sized@1)" in text and "{trait: tier, equals: gold}" in text and "first_name" not in text
    assert leadgate("validate", proposal).returncode == 0
    listed = json.loads(leadgate("definitions", "list", "--database", url, "--json").stdout)
    assert [(v["id"], v["active"]) for v in listed] == [(1, False)]  # nothing pushed, nothing activated
    converted = leadgate("calibrate", "sized@1", "--outcome", "converted", "--database", url)
    assert converted.returncode == 2 and "the store records the outcomes sql and customer" in converted.stderr
    nowhere = leadgate("calibrate", tmp_path / "sized.yaml", "--outcome", "sql", "--database",
                       f"sqlite:///{tmp_path / 'none.db'}")  # fmt: skip
    assert nowhere.returncode == 2 and "no store at" in nowhere.stderr and not (tmp_path / "none.db").exists()


def test_predict_trains_and_scores_from_the_store_and_shows_the_factors(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    learning_store(url)
    trained = leadgate("predict", "train", "--name", "tier_model", "--outcome", "sql", "--database", url,
                       "--as-of", "2026-06-01T00:00:00Z", "--horizon", "30d")  # fmt: skip
    assert trained.returncode == 0, trained.stderr
    assert "model tier_model" in trained.stdout and "written to the store" in trained.stdout
    scored = leadgate("predict", "score", "--model", "tier_model", "--database", url, "--as-of", "2026-06-01T00:00:00Z")
    assert scored.returncode == 0, scored.stderr
    assert "900 predictions recorded" in scored.stderr
    shown = json.loads(leadgate("predict", "show", "S0001", "--database", url, "--json").stdout)
    (prediction,) = shown["predictions"]
    assert prediction["model"] == "tier_model" and prediction["scored_at"] == "2026-06-01T00:00:00Z"
    assert 0 < prediction["probability"] < 1 and prediction["factors"]
    assert {"factor", "label", "weight"} <= set(prediction["factors"][0])
    text = leadgate("predict", "show", "S0001", "--database", url)
    assert text.returncode == 0, text.stderr
    assert f"tier_model {prediction['model_version']}: {prediction['probability']:.3f}" in text.stdout
    top = prediction["factors"][0]
    assert f"{top['weight']:+.3f}  {top['label']} ({top['factor']})" in text.stdout
    unknown = leadgate("predict", "show", "nobody", "--database", url)
    assert unknown.returncode == 2 and "no lead 'nobody'" in unknown.stderr
