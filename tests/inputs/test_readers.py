"""Readers: every format, aliases, conversions, and every bad row reported with file/row/field."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from leadgate.errors import InputError
from leadgate.inputs.readers import read_dataset

TYPES = {
    ("leads", "employees"): "number",
    ("leads", "is_partner"): "boolean",
    ("leads", "title"): "string",
    ("events", "path"): "string",
    ("events", "seconds"): "number",
    ("accounts", "industry"): "string",
}


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_csv_conversions_aliases_and_bad_rows(tmp_path: Path) -> None:
    leads = write(
        tmp_path / "leads.csv",
        "id,email,employees,is_partner\n"
        "a,Ann@Acme.COM,120,yes\nb,not-an-email,lots,no\nc,,,\na,dup@x.com,1,true\n,no-id@x.com,1,true\n",
    )
    events = write(
        tmp_path / "events.csv",
        "user_id,name,timestamp,path,seconds\n"
        "a,page_view,2026-10-01T10:00:00Z,/pricing,12\n"
        "a,page_view,2026-10-01T12:00:00+02:00,/docs,\n"
        "b,page_view,yesterday,/x,1\n"
        "c,email_open,1759312800,,\n"
        "c,email_open,1759312800000,,\n",
    )
    data = read_dataset(leads, events, field_types=TYPES)
    assert data.leads.column("lead_id").to_pylist() == ["a", "c"]
    assert data.leads.column("email_domain").to_pylist() == ["acme.com", None]
    assert data.leads.column("employees").to_pylist() == [120.0, None]
    assert data.leads.column("is_partner").to_pylist() == [True, None]
    rows = [(r.row, r.field) for r in data.rejected]
    assert (3, "employees") in rows  # 'lots' is not a number; the whole row is left out
    assert (5, "lead_id") in rows  # duplicate id
    assert (6, "lead_id") in rows  # missing id
    assert (4, "ts") in rows  # 'yesterday'
    assert all(r.file.endswith(".csv") for r in data.rejected)
    micros = data.events.column("ts").cast(pa.int64()).to_pylist()
    assert micros[0] == micros[1] - 0  # 10:00Z and 12:00+02:00 are the same instant
    assert micros[2] == micros[3] == 1_759_312_800_000_000  # epoch seconds and milliseconds
    assert data.events.column("seconds").to_pylist()[:2] == [12.0, None]


def test_jsonl_flattens_properties_and_reports_bad_json(tmp_path: Path) -> None:
    leads = write(tmp_path / "leads.jsonl", json.dumps({"lead_id": "a", "email": "a@b.io", "employees": 5}) + "\n")
    lines = [
        json.dumps(
            {
                "lead_id": "a",
                "event": "page_view",
                "ts": "2026-10-01T00:00:00Z",
                "properties": {"path": "/pricing", "page": {"title": "Pricing"}},
            }
        ),
        "{not json",
        json.dumps({"lead_id": "a", "event": "page_view", "ts": "2026-10-01T00:00:00Z", "seconds": "x"}),
    ]
    events = write(tmp_path / "events.jsonl", "\n".join(lines) + "\n")
    data = read_dataset(leads, events, field_types=TYPES)
    assert data.events.num_rows == 1
    assert data.events.column("path").to_pylist() == ["/pricing"]
    assert data.events.column("page.title").to_pylist() == ["Pricing"]
    assert [(r.row, r.field) for r in data.rejected] == [(2, None), (3, "seconds")]


def test_gzip_and_parquet_passthrough(tmp_path: Path) -> None:
    with gzip.open(tmp_path / "leads.csv.gz", "wt") as f:
        f.write("lead_id,title\na,CEO\n")
    table = pa.table({"lead_id": ["a"], "event": ["x"], "ts": pa.array([0], pa.timestamp("us")), "seconds": [1.5]})
    pq.write_table(table, tmp_path / "events.parquet")
    data = read_dataset(tmp_path / "leads.csv.gz", tmp_path / "events.parquet", field_types=TYPES)
    assert data.leads.column("title").to_pylist() == ["CEO"]
    assert data.events.column("seconds").to_pylist() == [1.5]
    assert data.rejected == []


def test_missing_required_column_and_unknown_format(tmp_path: Path) -> None:
    leads = write(tmp_path / "leads.csv", "name\nx\n")
    with pytest.raises(InputError, match="no 'lead_id' column"):
        read_dataset(leads, None)
    with pytest.raises(InputError, match="unknown format"):
        read_dataset(write(tmp_path / "leads.xlsx", ""), None)
    with pytest.raises(InputError, match="no such file"):
        read_dataset(tmp_path / "absent.csv", None)


def test_accounts_duplicate_ids(tmp_path: Path) -> None:
    leads = write(tmp_path / "leads.csv", "lead_id,account_id\na,A1\n")
    accounts = write(tmp_path / "accounts.csv", "account_id,industry\nA1,software\nA1,retail\n")
    data = read_dataset(leads, None, accounts, field_types=TYPES)
    assert data.accounts is not None and data.accounts.column("industry").to_pylist() == ["software"]
    assert [(r.row, r.field) for r in data.rejected] == [(3, "account_id")]


def test_predictions_aliases_conversions_and_bad_rows(tmp_path: Path) -> None:
    leads = write(tmp_path / "leads.csv", "lead_id\na\nb\n")
    predictions = write(
        tmp_path / "predictions.csv",
        "user_id,model_name,prediction,timestamp\n"
        "a,sql,0.25,2026-10-01T10:00:00Z\n"
        "a,sql,1,1759312800\n"
        "b,sql,1.5,2026-10-01T10:00:00Z\n"
        "b,sql,high,2026-10-01T10:00:00Z\n"
        "b,,0.5,2026-10-01T10:00:00Z\n"
        "b,sql,NaN,2026-10-01T10:00:00Z\n"
        "b,sql,0.5,soon\n",
    )
    data = read_dataset(leads, None, predictions=predictions)
    assert data.predictions is not None
    assert data.predictions.column_names == ["lead_id", "model", "probability", "scored_at"]
    assert data.predictions.column("probability").to_pylist() == [0.25, 1.0]
    assert [(r.row, r.field) for r in data.rejected] == [
        (4, "probability"),
        (5, "probability"),
        (6, "model"),
        (7, "probability"),
        (8, "scored_at"),
    ]
    assert data.rejected[0].message == "expected a number from 0 to 1, found 1.5"


def test_a_predictions_file_needs_its_columns(tmp_path: Path) -> None:
    leads = write(tmp_path / "leads.csv", "lead_id\na\n")
    predictions = write(tmp_path / "p.csv", "lead_id,model,scored_at\na,sql,2026-10-01T10:00:00Z\n")
    with pytest.raises(InputError, match="no 'probability' column; expected one named probability or prediction"):
        read_dataset(leads, None, predictions=predictions)


def test_input_modules_import_each_other_at_top_level_only() -> None:
    """The Segment reader and the file readers share helpers through their own modules, so no reader needs
    an import inside a function to dodge a cycle."""
    import ast

    import leadgate.inputs

    folder = Path(leadgate.inputs.__file__).parent
    late = []
    for module in sorted(folder.glob("*.py")):
        for node in ast.walk(ast.parse(module.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                imports = [n for n in ast.walk(node) if isinstance(n, ast.Import | ast.ImportFrom)]
                late += [f"{module.name}:{n.lineno}" for n in imports]
    assert late == []
    segment = (folder / "segment.py").read_text()
    assert "leadgate.inputs.readers" not in segment


def test_a_column_named_twice_is_an_input_error(tmp_path: Path) -> None:
    leads = write(tmp_path / "leads.csv", "lead_id,employees,title,employees\na,5,CEO,6\n")
    with pytest.raises(InputError, match=r"leads.csv: the column 'employees' appears twice \(columns 2 and 4\)"):
        read_dataset(leads, None, field_types=TYPES)
    events = write(tmp_path / "events.csv", "lead_id,event,ts,ts\na,x,2026-01-01,2026-01-02\n")
    with pytest.raises(InputError, match=r"events\.csv: the column .ts. appears twice"):
        read_dataset(write(tmp_path / "ok.csv", "lead_id\na\n"), events, field_types=TYPES)


def test_an_epoch_time_out_of_range_is_a_row_error(tmp_path: Path) -> None:
    leads = write(tmp_path / "leads.csv", "lead_id\na\n")
    events = write(
        tmp_path / "events.jsonl",
        '{"lead_id": "a", "event": "x", "ts": 1e20}\n'
        '{"lead_id": "a", "event": "x", "ts": -1e20}\n'
        '{"lead_id": "a", "event": "x", "ts": "1e15"}\n'
        '{"lead_id": "a", "event": "x", "ts": 1761955200}\n',
    )
    data = read_dataset(leads, events, field_types=TYPES)
    assert [(r.file, r.row, r.field) for r in data.rejected] == [(str(events), n, "ts") for n in (1, 2, 3)]
    assert (
        data.rejected[0].message
        == "expected a time from the year 1 to 9999 (epoch seconds or milliseconds), found '1e+20'"
    )
    assert data.events.num_rows == 1


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_a_number_that_is_not_finite_is_a_row_error(tmp_path: Path, suffix: str) -> None:
    values = ["1e400", "inf", "nan", "-Infinity", "12"]
    if suffix == ".csv":
        text = "lead_id,employees\n" + "".join(f"l{i},{v}\n" for i, v in enumerate(values))
    else:  # JSON numbers: 1e400 reads as infinity, NaN and -Infinity are Python's JSON extensions
        numbers = ["1e400", '"inf"', "NaN", "-Infinity", "12"]
        text = "".join(f'{{"lead_id": "l{i}", "employees": {v}}}\n' for i, v in enumerate(numbers))
    leads = write(tmp_path / f"leads{suffix}", text)
    data = read_dataset(leads, None, field_types=TYPES)
    assert [(r.row - (2 if suffix == ".csv" else 1), r.field) for r in data.rejected] == [
        (i, "employees") for i in range(4)
    ]
    assert data.leads.column("employees").to_pylist() == [12.0]


def test_only_an_empty_csv_field_is_missing(tmp_path: Path) -> None:
    """'NA' is Namibia and 'null' a word: CSV readers that take them for missing values change the data."""
    leads = write(tmp_path / "leads.csv", "lead_id,title,country\na,null,NA\nb,,N/A\n")
    data = read_dataset(leads, None, field_types={("leads", "country"): "string", ("leads", "title"): "string"})
    assert data.leads.select(["title", "country"]).to_pylist() == [
        {"title": "null", "country": "NA"},
        {"title": None, "country": "N/A"},
    ]
