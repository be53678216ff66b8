"""Benchmark: score the classic table over 1M leads and 10M events.

    python bench/bench_scoring.py [--leads 1000000] [--skip-spark]

Variants, each in its own subprocess (so peak RSS is its own):
  (a) leadgate on DuckDB: read Parquet with validation, compile, run        leadgate-duckdb
      the same without the check for events of no lead                      leadgate-duckdb-nocheck
  (b) a hand-written DuckDB query over the same Parquet files (the baseline) duckdb-hand
  (c) pandas, two ways (bench/classic_baselines.py): vectorized masks       pandas
      and the scoring table applied per lead                                pandas-per-lead
  (d) leadgate on SQLite over the leads owning the first ~1M events         leadgate-sqlite (vs (b) on the same subset)
  (e) leadgate on Spark local[2] at 10M events                              leadgate-spark
All variants must produce the same MQL set.  Results go to bench/results/scoring.{md,json}.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DEFINITION = ROOT / "examples" / "classic.yaml"
AS_OF = datetime(2026, 11, 1, tzinfo=UTC)
START = datetime(2026, 5, 1, tzinfo=UTC)

sys.path.insert(0, str(HERE))
from classic_baselines import hand_sql, pandas_mqls, pandas_per_lead_mqls  # noqa: E402


def digest(ids: list[str]) -> str:
    return hashlib.sha256("\n".join(sorted(ids)).encode()).hexdigest()[:16]


def peak_rss_mib() -> float:
    """This process's peak resident set (VmHWM).  Not ru_maxrss: Linux carries that across fork and exec,
    so a child would report its parent's peak."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# -- variants (run inside a child process) ------------------------------------------------------------
def run_variant(variant: str, data: Path) -> dict[str, object]:
    files = {name: data / f"{name}.parquet" for name in ("leads", "events", "accounts")}
    import leadgate

    defn = leadgate.load_definition(DEFINITION)
    t0 = time.perf_counter()
    if variant.startswith("leadgate-"):
        engine = variant.removeprefix("leadgate-").removesuffix("-nocheck")
        run = leadgate.score(
            defn,
            leads=files["leads"],
            events=files["events"],
            accounts=files["accounts"],
            as_of=AS_OF,
            engine=engine,
            check_events=not variant.endswith("-nocheck"),
        )
        ids = run.mql_ids()
        rejected = len(run.rejected)
    elif variant == "duckdb-hand":
        import duckdb

        con = duckdb.connect()
        ids = [r[0] for r in con.execute(hand_sql(files, AS_OF)).fetchall()]
        rejected = 0
    elif variant == "pandas":
        ids = pandas_mqls(files, AS_OF)
        rejected = 0
    elif variant == "pandas-per-lead":
        ids = pandas_per_lead_mqls(files, AS_OF)
        rejected = 0
    else:
        raise SystemExit(f"unknown variant {variant}")
    seconds = time.perf_counter() - t0
    return {
        "variant": variant,
        "seconds": seconds,
        "mqls": len(ids),
        "mql_digest": digest(ids),
        "peak_rss_mib": peak_rss_mib(),
        "rejected": rejected,
    }


# -- driver -------------------------------------------------------------------------------------------
def ensure_data(directory: Path, leads: int) -> Path:
    target = directory / f"classic-{leads}"
    if (target / "events.parquet").exists():
        return target
    from leadgate.generate import generate

    print(f"generating {leads:,} leads into {target} ...", flush=True)
    t0 = time.perf_counter()
    generate(target, leads=leads, seed=11, start=START, end=AS_OF, fmt="parquet")
    print(f"  generated in {time.perf_counter() - t0:.1f}s", flush=True)
    return target


def subset(data: Path, max_events: int) -> Path:
    """The leads owning the first ``max_events`` events (by lead order), with all their events."""
    import duckdb

    target = data.parent / f"{data.name}-sub{max_events}"
    if (target / "events.parquet").exists():
        return target
    target.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    ev, le, ac = (str(data / f"{n}.parquet") for n in ("events", "leads", "accounts"))
    con.execute(f"""CREATE TABLE keep AS
        SELECT lead_id FROM (SELECT lead_id, SUM(COUNT(*)) OVER (ORDER BY lead_id) AS running
                             FROM read_parquet('{ev}') GROUP BY lead_id) WHERE running <= {max_events}""")
    con.execute(
        f"COPY (SELECT * FROM read_parquet('{le}') WHERE lead_id IN (SELECT lead_id FROM keep)) "
        f"TO '{target / 'leads.parquet'}' (FORMAT parquet)"
    )
    con.execute(
        f"COPY (SELECT * FROM read_parquet('{ev}') WHERE lead_id IN (SELECT lead_id FROM keep)) "
        f"TO '{target / 'events.parquet'}' (FORMAT parquet)"
    )
    con.execute(f"COPY (SELECT * FROM read_parquet('{ac}')) TO '{target / 'accounts.parquet'}' (FORMAT parquet)")
    return target


def child(variant: str, data: Path) -> dict[str, object]:
    """The variant in a fresh process; best of two fresh processes when the first took under 10 s."""
    first = one_child(variant, data)
    if float(first["seconds"]) >= 10:  # type: ignore[arg-type]
        return first
    second = one_child(variant, data)
    return min(first, second, key=lambda r: float(r["seconds"]))  # type: ignore[arg-type]


def one_child(variant: str, data: Path) -> dict[str, object]:
    proc = subprocess.run(
        [sys.executable, __file__, "--child", variant, "--data", str(data)], capture_output=True, text=True
    )
    if proc.returncode != 0:
        raise SystemExit(f"{variant} failed:\n{proc.stderr[-4000:]}")
    result: dict[str, object] = json.loads(proc.stdout.strip().splitlines()[-1])
    print(
        f"  {variant:16s} {result['seconds']:8.2f}s  MQLs {result['mqls']:>7}  "
        f"peak RSS {result['peak_rss_mib']:7.0f} MiB",
        flush=True,
    )
    return result


def count_rows(path: Path) -> int:
    import pyarrow.parquet as pq

    return int(pq.ParquetFile(path).metadata.num_rows)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--sqlite-events", type=int, default=1_000_000)
    parser.add_argument("--data-dir", type=Path, default=HERE / "data")
    parser.add_argument("--skip-spark", action="store_true")
    parser.add_argument("--render-only", action="store_true", help="re-render results/scoring.md from the JSON")
    parser.add_argument(
        "--reuse",
        default="",
        help="comma-separated variants whose committed results (results/scoring.json) are kept, not run again "
        "(pandas-per-lead takes about 20 minutes); the page says which and when they were measured",
    )
    parser.add_argument("--child")
    parser.add_argument("--data", type=Path)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_variant(args.child, args.data)))
        return
    if args.render_only:
        report = json.loads((HERE / "results" / "scoring.json").read_text())
        (HERE / "results" / "scoring.md").write_text(render(report))
        return

    data = ensure_data(args.data_dir, args.leads)
    sizes = {"leads": count_rows(data / "leads.parquet"), "events": count_rows(data / "events.parquet")}
    print(f"full data: {sizes['leads']:,} leads, {sizes['events']:,} events", flush=True)
    reuse = {v for v in args.reuse.split(",") if v}
    kept: dict[str, dict[str, object]] = {}
    if reuse:
        before = json.loads((HERE / "results" / "scoring.json").read_text())
        for r in before["full"]["results"]:
            if r["variant"] in reuse:
                kept[r["variant"]] = {**r, "reused_from": r.get("reused_from", before["when"])}
    variants = ["duckdb-hand", "leadgate-duckdb", "leadgate-duckdb-nocheck", "pandas", "pandas-per-lead"]
    if not args.skip_spark:
        variants.append("leadgate-spark")
    full = [kept[v] if v in kept else child(v, data) for v in variants]
    small = subset(data, args.sqlite_events)
    small_sizes = {"leads": count_rows(small / "leads.parquet"), "events": count_rows(small / "events.parquet")}
    print(f"subset: {small_sizes['leads']:,} leads, {small_sizes['events']:,} events", flush=True)
    sub = [child(v, small) for v in ("duckdb-hand", "leadgate-duckdb", "leadgate-sqlite")]

    report = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "definition": str(DEFINITION.relative_to(ROOT)),
        "full": {"sizes": sizes, "results": full},
        "subset": {"sizes": small_sizes, "results": sub},
    }
    problems = []
    for part in ("full", "subset"):
        results = report[part]["results"]  # type: ignore[index]
        base = next(r for r in results if r["variant"] == "duckdb-hand")
        for r in results:
            r["ratio_vs_hand_duckdb"] = r["seconds"] / base["seconds"]
            if r["mql_digest"] != base["mql_digest"]:
                problems.append(f"{part}: {r['variant']} MQL set differs from duckdb-hand")
    report["same_mql_set"] = not problems
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    (out / "scoring.json").write_text(json.dumps(report, indent=2) + "\n")
    (out / "scoring.md").write_text(render(report))
    print((out / "scoring.md").read_text())
    if problems:
        raise SystemExit("\n".join(problems))


def render(report: dict) -> str:  # type: ignore[type-arg]
    lines = [
        "# Scoring benchmark: the classic table",
        "",
        f"Run {report['when']} on {report['machine']} by `python bench/bench_scoring.py`.",
        "Wall time of the work in each variant's own process (reading inputs included; interpreter start and",
        "imports excluded), best of two fresh processes for variants under 10 s; peak RSS (VmHWM) of that",
        "process. Ratios against the hand-written DuckDB query on the same data, run by the same driver.",
        "",
    ]
    for part, title in (("full", "Full data"), ("subset", "Subset for SQLite")):
        sizes = report[part]["sizes"]
        lines += [
            f"## {title}: {sizes['leads']:,} leads, {sizes['events']:,} events",
            "",
            "| variant | seconds | × hand DuckDB | peak RSS MiB | MQLs | MQL set |",
            "|---|---:|---:|---:|---:|---|",
        ]
        for r in report[part]["results"]:
            reused = f" (measured {r['reused_from'][:10]})" if r.get("reused_from") else ""
            lines.append(
                f"| {r['variant']}{reused} | {r['seconds']:.2f} | {r['ratio_vs_hand_duckdb']:.2f} | "
                f"{r['peak_rss_mib']:.0f} | {r['mqls']:,} | `{r['mql_digest']}` |"
            )
        lines.append("")
    lines.append(f"Same MQL set in every variant: **{'yes' if report['same_mql_set'] else 'NO'}**.")
    full = {r["variant"]: r for r in report["full"]["results"]}
    a, b, c = full["leadgate-duckdb"], full["duckdb-hand"], full["pandas"]
    speedup = c["seconds"] / a["seconds"]
    per_lead = full.get("pandas-per-lead")
    per_lead_speedup = per_lead["seconds"] / a["seconds"] if per_lead else None
    c_vs_b = c["seconds"] / b["seconds"]
    needed = 20 / c_vs_b  # how many times faster than (b) the target asks (a) to be
    ratio = a["ratio_vs_hand_duckdb"]
    nocheck = full["leadgate-duckdb-nocheck"]["ratio_vs_hand_duckdb"] if "leadgate-duckdb-nocheck" in full else None
    lines += [
        "",
        "## Targets (issue 2)",
        "",
        "| target | measured | met |",
        "|---|---|---|",
        f"| (a) within 1.3× of (b) | {ratio:.2f}× | {'yes' if ratio <= 1.3 else 'no'} |",
        *(
            [f"| … without the check for events of no lead | {nocheck:.2f}× | {'yes' if nocheck <= 1.3 else 'no'} |"]
            if nocheck is not None
            else []
        ),
        f"| (a) at least 20× faster than (c), vectorized pandas | {speedup:.1f}× | "
        f"{'yes' if speedup >= 20 else 'no'} |",
        *(
            [
                f"| (a) at least 20× faster than (c), per-lead pandas | {per_lead_speedup:.1f}× | "
                f"{'yes' if per_lead_speedup >= 20 else 'no'} |"
            ]
            if per_lead_speedup is not None
            else []
        ),
        f"| (a) peak RSS ≤ 2 GiB | {a['peak_rss_mib']:.0f} MiB | {'yes' if a['peak_rss_mib'] <= 2048 else 'no'} |",
        "",
        "What (a) does beyond (b): it checks the inputs (required values present, lead ids unique) and returns",
        "every lead's full breakdown (each rule's count and points, the disqualify / requirement / path flags,",
        "grade, level and types), where (b) returns only the MQL ids; and it looks for events of no lead (one",
        "scan comparing each rule's count over all events with the leads' counts; `check_events=False` skips it).",
        'The issue asks for (c) as "a straightforward pandas implementation (what a user would write)"; users',
        "write it two ways, so both are measured and neither is hidden. Written per lead (a function applying the",
        "scoring table to one lead's events, `groupby().apply`), pandas is far slower than leadgate. Written with",
        f"vectorized masks, pandas is {c_vs_b:.1f}× slower than the hand-written DuckDB query (b) itself, so 20×",
        f"faster than it would mean running in {1 / needed:.2f}× the time of (b)"
        + (": not reachable by running the same plan, and not met." if needed > 1 else "."),
        "",
        "Spark's peak RSS is the Python driver's only; its JVM is a separate process and not counted.",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
