"""The Python API: ``leadgate.score`` with files, Segment events or a Dataset; what a run reports besides
the scores; and the files ``--out`` writes."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

import leadgate
from leadgate.outputs import write_scores
from tests.conftest import EXAMPLES, PG_URL

AS_OF = "2026-11-01T00:00:00Z"
DEFINITION = EXAMPLES / "classic.yaml"
WHEN = "2026-10-30T00:00:00Z"


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    leads = write(tmp_path / "leads.csv", "lead_id,email,title\na,a@acme.io,VP Sales\nb,b@uni.edu,Intern\n")
    events = write(
        tmp_path / "events.csv",
        "lead_id,event,ts,path\n"
        "a,demo_requested,2026-10-30T00:00:00Z,\n"
        "ghost,demo_requested,2026-10-30T00:00:00Z,\n"
        "ghost,page_view,2026-10-30T00:00:00Z,/pricing\n"
        "phantom,page_view,2026-10-31T00:00:00Z,/careers\n",
    )
    return {"leads": leads, "events": events}


def test_on_step_is_told_every_stage(files: dict[str, Path]) -> None:
    steps: list[str] = []
    leadgate.score(DEFINITION, **files, as_of=AS_OF, on_step=steps.append)
    assert steps == ["reading inputs", "loading into sqlite", "compiling", "scoring on sqlite"]
    steps.clear()
    data = leadgate.read_inputs(DEFINITION, files["leads"], files["events"])
    leadgate.score(DEFINITION, data=data, as_of=AS_OF, engine="duckdb", on_step=steps.append)
    assert steps == ["loading into duckdb", "compiling", "scoring on duckdb"]


@pytest.mark.parametrize(
    "engine",
    [
        "sqlite",
        "duckdb",
        pytest.param("postgres", marks=pytest.mark.postgres),
        pytest.param("spark", marks=pytest.mark.spark),
    ],
)
def test_events_without_a_lead_are_counted_with_examples(files: dict[str, Path], engine: str) -> None:
    options = {"url": PG_URL} if engine == "postgres" else {}
    run = leadgate.score(DEFINITION, **files, as_of=AS_OF, engine=engine, engine_options=options)
    assert (run.events_without_lead, run.unknown_lead_ids) == (3, ["ghost", "phantom"])
    assert sorted(s.lead_id for s in run.scores) == ["a", "b"]


@pytest.mark.parametrize("engine", ["sqlite", "duckdb"])
def test_the_full_search_runs_only_when_a_counted_event_names_no_lead(
    tmp_path: Path, engine: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from leadgate import api

    searches: list[str] = []
    search = api.events_without_lead_sql
    monkeypatch.setattr(api, "events_without_lead_sql", lambda *a, **k: searches.append("full") or search(*a, **k))
    leads = write(
        tmp_path / "leads.csv", "lead_id,email,created_at\na,a@acme.io,\nlate,l@acme.io,2026-12-01T00:00:00Z\n"
    )
    quiet = write(
        tmp_path / "quiet.csv",
        "lead_id,event,ts,path\n"
        "a,demo_requested,2026-10-30T00:00:00Z,\n"
        "ghost,page_view,2026-10-30T00:00:00Z,/blog\n",  # no rule counts a blog visit: nothing lost
    )
    run = leadgate.score(DEFINITION, leads=leads, events=quiet, as_of=AS_OF, engine=engine)
    assert (run.events_without_lead, searches) == (0, [])
    late = write(tmp_path / "late.csv", "lead_id,event,ts,path\nlate,demo_requested,2026-10-30T00:00:00Z,\n")
    run = leadgate.score(DEFINITION, leads=leads, events=late, as_of=AS_OF, engine=engine)
    assert (run.events_without_lead, searches) == (0, ["full"])  # a lead created after T: searched, none lost
    searches.clear()
    lost = write(
        tmp_path / "lost.csv",
        "lead_id,event,ts,path\n"
        "ghost,page_view,2026-10-30T00:00:00Z,/blog\n"
        "ghost,demo_requested,2026-10-30T00:00:00Z,\n",
    )
    run = leadgate.score(DEFINITION, leads=leads, events=lost, as_of=AS_OF, engine=engine)
    assert (run.events_without_lead, run.unknown_lead_ids, searches) == (2, ["ghost"], ["full"])


def test_events_without_a_lead_are_counted_when_duckdb_reads_parquet_in_place(
    files: dict[str, Path], tmp_path: Path
) -> None:
    parquet = {}
    for name, path in files.items():
        parquet[name] = tmp_path / f"{name}.parquet"
        pq.write_table(pacsv.read_csv(path), parquet[name])
    steps: list[str] = []
    run = leadgate.score(DEFINITION, **parquet, as_of=AS_OF, engine="duckdb", on_step=steps.append)
    assert (run.events_without_lead, run.unknown_lead_ids) == (3, ["ghost", "phantom"])
    assert steps == ["reading inputs", "loading into duckdb", "compiling", "scoring on duckdb"]


def test_score_reads_segment_events_with_or_without_a_leads_file(files: dict[str, Path], tmp_path: Path) -> None:
    messages = [
        {"type": "identify", "userId": "a", "traits": {"email": "a@acme.io", "title": "VP Sales"}},
        {"type": "identify", "userId": "b", "traits": {"email": "b@uni.edu", "title": "Intern"}},
        {"type": "track", "userId": "a", "event": "demo_requested", "timestamp": WHEN, "messageId": "1"},
        {"type": "track", "userId": "a", "event": "demo_requested", "timestamp": WHEN, "messageId": "1"},
        {"type": "page", "userId": "a", "properties": {"path": "/pricing"}, "timestamp": WHEN},
    ]
    segment = write(tmp_path / "segment.json", "".join(json.dumps(m) + "\n" for m in messages))
    as_csv = leadgate.score(DEFINITION, **files, as_of=AS_OF)
    alone = leadgate.score(DEFINITION, events=segment, events_format="segment", as_of=AS_OF)
    with_leads = leadgate.score(
        DEFINITION, leads=files["leads"], events=segment, events_format="segment", as_of=AS_OF, engine="duckdb"
    )
    for run in (alone, with_leads):
        assert run.rejected == [] and run.duplicate_messages == 1 and run.events_without_lead == 0
        a = run.lead("a")
        assert a is not None and a.contributions["demo_request"].count == 1
    assert [s.total for s in alone.scores] == [s.total for s in with_leads.scores]
    assert alone.lead("b") == as_csv.lead("b")
    with pytest.raises(leadgate.InputError, match="unknown events format 'segmnet'"):
        leadgate.score(DEFINITION, events=segment, events_format="segmnet", as_of=AS_OF)


@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".parquet"])
def test_every_written_row_names_the_definition_and_its_version(
    files: dict[str, Path], tmp_path: Path, suffix: str
) -> None:
    run = leadgate.score(DEFINITION, **files, as_of=AS_OF)
    out = tmp_path / f"scores{suffix}"
    write_scores(run.table, out)
    if suffix == ".jsonl":
        rows = [json.loads(line) for line in out.read_text().splitlines()]
    else:
        rows = (pacsv.read_csv(out) if suffix == ".csv" else pq.read_table(out)).to_pylist()
    assert [(r["lead_id"], r["definition"], str(r["definition_version"])) for r in rows] == [
        ("a", "classic", "1"),
        ("b", "classic", "1"),
    ]


def test_the_check_for_events_without_a_lead_can_be_left_out(files: dict[str, Path]) -> None:
    run = leadgate.score(DEFINITION, **files, as_of=AS_OF, check_events=False)
    assert (run.events_without_lead, run.unknown_lead_ids) == (0, [])


@pytest.mark.parametrize("engine", ["sqlite", "duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_a_query_the_engine_cannot_run_is_an_engine_error(engine: str) -> None:
    """The driver's error becomes an EngineError (a clean CLI message), never a traceback."""
    from leadgate.compiler import compile_definition
    from leadgate.engines import get_engine
    from leadgate.errors import EngineError

    defn = leadgate.load_definition(DEFINITION)
    options = {"url": PG_URL} if engine == "postgres" else {}
    with get_engine(engine, **options) as eng, pytest.raises(EngineError, match=rf"^{engine} could not run the"):
        eng.run(compile_definition(defn, dialect=eng.dialect, as_of=AS_OF))  # no tables loaded


@pytest.mark.postgres
def test_a_sum_past_the_largest_double_is_an_engine_error_on_postgres(files: dict[str, Path], tmp_path: Path) -> None:
    huge = write(
        tmp_path / "huge.yaml",
        "schema: 1\nname: huge\nversion: 1\nfit:\n"
        "  - {id: a, when: {trait: title, exists: true}, points: 1.0e+308}\n"
        "  - {id: b, when: {trait: title, exists: true}, points: 1.0e+308}\nqualify: {threshold: 1}\n",
    )
    with pytest.raises(leadgate.LeadgateError, match=r"postgres could not run the scoring query: .*overflow"):
        leadgate.score(huge, **files, as_of=AS_OF, engine="postgres", engine_options={"url": PG_URL})
