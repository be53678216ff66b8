"""Benchmark: what account roll-ups and model predictions cost on the DuckDB batch path.

    python bench/bench_features.py [--leads 1000000] [--repeats 2]

Scores the generated data (the same cached Parquet files as bench_scoring.py, seed 11) as of 2026-11-01 with
four variants of ``examples/b2b_saas.yaml``, all in one process, interleaved, best of ``--repeats``:

  base        the example without its ``account:`` section and ABM path (the language before these features)
  account     the example as shipped: account engagement rolled up over every lead, the ABM path
  predicted   base plus a path on a model's probability, reading a predictions file (two per lead)
  both        the example plus the predicted path

Wall and CPU time (the process's, all threads) are both kept; ratios are of CPU time against ``base``, which a
busy shared machine disturbs far less than wall time.  Results go to bench/results/features.{md,json}.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
EXAMPLE = ROOT / "examples" / "b2b_saas.yaml"
AS_OF = datetime(2026, 11, 1, tzinfo=UTC)
PREDICTED_PATH = {
    "name": "likely",
    "when": {"all": [{"predicted": "sql_model", "gte": 0.9}, {"score": "fit", "gte": 20}]},
}

sys.path.insert(0, str(HERE))
from bench_scoring import count_rows, ensure_data  # noqa: E402


def variants() -> dict[str, object]:
    import leadgate
    from leadgate.definition.model import Definition

    shipped = leadgate.load_definition(EXAMPLE).model_dump(by_alias=True, exclude_none=True)

    def build(account: bool, predicted: bool) -> Definition:
        d = json.loads(json.dumps(shipped))
        paths = d["qualify"]["paths"]
        if not account:
            d.pop("account")
            paths[:] = [p for p in paths if p["name"] != "abm_buying_group"]
        if predicted:
            paths.append(PREDICTED_PATH)
        d.pop("lists", None)  # already resolved into the conditions
        return Definition.model_validate(d)

    return {
        "base": build(False, False),
        "account": build(True, False),
        "predicted": build(False, True),
        "both": build(True, True),
    }


def ensure_predictions(data: Path) -> Path:
    """Two predictions of ``sql_model`` per lead (an older and a newer one), deterministic."""
    target = data / "predictions.parquet"
    if target.exists():
        return target
    import duckdb

    con = duckdb.connect()
    leads = str(data / "leads.parquet")
    con.execute(f"""COPY (
        SELECT lead_id, 'sql_model' AS model, (hash(lead_id || '#' || k) % 1000) / 1000.0 AS probability,
               TIMESTAMP '2026-10-01' + INTERVAL (k * 14) DAY AS scored_at
        FROM read_parquet('{leads}'), range(2) AS r(k)
    ) TO '{target}' (FORMAT parquet)""")
    return target


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--data-dir", type=Path, default=HERE / "data")
    args = parser.parse_args()

    import leadgate

    data = ensure_data(args.data_dir, args.leads)
    predictions = ensure_predictions(data)
    files = {name: data / f"{name}.parquet" for name in ("leads", "events", "accounts")}
    sizes = {name: count_rows(path) for name, path in {**files, "predictions": predictions}.items()}
    print(f"data: {sizes}", flush=True)
    defs = variants()
    best: dict[str, float] = {}
    cpu: dict[str, float] = {}
    mqls: dict[str, int] = {}
    for _ in range(args.repeats):
        for name, defn in defs.items():
            t0, c0 = time.perf_counter(), time.process_time()
            run = leadgate.score(defn, **files, predictions=predictions, as_of=AS_OF, engine="duckdb")
            seconds, cpu_seconds = time.perf_counter() - t0, time.process_time() - c0
            best[name] = min(seconds, best.get(name, seconds))
            cpu[name] = min(cpu_seconds, cpu.get(name, cpu_seconds))
            mqls[name] = len(run.mql_ids())
            assert not run.rejected, run.rejected[:3]
            print(f"  {name:10s} {seconds:7.2f}s wall {cpu_seconds:7.2f}s CPU  MQLs {mqls[name]:,}", flush=True)
    report = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "load_average": os.getloadavg()[0],
        "sizes": sizes,
        "results": [
            {
                "variant": n,
                "seconds": best[n],
                "cpu_seconds": cpu[n],
                "ratio_vs_base": cpu[n] / cpu["base"],
                "mqls": mqls[n],
            }
            for n in defs
        ],
    }
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    (out / "features.json").write_text(json.dumps(report, indent=2) + "\n")
    (out / "features.md").write_text(render(report))
    print((out / "features.md").read_text())


def render(report: dict) -> str:  # type: ignore[type-arg]
    sizes = report["sizes"]
    lines = [
        "# Account roll-ups and predictions on the DuckDB batch path",
        "",
        f"Run {report['when']} on {report['machine']} (1-minute load average {report['load_average']:.1f} at the",
        "end) by `python bench/bench_features.py`: `examples/b2b_saas.yaml` in four variants, one process, best of",
        "interleaved runs; reading the Parquet files in place, compiling, scoring, full per-lead breakdown.",
        "CPU time is the process's over all threads; the ratio is of CPU time, which load on the machine",
        "disturbs far less than wall time.",
        f"Data: {sizes['leads']:,} leads, {sizes['events']:,} events, {sizes['accounts']:,} accounts,",
        f"{sizes['predictions']:,} predictions.",
        "",
        "| variant | wall s | CPU s | × base (CPU) | MQLs |",
        "|---|---:|---:|---:|---:|",
    ]
    for r in report["results"]:
        times = f"{r['seconds']:.2f} | {r['cpu_seconds']:.2f} | {r['ratio_vs_base']:.2f}"
        lines.append(f"| {r['variant']} | {times} | {r['mqls']:,} |")
    lines += [
        "",
        "`base` is the example without its account section and ABM path; `account` adds the roll-up (one",
        "grouped pass over the scored leads, joined back on the account); `predicted` adds a path on a model's",
        "probability (the latest prediction per lead as of T: one ranking pass over the predictions file).",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
