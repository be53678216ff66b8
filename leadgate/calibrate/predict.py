"""Predictive scores: each lead's probability of the outcome, with the factors that drove it.

``train`` fits the same L1 logistic model calibration does, on the same candidate signals (the feature
definitions are rules of the definition language, scored by their compiled SQL), but keeps the weights as
they are instead of rounding them into points.  It measures the model on a held-out split, then refits it on
every lead with the penalty chosen there.  The trained model is a JSON document (``Model``): the feature
rules, their weights and the intercept, the outcome and horizon it predicts, and its metrics.  Its version is
a digest of what it computes, so two identical trainings give the same version.

``score`` computes the features as of an instant and writes one prediction per lead in the contract the
``predicted`` condition reads (``lead_id, model, probability, scored_at``), plus ``factors`` (the top
contributions in log-odds, as ``[{"factor", "label", "weight"}]``) and ``model_version``.  The
probability means: the outcome happens within the model's horizon after ``scored_at``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score

from leadgate.calibrate import features as feat
from leadgate.calibrate.candidates import Candidate, Ids
from leadgate.calibrate.current import Current
from leadgate.calibrate.outcomes import Outcomes
from leadgate.calibrate.pipeline import Settings, learn, population, split
from leadgate.calibrate.report import iso
from leadgate.compiler import as_of_epoch
from leadgate.errors import CalibrationError
from leadgate.inputs.dataset import TS_TYPE, Dataset

FORMAT = "leadgate.model/1"
TOP_FACTORS = 5
#: An empty definition to start from when training without one: candidates are traits and events only.
EMPTY = "schema: 1\nname: no_definition\nversion: 0\nqualify: {threshold: 1}\n"


@dataclass
class Feature:
    id: str
    kind: str
    rule: dict[str, Any]
    label: str
    weight: float


@dataclass
class Model:
    """A trained predictive model, as stored (JSON file, or the store's ``trained_models`` table)."""

    name: str
    outcome: str
    horizon: float | None  # seconds
    trained_at: str
    as_of: str
    intercept: float
    features: list[Feature]
    lists: dict[str, list[Any]] = field(default_factory=dict)
    decay: dict[str, Any] | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    version: str = ""

    def digest(self) -> str:
        what = {"name": self.name, "outcome": self.outcome, "horizon": self.horizon, "intercept": self.intercept,
                "features": [asdict(f) for f in self.features], "lists": self.lists, "decay": self.decay}  # fmt: skip
        return hashlib.sha256(json.dumps(what, sort_keys=True, default=str).encode()).hexdigest()[:12]

    def to_dict(self) -> dict[str, Any]:
        return {"format": FORMAT, **asdict(self)}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=False) + "\n"

    @classmethod
    def from_dict(cls, doc: dict[str, Any], source: str = "<model>") -> Model:
        if not isinstance(doc, dict) or doc.get("format") != FORMAT:
            found = doc.get("format") if isinstance(doc, dict) else type(doc).__name__
            raise CalibrationError(f"{source}: not a leadgate model (format {found!r}; expected {FORMAT!r})")
        try:
            features = [Feature(**f) for f in doc["features"]]
            body = {k: v for k, v in doc.items() if k not in ("format", "features")}
            return cls(features=features, **body)
        except (KeyError, TypeError) as exc:
            raise CalibrationError(f"{source}: a model document with a missing or unknown field: {exc}") from None

    @classmethod
    def read(cls, path: Path) -> Model:
        try:
            doc = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise CalibrationError(f"{path}: cannot read the model: {exc}") from None
        return cls.from_dict(doc, str(path))

    def candidates(self) -> list[Candidate]:
        return [Candidate(f.id, f.kind, f.rule, f.label, "definition") for f in self.features]  # type: ignore[arg-type]

    def carried(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.lists:
            out["lists"] = self.lists
        if self.decay:
            out["decay"] = self.decay
        return out


def _metrics(y: np.ndarray, p: np.ndarray) -> dict[str, Any]:
    both = 0 < y.sum() < y.size
    return {
        "leads": int(y.size),
        "positives": int(y.sum()),
        "roc_auc": float(roc_auc_score(y, p)) if both else None,
        "log_loss": float(log_loss(y, p, labels=[0, 1])),
        "brier": float(brier_score_loss(y, p)),
        "mean_probability": float(p.mean()) if p.size else None,
    }


def train(name: str, data: Dataset, outcomes: Outcomes, settings: Settings, current: Current | None = None) -> Model:
    """Train and measure a model; ``current`` adds a definition's own rules to the candidates."""
    current = current or Current.parse(EMPTY, source="<no definition>")
    pop = population(current, data, outcomes, settings)
    train_rows, test_rows = split(pop, settings)
    carried: dict[str, Any] = {}
    if current.resolved_lists():
        carried["lists"] = current.resolved_lists()
    if current.raw.get("decay"):
        carried["decay"] = current.raw["decay"]
    learned = learn(current, pop, train_rows, settings, carried, Ids())
    y = pop.labels.y.astype(int)
    held_out = _metrics(y[test_rows], 1 / (1 + np.exp(-learned.fit.logit(learned.X[test_rows]))))
    everyone = np.arange(y.size)
    final = learn(current, pop, everyone, replace(settings, Cs=(learned.fit.C,)), carried, Ids())
    in_sample = _metrics(y, 1 / (1 + np.exp(-final.fit.logit(final.X))))
    features = [
        Feature(c.id, c.kind, c.rule, c.label, float(w))
        for c, w in zip(final.candidates, final.fit.weights, strict=True)
        if w != 0
    ]
    model = Model(
        name=name,
        outcome=outcomes.outcome,
        horizon=pop.labels.horizon,
        trained_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        as_of=iso(pop.labels.as_of),
        intercept=final.fit.intercept,
        features=features,
        lists=carried.get("lists", {}),
        decay=carried.get("decay"),
        metrics={
            "held_out": held_out,
            "training": in_sample,
            "C": learned.fit.C,
            "split": {"test_size": settings.test_size, "seed": settings.seed},
            "candidates": learned.considered,
            "notes": pop.notes,
        },
    )
    model.version = model.digest()
    return model


@dataclass
class Predictions:
    """One prediction per lead (``table``: lead_id, model, probability, scored_at, factors, model_version)."""

    table: pa.Table
    model: Model
    scored_at: float

    def rows(self) -> list[dict[str, Any]]:
        """As the store's ``record_predictions`` takes them."""
        when = datetime.fromtimestamp(self.scored_at, UTC)
        return [
            {"lead_id": r["lead_id"], "model": r["model"], "probability": r["probability"], "scored_at": when,
             "factors": json.loads(r["factors"]), "model_version": r["model_version"]}
            for r in self.table.to_pylist()
        ]  # fmt: skip


def score(model: Model, data: Dataset, as_of: datetime | float | str | None = None) -> Predictions:
    """Every lead that exists at ``as_of`` (default now): the model's probability and top factors."""
    t = as_of_epoch(as_of)
    candidates = model.candidates()
    kinds = feat.infer_kinds(data, feat.load(feat.candidate_document(candidates, model.carried())).field_types())
    typed = feat.typed(data, kinds)
    created = typed.leads.column("created_at") if "created_at" in typed.leads.column_names else None
    ids = [str(x) for x in typed.leads.column("lead_id").to_pylist()]
    if created is not None:
        micros = created.cast(pa.int64()).to_pylist()
        ids = [i for i, us in zip(ids, micros, strict=True) if us is None or us / 1e6 <= t]
    X, _ = feat.candidate_features(candidates, model.carried(), typed, t, ids)
    weights = np.array([f.weight for f in model.features])
    parts = X * weights
    logit = parts.sum(axis=1) + model.intercept
    probability = 1 / (1 + np.exp(-logit))
    factors = []
    for row in parts:
        order = [int(i) for i in np.argsort(-np.abs(row), kind="stable")[:TOP_FACTORS] if row[i] != 0]
        factors.append(json.dumps([
            {"factor": model.features[i].id, "label": model.features[i].label, "weight": round(float(row[i]), 4)}
            for i in order
        ]))  # fmt: skip
    micros = round(t * 1e6)
    n = len(ids)
    table = pa.table({
        "lead_id": pa.array(ids, pa.string()),
        "model": pa.array([model.name] * n, pa.string()),
        "probability": pa.array(np.clip(probability, 0.0, 1.0), pa.float64()),
        "scored_at": pa.array([micros] * n, pa.int64()).cast(TS_TYPE),
        "factors": pa.array(factors, pa.string()),
        "model_version": pa.array([model.version] * n, pa.string()),
    })  # fmt: skip
    return Predictions(table, model, t)


def write_predictions(predictions: Predictions, path: Path) -> None:
    """CSV, JSON Lines or Parquet by extension; times as ISO-8601 UTC in the text formats."""
    table = predictions.table
    name = path.name.lower()
    if name.endswith(".parquet"):
        pq.write_table(table, path)
        return
    when = iso(predictions.scored_at)
    text = table.set_column(table.schema.get_field_index("scored_at"), "scored_at", pa.array([when] * table.num_rows))
    if name.endswith(".csv"):
        pacsv.write_csv(text, path)
    elif name.endswith((".jsonl", ".ndjson")):
        with path.open("w", encoding="utf-8") as f:
            for row in text.to_pylist():
                row["factors"] = json.loads(row["factors"])
                f.write(json.dumps(row) + "\n")
    else:
        raise CalibrationError(f"{path}: unknown format; expected .csv, .jsonl or .parquet")
