"""The examples in ``examples/`` are exercised by the demo data: every rule, hard rule and path of every
example fires on some lead of ``leadgate generate``'s seeded data, and every example is valid against the
published JSON Schema (what an editor checks it with)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

import leadgate
from leadgate.api import ScoreRun
from leadgate.definition.schema import SCHEMA_PATH
from leadgate.generate import generate
from tests.conftest import EXAMPLES

AS_OF = "2026-11-01T00:00:00Z"
ALL = sorted(p.name for p in EXAMPLES.glob("*.yaml"))


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    generate(out, leads=300, seed=3)
    return out


def score(example: str, demo: Path) -> ScoreRun:
    files = {name: demo / f"{name}.csv" for name in ("leads", "events", "accounts")}
    return leadgate.score(EXAMPLES / example, **files, as_of=AS_OF)


def test_every_example_is_here() -> None:
    assert {"classic.yaml", "b2b_saas.yaml", "ecommerce.yaml", "consulting_webinars.yaml"} < set(ALL)
    assert "negative_factors.yaml" in ALL


@pytest.mark.parametrize("example", ALL)
def test_every_rule_of_every_example_fires_on_the_demo_data(example: str, demo: Path) -> None:
    run = score(example, demo)
    defn, scores = run.definition, run.scores
    assert not run.rejected and run.events_without_lead == 0
    silent = [r.id for r in defn.fit if not any(s.contributions[r.id].count for s in scores)]
    silent += [r.id for r in defn.engagement if not any(s.contributions[r.id].count >= r.min_count for s in scores)]
    silent += [
        f"disqualify:{h.reason}" for h in defn.disqualify if not any(h.reason in s.disqualify_reasons for s in scores)
    ]
    silent += [
        f"require:{h.reason}" for h in defn.require if not any(h.reason in s.failed_requirements for s in scores)
    ]
    paths = [p.name for p in defn.qualify.paths] + (["score"] if defn.qualify.has_score_path else [])
    silent += [f"path:{p}" for p in paths if not any(p in s.qualified_by for s in scores)]
    assert silent == [], f"{example}: nothing in the demo data exercises {silent}"
    assert 0 < run.summary.mqls < len(scores)


def test_each_negative_factor_keeps_leads_out(demo: Path) -> None:
    """competitor, student, job_seeker (disqualifiers), wrong_geography and invalid_email (requirements) each
    hold for some lead of the demo data and keep it from qualifying (some of them past the threshold)."""
    run = score("negative_factors.yaml", demo)
    threshold = run.definition.qualify.threshold
    assert threshold is not None
    for reason in ("competitor", "student", "job_seeker"):
        hit = [s for s in run.scores if reason in s.disqualify_reasons]
        assert hit and not any(s.qualified for s in hit), reason
    for reason in ("wrong_geography", "invalid_email"):
        hit = [s for s in run.scores if reason in s.failed_requirements]
        assert hit and not any(s.qualified for s in hit), reason
    blocked = {r for s in run.scores if s.total >= threshold for r in [*s.disqualify_reasons, *s.failed_requirements]}
    assert {"job_seeker", "wrong_geography"} <= blocked


@pytest.mark.parametrize("example", ALL)
def test_every_example_is_valid_against_the_published_json_schema(example: str) -> None:
    jsonschema = pytest.importorskip("jsonschema", reason="jsonschema is not installed (pip install -e '.[dev]')")
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    document = json.loads(json.dumps(yaml.safe_load((EXAMPLES / example).read_text())))  # YAML keys 1, 2, 3 → "1"...
    errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(document), key=lambda e: list(e.path))
    assert not errors, [f"{'.'.join(map(str, e.path))}: {e.message}" for e in errors]


def test_the_json_schema_refuses_what_the_loader_refuses() -> None:
    jsonschema = pytest.importorskip("jsonschema", reason="jsonschema is not installed (pip install -e '.[dev]')")
    validator = jsonschema.Draft202012Validator(json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))
    good = {"schema": 1, "name": "t", "version": 1, "qualify": {"threshold": 10}}
    assert validator.is_valid(good)
    for bad in (
        {**good, "qualify": {"treshold": 10}},
        {**good, "engagement": [{"id": "a", "event": "x", "points": 1, "within": "7x"}]},
        {**good, "engagement": [{"id": "a", "event": "x", "points": 1, "within": 36526 * 86400}]},
        {**good, "fit": [{"id": "a", "when": {"trait": "n", "gt": "5"}, "points": 1}]},
    ):
        assert not validator.is_valid(bad), bad
