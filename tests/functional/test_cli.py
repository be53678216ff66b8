"""Functional tests: the real `leadgate` CLI on a tiny project (generated data + example definitions)."""

from __future__ import annotations

import csv
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import EXAMPLES

AS_OF = "2026-11-01T00:00:00Z"


def leadgate(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "leadgate.cli", *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=300
    )


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    result = leadgate("generate", "--out", out, "--leads", "300", "--seed", "3")
    assert result.returncode == 0, result.stderr
    return out


def score_args(demo: Path, definition: str = "classic.yaml") -> list[str | Path]:
    return [
        "score", EXAMPLES / definition, "--leads", demo / "leads.csv", "--events", demo / "events.csv",
        "--accounts", demo / "accounts.csv", "--as-of", AS_OF,
    ]  # fmt: skip


def test_validate_every_example() -> None:
    for path in sorted(EXAMPLES.glob("*.yaml")):
        result = leadgate("validate", path)
        assert result.returncode == 0, f"{path}: {result.stdout}{result.stderr}"
        assert "ok" in result.stdout


def test_validate_reports_position_and_exit_code_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("schema: 1\nname: bad\nversion: 1\nqualify:\n  threshold: 10\n  treshold: 20\n")
    result = leadgate("validate", bad)
    assert result.returncode == 2
    assert f"{bad}:6:3" in result.stderr
    assert "treshold" in result.stderr
    assert "Traceback" not in result.stderr


def test_score_prints_summary_and_writes_scores(demo: Path, tmp_path: Path) -> None:
    out = tmp_path / "scores.jsonl"
    result = leadgate(*score_args(demo), "--out", out)
    assert result.returncode == 0, result.stderr
    assert "MQL rate" in result.stdout
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 300
    assert {"lead_id", "fit", "engagement", "total", "qualified", "contributions"} <= set(rows[0])


@pytest.mark.parametrize("engine", ["sqlite", "duckdb"])
def test_score_json_summary_is_the_same_on_embedded_engines(demo: Path, engine: str) -> None:
    result = leadgate(*score_args(demo), "--engine", engine, "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["leads"] == 300
    assert summary["engine"] == engine
    baseline = json.loads(leadgate(*score_args(demo), "--json").stdout)
    assert {k: v for k, v in summary.items() if k != "engine"} == {k: v for k, v in baseline.items() if k != "engine"}


def test_explain_breaks_down_a_lead(demo: Path) -> None:
    with (demo / "leads.csv").open() as f:
        lead_id = next(csv.DictReader(f))["lead_id"]
    args = score_args(demo)
    result = leadgate("explain", args[1], "--lead", lead_id, *args[2:], "--json")
    assert result.returncode == 0, result.stderr
    breakdown = json.loads(result.stdout)
    parts = sum(c["points"] for c in breakdown["contributions"].values())
    assert abs(parts - breakdown["total"]) < 1e-9
    missing = leadgate("explain", args[1], "--lead", "no-such-lead", *args[2:])
    assert missing.returncode == 2
    assert "no-such-lead" in missing.stderr


@pytest.mark.parametrize("dialect", ["sqlite", "duckdb", "postgres", "spark", "snowflake", "bigquery"])
def test_compile_prints_sql_for_each_dialect(dialect: str) -> None:
    result = leadgate("compile", EXAMPLES / "classic.yaml", "--dialect", dialect, "--as-of", AS_OF)
    assert result.returncode == 0, result.stderr
    assert result.stdout.lstrip().upper().startswith("WITH")


def test_malformed_rows_are_reported_not_dropped(demo: Path, tmp_path: Path) -> None:
    events = tmp_path / "events.csv"
    with (demo / "events.csv").open() as f:
        rows = list(csv.DictReader(f))
    rows[0]["ts"] = "not-a-time"
    with events.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    rejects = tmp_path / "rejects.jsonl"
    args = score_args(demo)
    args[args.index(demo / "events.csv")] = events
    result = leadgate(*args, "--rejects", rejects)
    assert result.returncode == 0, result.stderr
    assert "1 input row(s) rejected" in result.stderr
    assert "row 2" in result.stderr and "ts" in result.stderr
    assert len(rejects.read_text().splitlines()) == 1


PREDICTIVE_PATH = """
    - name: predicted_sql
      when: {all: [{predicted: sql_model, gte: 0.6}, {score: fit, gte: 0}]}
"""


def _abm_with_model(tmp_path: Path) -> Path:
    """The B2B SaaS example (with its account section) plus a path on a model's predictions."""
    text = (EXAMPLES / "b2b_saas.yaml").read_text().replace("  paths:\n", "  paths:" + PREDICTIVE_PATH, 1)
    path = tmp_path / "abm.yaml"
    path.write_text(text)
    return path


def test_score_and_explain_read_predictions_and_show_the_account(demo: Path, tmp_path: Path) -> None:
    definition = _abm_with_model(tmp_path)
    with (demo / "leads.csv").open() as f:
        lead = next(r for r in csv.DictReader(f) if r["account_id"])
    predictions = tmp_path / "predictions.csv"
    predictions.write_text(
        "lead_id,model,probability,scored_at\n"
        f"{lead['lead_id']},sql_model,0.8,2026-10-20T00:00:00Z\n"
        f"{lead['lead_id']},sql_model,0.1,2026-11-02T00:00:00Z\n"  # after the as-of time: not read
        f"{lead['lead_id']},sql_model,2,2026-10-20T00:00:00Z\n"
    )
    args = score_args(demo)[2:]
    out = tmp_path / "scores.csv"
    result = leadgate("score", definition, *args, "--predictions", predictions, "--out", out, "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["by_path"]["predicted_sql"] >= 1
    with out.open() as f:
        row = next(r for r in csv.DictReader(f) if r["lead_id"] == lead["lead_id"])
    assert row["account_id"] == lead["account_id"] and row["predicted:sql_model"] == "0.8"
    assert "predicted_sql" in row["qualified_by"]
    shown = leadgate("explain", definition, "--lead", lead["lead_id"], *args, "--predictions", predictions)
    assert shown.returncode == 0, shown.stderr
    assert f"account {lead['account_id']}: engagement" in shown.stdout and "from its leads:" in shown.stdout
    assert "predicted sql_model: 0.8" in shown.stdout
    assert "row 4: probability: expected a number from 0 to 1, found 2" in shown.stderr
    breakdown = json.loads(leadgate("explain", definition, "--lead", lead["lead_id"], *args, "--json").stdout)
    assert breakdown["predicted"] == {"sql_model": None} and breakdown["account"]["account_id"] == lead["account_id"]
    assert abs(sum(c["points"] for c in breakdown["contributions"].values()) - breakdown["total"]) < 1e-9
    plain = leadgate("score", definition, *args)
    assert "no --predictions file was given" in plain.stderr


def test_compile_names_the_predictions_table(tmp_path: Path) -> None:
    result = leadgate("compile", _abm_with_model(tmp_path), "--predictions-table", "ml.scores", "--as-of", AS_OF)
    assert result.returncode == 0, result.stderr
    assert 'FROM "ml"."scores" AS p' in result.stdout


def test_schema_command_writes_json_schema(tmp_path: Path) -> None:
    out = tmp_path / "schema.json"
    assert leadgate("schema", "--out", out).returncode == 0
    assert "properties" in json.loads(out.read_text())


def test_every_command_is_documented() -> None:
    from leadgate.cli import main

    readme = (Path(__file__).parents[2] / "README.md").read_text()
    for name in main.commands:
        assert f"leadgate {name}" in readme, f"README does not document `leadgate {name}`"


# -- Segment events, and what a run reports besides the scores ------------------------------------------
NEGATIVE = "negative_factors.yaml"


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open() as f:
        return list(csv.DictReader(f))


def _filled(row: dict[str, str], *skip: str) -> dict[str, str]:
    return {k: v for k, v in row.items() if v != "" and k not in skip}


def _segment_file(demo: Path, path: Path, *, repeat_first_event: bool = False) -> Path:
    """The demo data as Segment messages: identify and group per lead, page or track per event."""
    accounts = {a["account_id"]: _filled(a, "account_id") for a in _rows(demo / "accounts.csv")}
    messages: list[dict[str, object]] = []
    for lead in _rows(demo / "leads.csv"):
        traits = _filled(lead, "lead_id", "account_id")
        messages.append({"type": "identify", "userId": lead["lead_id"], "traits": traits})
        if lead["account_id"]:
            group = {"type": "group", "userId": lead["lead_id"], "groupId": lead["account_id"]}
            messages.append({**group, "traits": accounts[lead["account_id"]]})
    for event in _rows(demo / "events.csv"):
        props = _filled(event, "lead_id", "event", "ts", "message_id")
        common = {"userId": event["lead_id"], "timestamp": event["ts"], "messageId": event["message_id"]}
        if event["event"] == "page_view":
            messages.append({"type": "page", **common, "properties": props})
        else:
            messages.append({"type": "track", "event": event["event"], **common, "properties": props})
        if repeat_first_event:
            messages.append(messages[-1])  # a retried delivery: the same messageId again
            repeat_first_event = False
    path.write_text("".join(json.dumps(m) + "\n" for m in messages))
    return path


def _scores(result: subprocess.CompletedProcess[str], out: Path) -> dict[str, dict[str, object]]:
    assert result.returncode == 0, result.stderr
    return {row["lead_id"]: row for row in map(json.loads, out.read_text().splitlines())}


def _same(a: dict[str, object], b: dict[str, object]) -> None:
    assert a.keys() == b.keys()
    for key, value in a.items():
        if isinstance(value, float):
            assert value == pytest.approx(b[key], abs=1e-9), key
        elif key == "contributions":
            assert isinstance(value, dict) and isinstance(b[key], dict)
            assert value.keys() == b[key].keys()  # type: ignore[union-attr]
            for rule, c in value.items():
                other = b[key][rule]  # type: ignore[index]
                assert c["count"] == other["count"] and c["points"] == pytest.approx(other["points"], abs=1e-9)
        else:
            assert value == b[key], key


@pytest.mark.parametrize("with_leads", [False, True], ids=["segment-only", "segment-with-leads-file"])
def test_score_reads_segment_events_like_the_same_data_as_csv(demo: Path, tmp_path: Path, with_leads: bool) -> None:
    segment = _segment_file(demo, tmp_path / "segment.jsonl", repeat_first_event=True)
    files = ["--leads", demo / "leads.csv", "--accounts", demo / "accounts.csv"] if with_leads else []
    seg_args = [*files, "--events", segment, "--events-format", "segment", "--as-of", AS_OF]
    out = tmp_path / "segment.jsonl.out.jsonl"
    result = leadgate("score", EXAMPLES / NEGATIVE, *seg_args, "--out", out)
    from_segment = _scores(result, out)
    assert "rejected" not in result.stderr
    assert "1 Segment message(s) repeat the messageId" in result.stderr
    csv_out = tmp_path / "csv.jsonl"
    from_csv = _scores(leadgate(*score_args(demo, NEGATIVE), "--out", csv_out), csv_out)
    assert from_segment.keys() == from_csv.keys() and len(from_csv) == 300
    for lead_id, row in from_csv.items():
        _same(from_segment[lead_id], row)
    assert sum(bool(r["qualified"]) for r in from_csv.values()) > 0
    shown = sorted(from_csv)[:2] + [i for i, r in sorted(from_csv.items()) if r["qualified"]][:2]
    shown += [i for i, r in sorted(from_csv.items()) if r["disqualify_reasons"]][:1]
    lead_args = [a for i in shown for a in ("--lead", i)]
    explained = leadgate("explain", EXAMPLES / NEGATIVE, *lead_args, *seg_args, "--json")
    assert explained.returncode == 0, explained.stderr
    for line in explained.stdout.splitlines():
        breakdown = json.loads(line)
        row = dict(from_segment[breakdown["lead_id"]])
        assert (row.pop("definition"), row.pop("definition_version")) == ("negative_factors", "1")
        _same(breakdown, row)


def test_score_summary_counts_are_those_of_the_written_scores(demo: Path, tmp_path: Path) -> None:
    out = tmp_path / "scores.jsonl"
    result = leadgate(*score_args(demo, NEGATIVE), "--out", out)
    rows = list(_scores(result, out).values())
    mqls = [r for r in rows if r["qualified"]]
    summary = json.loads(leadgate(*score_args(demo, NEGATIVE), "--json").stdout)
    assert (summary["leads"], summary["mqls"]) == (len(rows), len(mqls))
    assert summary["mql_rate"] == pytest.approx(len(mqls) / len(rows))

    def tally(key: str, among: list[dict[str, object]]) -> dict[str, int]:
        counts: dict[str, int] = {}
        for r in among:
            for item in r[key]:  # type: ignore[attr-defined]
                counts[item] = counts.get(item, 0) + 1
        return counts

    assert summary["by_type"] == tally("mql_types", mqls)
    assert summary["by_path"] == tally("qualified_by", mqls)
    assert summary["by_disqualify_reason"] == tally("disqualify_reasons", rows) != {}
    assert summary["by_failed_requirement"] == tally("failed_requirements", rows) != {}
    assert summary["by_matrix"] == dict(sorted(tally_matrix(rows).items()))
    assert sum(b["leads"] for b in summary["histogram"]) == len(rows)
    totals = sorted(float(r["total"]) for r in rows)  # type: ignore[arg-type]
    lo, hi = totals[0], totals[-1]
    width = (hi - lo) / len(summary["histogram"])
    for i, bucket in enumerate(summary["histogram"]):
        last = i == len(summary["histogram"]) - 1
        inside = [t for t in totals if lo + i * width <= t and (t < lo + (i + 1) * width or last)]
        assert bucket["leads"] == len(inside), bucket
    text = result.stdout  # the printed summary says the same numbers
    assert f"leads {len(rows):,}   MQLs {len(mqls):,}   MQL rate {len(mqls) / len(rows):.1%}" in text
    for name, n in [*summary["by_type"].items(), *summary["by_disqualify_reason"].items()]:
        assert re.search(rf"^\s*{name}\s+{n:,}\s*$", text, re.M), name
    for bucket in summary["histogram"]:
        assert re.search(rf"^\s*{re.escape(bucket['range'])}\s+{bucket['leads']:,}\s*$", text, re.M), bucket


def tally_matrix(rows: list[dict[str, object]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for r in rows:
        counts[str(r["matrix"])] = counts.get(str(r["matrix"]), 0) + 1
    return counts


def test_events_of_unknown_leads_are_reported(demo: Path, tmp_path: Path) -> None:
    events = tmp_path / "events.csv"
    text = (demo / "events.csv").read_text()
    ghosts = '"ghost-2","page_view","2026-10-20T00:00:00Z",,"/pricing",,,,,,\n' * 2  # counted by pricing_3x
    ghosts += '"ghost-1","demo_request","2026-10-01T00:00:00Z",,,,,,,,\n'  # counted by no rule, found with them
    events.write_text(text + ghosts)
    args = score_args(demo)
    args[args.index(demo / "events.csv")] = events
    result = leadgate(*args)
    assert result.returncode == 0, result.stderr
    assert "3 event(s) name a lead_id that is not among the leads" in result.stderr
    assert "'ghost-1', 'ghost-2'" in result.stderr
    summary = json.loads(leadgate(*args, "--json").stdout)
    assert (summary["events_without_lead"], summary["unknown_lead_ids"]) == (3, ["ghost-1", "ghost-2"])
    clean = json.loads(leadgate(*score_args(demo), "--json").stdout)
    assert (clean["events_without_lead"], clean["unknown_lead_ids"]) == (0, [])
    skipped = leadgate(*args, "--json", "--skip-event-check")
    assert json.loads(skipped.stdout)["events_without_lead"] == 0 and "name a lead_id" not in skipped.stderr
