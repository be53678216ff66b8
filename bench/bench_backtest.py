"""Benchmark: backtest the classic table over 13 weekly snapshots of 1M leads and ~10M events.

    python bench/bench_backtest.py [--leads 1000000] [--skip-cross]

Data: the scoring benchmark's (``bench/data/classic-<leads>``, generated once with seed 11 by
``bench_scoring.ensure_data``).  The range is the data's last 13 weeks, 2026-08-02 → 2026-11-01.

Variants, all in one child process, one after the other (ratios are against (c) in that process):
  (a) backtest              ``leadgate.backtest.backtest`` on DuckDB: Parquet scanned in place, the
                            change-point query for the 14 instants, refinement of every new MQL to its
                            qualifying event, outcomes joined, the report built
  (b) backtest-per-snapshot the same with ``path="snapshots"``: the compiled query run once per instant on
                            one loaded DuckDB connection (what definitions with decay use)
  (c) baseline              13 independent ``leadgate.score`` calls, one per weekly snapshot (no refinement)
  (d) cross-join            the first pass only, as one query joining every event to every later snapshot
                            (``compile_snapshots``): the straightforward multi-instant compile
Every variant must agree: the period in which each lead first qualifies is the same in (a), (b), (c) and (d)
(for leads not already MQLs at the start).  Before them, (a) runs alone in a fresh process for its own peak
RSS.  Results go to bench/results/backtest.{md,json}.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DEFINITION = ROOT / "examples" / "classic.yaml"
END = datetime(2026, 11, 1, tzinfo=UTC)
WEEKS = 13

sys.path.insert(0, str(HERE))
from bench_scoring import count_rows, ensure_data, peak_rss_mib  # noqa: E402


def load() -> float:
    return round(os.getloadavg()[0], 2)


# -- variants (inside the child) -----------------------------------------------------------------------
def run_all(data: Path, skip_cross: bool, alone: bool = False) -> dict[str, object]:
    import leadgate
    from leadgate.backtest import History, Snapshots, backtest
    from leadgate.compiler import as_of_epoch

    files = {name: data / f"{name}.parquet" for name in ("leads", "events", "accounts", "outcomes")}
    defn = leadgate.load_definition(DEFINITION)
    snapshots = Snapshots.between(END - timedelta(weeks=WEEKS), END, "week")
    instants = snapshots.instants
    history = History.files(files["leads"], files["events"], files["accounts"])
    warm = time.perf_counter()
    for path in files.values():  # the files in the page cache for every variant alike
        path.read_bytes()
    results: dict[str, object] = {"warm_seconds": time.perf_counter() - warm}

    def timed(name: str, fn) -> dict[str, object]:  # type: ignore[no-untyped-def]
        before = load()
        t0 = time.perf_counter()
        out = fn()
        seconds = time.perf_counter() - t0
        out.update({"variant": name, "seconds": seconds, "load_before": before, "load_after": load()})
        print(f"  {name:22s} {seconds:8.2f}s  (load {before} → {out['load_after']})", file=sys.stderr, flush=True)
        return out

    def run_backtest(path: str) -> dict[str, object]:
        report = backtest(defn, history, snapshots, outcomes=files["outcomes"], path=path)
        d = report.definition
        return {
            "first": {m.lead_id: m.period for m in d.mqls},
            "at_start": d.mqls_at_start,
            "mqls": d.total.mqls,
            "sql_rate": d.total.sql_rate,
            "timings": {k: round(v, 3) for k, v in d.timings.items()},
            "how": {k: sum(1 for m in d.mqls if m.how == k) for k in ("event", "window", "created", "snapshot")},
        }

    def baseline() -> dict[str, object]:
        first: dict[str, int] = {}
        for i, t in enumerate(instants[1:], start=1):
            run = leadgate.score(
                defn, leads=files["leads"], events=files["events"], accounts=files["accounts"], as_of=t, engine="duckdb"
            )
            for lead in run.mql_ids():
                first.setdefault(lead, i)
        return {"first": first, "calls": len(instants) - 1}

    def cross() -> dict[str, object]:
        from leadgate.compiler.snapshots import compile_snapshots
        from leadgate.engines.duckdb import DuckDBEngine

        with DuckDBEngine() as eng:
            eng.load_files(defn, files["leads"], files["events"], files["accounts"])
            sql = compile_snapshots(defn, [as_of_epoch(t) for t in instants], dialect="duckdb").sql()
            rows = eng.con.execute(
                f'SELECT lead_id, MIN("__i") FROM ({sql}) AS q WHERE qualified = 1 GROUP BY lead_id'
            ).fetchall()
        return {"first": {lead: int(i) for lead, i in rows if i >= 1}, "at_start": sum(1 for _, i in rows if i == 0)}

    variants = [
        ("backtest", lambda: run_backtest("auto")),
        ("backtest-per-snapshot", lambda: run_backtest("snapshots")),
        ("baseline", baseline),
    ]
    if alone:  # (a) by itself, for its own peak RSS
        variants = variants[:1]
    elif not skip_cross:
        variants.append(("cross-join", cross))
    results["variants"] = [timed(name, fn) for name, fn in variants]
    results["peak_rss_mib"] = peak_rss_mib()
    return results


# -- driver ---------------------------------------------------------------------------------------------
def check(results: list[dict]) -> list[str]:  # type: ignore[type-arg]
    """The period each lead first qualifies in agrees everywhere (leads already MQLs at the start aside:
    the baseline has no call at the start)."""
    ref = results[0]["first"]
    problems = []
    for r in results[1:]:
        first = r["first"]
        if r["variant"] == "baseline":
            extra = {lead for lead in first if lead not in ref}  # already MQLs at the start, or a disagreement
            if any(first[lead] != period for lead, period in ref.items()) or len(extra) > results[0]["at_start"]:
                problems.append("baseline: first periods differ from the backtest")
        elif first != ref:
            problems.append(f"{r['variant']}: first periods differ from the backtest")
    return problems


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--data-dir", type=Path, default=HERE / "data")
    parser.add_argument("--skip-cross", action="store_true", help="leave out (d), the slowest")
    parser.add_argument("--results", type=Path, default=HERE / "results")
    parser.add_argument("--render-only", action="store_true")
    parser.add_argument("--child", type=Path)
    parser.add_argument("--alone", action="store_true")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_all(args.child, args.skip_cross, args.alone)))
        return
    if args.render_only:
        report = json.loads((args.results / "backtest.json").read_text())
        (args.results / "backtest.md").write_text(render(report))
        return
    data = ensure_data(args.data_dir, args.leads)
    sizes = {"leads": count_rows(data / "leads.parquet"), "events": count_rows(data / "events.parquet")}
    print(f"data: {sizes['leads']:,} leads, {sizes['events']:,} events; load {load()}", flush=True)

    def child_run(*extra: str) -> dict:  # type: ignore[type-arg]
        proc = subprocess.run([sys.executable, __file__, "--child", str(data), *extra], capture_output=True, text=True)
        sys.stderr.write(proc.stderr)
        if proc.returncode != 0:
            raise SystemExit("the benchmark failed")
        return json.loads(proc.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]

    alone = child_run("--alone")
    child = child_run(*(["--skip-cross"] if args.skip_cross else []))
    variants = child["variants"]
    problems = check(variants)
    base = next(v for v in variants if v["variant"] == "baseline")
    for v in variants:
        v["ratio_vs_baseline"] = v["seconds"] / base["seconds"]
        v["first_periods"] = len(v.pop("first"))
    report = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "definition": str(DEFINITION.relative_to(ROOT)),
        "sizes": sizes,
        "snapshots": f"{WEEKS} weekly periods ending {END.date()} ({WEEKS + 1} instants with the start)",
        "peak_rss_mib": child["peak_rss_mib"],
        "alone": {
            "seconds": alone["variants"][0]["seconds"],
            "peak_rss_mib": alone["peak_rss_mib"],
            "load_before": alone["variants"][0]["load_before"],
        },
        "results": variants,
        "agree": not problems,
    }
    args.results.mkdir(exist_ok=True)
    (args.results / "backtest.json").write_text(json.dumps(report, indent=2) + "\n")
    (args.results / "backtest.md").write_text(render(report))
    print((args.results / "backtest.md").read_text())
    if problems:
        raise SystemExit("\n".join(problems))


def render(report: dict) -> str:  # type: ignore[type-arg]
    sizes = report["sizes"]
    lines = [
        "# Backtest benchmark: the classic table over 13 weekly snapshots",
        "",
        f"Run {report['when']} on {report['machine']} by `python bench/bench_backtest.py`, on "
        f"{sizes['leads']:,} leads and {sizes['events']:,} events (Parquet, generated with seed 11);",
        f"{report['snapshots']}. Wall time in one child process, variants one after the other; the",
        "1-minute load average before and after each shows how busy the (shared) machine was.",
        "",
        "| variant | seconds | × baseline | load before → after | what |",
        "|---|---:|---:|---|---|",
    ]
    what = {
        "backtest": "`backtest()`: change-point query, refinement to the qualifying event, outcomes, report",
        "backtest-per-snapshot": "`backtest(path='snapshots')`: one compiled query per instant on one connection",
        "baseline": "13 independent `leadgate.score` calls (no refinement, no outcomes)",
        "cross-join": "first pass only: every event joined to every later snapshot in one query",
    }
    for r in report["results"]:
        lines.append(
            f"| {r['variant']} | {r['seconds']:.2f} | {r['ratio_vs_baseline']:.2f} | "
            f"{r['load_before']} → {r['load_after']} | {what[r['variant']]} |"
        )
    main = next(r for r in report["results"] if r["variant"] == "backtest")
    timings = ", ".join(f"{k} {v:.2f} s" for k, v in main["timings"].items())
    how = ", ".join(f"{n:,} at {k}" for k, n in main["how"].items() if n)
    if sizes["leads"] >= 1_000_000:
        target = "met" if main["seconds"] <= 30 else "not met"
    else:
        target = "not judged at this size"
    lines += [
        "",
        "Every variant agrees on the period in which each lead first qualifies: "
        f"**{'yes' if report['agree'] else 'NO'}** ({main['mqls']:,} new MQLs in the range, "
        f"{main['at_start']:,} already MQLs at the start).",
        f"Inside (a): {timings}; MQL instants: {how}. Peak RSS of the process running all the variants: "
        f"{report['peak_rss_mib']:.0f} MiB; (a) alone in a fresh process before them: "
        f"{report['alone']['seconds']:.2f} s, peak RSS {report['alone']['peak_rss_mib']:.0f} MiB "
        f"(load {report['alone']['load_before']}).",
        "",
        f"Target (issue 5): 13 weekly snapshots over 1M leads and 10M events in ≤ 30 s: {main['seconds']:.1f} s, "
        f"**{target}** on this run.",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
