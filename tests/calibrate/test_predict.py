"""Predictive scores: a trained model is a JSON document that scores leads the same way every time, with
probabilities that rank converters first and factors that add up."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from leadgate.calibrate import features as feat
from leadgate.calibrate.pipeline import Settings
from leadgate.calibrate.predict import Model, Predictions, score, train, write_predictions
from leadgate.errors import CalibrationError
from tests.calibrate.conftest import END, World

DAY = 86_400.0


@pytest.fixture(scope="module")
def model(world: World) -> Model:
    return train("sql_90d", world.data, world.outcomes(), Settings(horizon=90 * DAY), world.current)


@pytest.fixture(scope="module")
def predictions(world: World, model: Model) -> Predictions:
    return score(model, world.data, END - 90 * DAY)


def test_training_measures_on_held_out_leads(model: Model) -> None:
    held = model.metrics["held_out"]
    assert held["roc_auc"] >= 0.75 and held["positives"] > 20
    assert 0 < held["brier"] < 0.1 and held["mean_probability"] == pytest.approx(
        held["positives"] / held["leads"], rel=0.5
    )
    assert model.outcome == "sql" and model.horizon == 90 * DAY
    assert model.features and all(f.weight != 0 for f in model.features)
    assert len(model.version) == 12 and model.version == model.digest()


def test_the_json_document_round_trips(model: Model, tmp_path: Path) -> None:
    path = tmp_path / "model.json"
    path.write_text(model.to_json())
    again = Model.read(path)
    assert again == model and again.digest() == model.version
    assert json.loads(path.read_text())["format"] == "leadgate.model/1"
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "something/2"}')
    with pytest.raises(CalibrationError, match="not a leadgate model"):
        Model.read(bad)


def test_probabilities_are_the_model_and_factors_add_up(world: World, model: Model, predictions: Predictions) -> None:
    table = predictions.table
    assert table.column_names == ["lead_id", "model", "probability", "scored_at", "factors", "model_version"]
    ids = table.column("lead_id").to_pylist()
    probability = np.array(table.column("probability").to_pylist())
    assert np.all((probability > 0) & (probability < 1))
    data = feat.typed(world.data, feat.infer_kinds(world.data))
    X, _ = feat.candidate_features(model.candidates(), model.carried(), data, END - 90 * DAY, ids)
    parts = X * np.array([f.weight for f in model.features])
    logit = model.intercept + parts.sum(axis=1)
    assert np.allclose(probability, 1 / (1 + np.exp(-logit)))
    for row, factors in zip(parts[:300], table.column("factors").to_pylist()[:300], strict=True):
        listed = json.loads(factors)
        assert len(listed) == min(5, int((row != 0).sum()))
        sizes = [abs(f["weight"]) for f in listed]
        assert sizes == sorted(sizes, reverse=True)
        if listed:
            assert sizes[-1] >= np.sort(np.abs(row))[::-1][len(listed) - 1] - 1e-4
    assert set(table.column("model_version").to_pylist()) == {model.version}


def test_predictions_rank_the_leads_that_convert(world: World, predictions: Predictions) -> None:
    outcomes = world.outcomes()
    became = dict(zip(outcomes.lead_ids, outcomes.happened, strict=True))
    at = dict(zip(outcomes.lead_ids, outcomes.at if outcomes.at is not None else [], strict=True))
    t = predictions.scored_at
    ids = predictions.table.column("lead_id").to_pylist()
    p = np.array(predictions.table.column("probability").to_pylist())
    alive = np.array([not (became.get(i) and at[i] <= t) for i in ids])
    y = np.array([bool(became.get(i)) and t < at[i] <= t + 90 * DAY for i in ids])
    from sklearn.metrics import roc_auc_score

    assert roc_auc_score(y[alive], p[alive]) >= 0.8  # in sample: the model was trained on these leads


@pytest.mark.parametrize("suffix", ["csv", "jsonl", "parquet"])
def test_predictions_are_written_in_the_contract(predictions: Predictions, tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"predictions.{suffix}"
    write_predictions(predictions, path)
    if suffix == "csv":
        table = pacsv.read_csv(path)
        first = table.to_pylist()[0]
        assert json.loads(first["factors"]) == json.loads(predictions.table.column("factors")[0].as_py())
    elif suffix == "jsonl":
        first = json.loads(path.read_text().splitlines()[0])
        assert isinstance(first["factors"], list)
    else:
        first = pq.read_table(path).to_pylist()[0]
    assert {"lead_id", "model", "probability", "scored_at"} <= set(first)
    assert first["model"] == "sql_90d"
    scored = first["scored_at"]
    assert str(scored).startswith("2026-08-03")
