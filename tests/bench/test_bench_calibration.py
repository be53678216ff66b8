"""The calibration evaluation script without its evaluation (minutes on two cores): which columns it keeps
from each real dataset (the leaky ones are excluded, per ../shared/data/README.md), and that a run never
erases committed results (nothing found: nothing written; one dataset: the other's results kept)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

from tests.conftest import ROOT

LEADS_HEADER = [
    "Prospect ID", "Lead Number", "Lead Origin", "Lead Source", "Do Not Email", "Do Not Call", "Converted",
    "TotalVisits", "Total Time Spent on Website", "Page Views Per Visit", "Last Activity", "Country",
    "Specialization", "How did you hear about X Education", "What is your current occupation",
    "What matters most to you in choosing a course", "Search", "Magazine", "Newspaper Article",
    "X Education Forums", "Newspaper", "Digital Advertisement", "Through Recommendations",
    "Receive More Updates About Our Courses", "Tags", "Lead Quality", "Update me on Supply Chain Content",
    "Get updates on DM Content", "Lead Profile", "City", "Asymmetrique Activity Index",
    "Asymmetrique Profile Index", "Asymmetrique Activity Score", "Asymmetrique Profile Score",
    "I agree to pay the amount through cheque", "A free copy of Mastering The Interview", "Last Notable Activity",
]  # fmt: skip
#: Filled in by sales after contact (they leak the outcome), ids, and the target.
LEAKY = {
    "Prospect ID", "Lead Number", "Converted", "Tags", "Lead Quality", "Lead Profile", "Last Activity",
    "Last Notable Activity", "Asymmetrique Activity Index", "Asymmetrique Profile Index",
    "Asymmetrique Activity Score", "Asymmetrique Profile Score",
}  # fmt: skip
BANK_HEADER = [
    "age", "job", "marital", "education", "default", "housing", "loan", "contact", "month", "day_of_week",
    "duration", "campaign", "pdays", "previous", "poutcome", "emp.var.rate", "cons.price.idx", "cons.conf.idx",
    "euribor3m", "nr.employed", "y",
]  # fmt: skip


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_calibration", ROOT / "bench" / "bench_calibration.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_calibration"] = module
    spec.loader.exec_module(module)
    return module


def _csv(path: Path, header: list[str], rows: list[list[str]], sep: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    quote = (lambda v: f'"{v}"') if sep == ";" else (lambda v: v)
    path.write_text("\n".join(sep.join(quote(v) for v in row) for row in [header, *rows]) + "\n")


def test_leads_loader_excludes_the_leaky_columns(bench: ModuleType, tmp_path: Path) -> None:
    _csv(tmp_path / "x-education-leads" / "Leads.csv", LEADS_HEADER, [], ",")
    data = bench.load_leads(tmp_path)
    assert data.table.column_names == [c for c in LEADS_HEADER if c not in LEAKY]
    assert data.y.size == 0
    first = [("1" if c == "Converted" else "Select" if c == "Specialization" else "x") for c in LEADS_HEADER]
    second = [("0" if c == "Converted" else "Finance" if c == "Specialization" else "y") for c in LEADS_HEADER]
    rows = [first, second]
    _csv(tmp_path / "x-education-leads" / "Leads.csv", LEADS_HEADER, rows, ",")
    data = bench.load_leads(tmp_path)
    assert data.y.tolist() == [1, 0]
    assert data.table.column("Specialization").to_pylist() == [None, "Finance"]  # "Select": not answered


def test_bank_loader_drops_duration(bench: ModuleType, tmp_path: Path) -> None:
    _csv(tmp_path / "bank-marketing" / "bank-additional-full.csv", BANK_HEADER, [], ";")
    data = bench.load_bank(tmp_path)
    assert data.table.column_names == [c for c in BANK_HEADER if c not in ("duration", "y")]
    assert bench.load_bank(tmp_path / "nowhere") is None and bench.load_leads(tmp_path) is None


def test_nothing_found_writes_nothing(bench: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "data").mkdir()
    out = tmp_path / "results"
    bench.main(["--data", str(tmp_path / "data"), "--out", str(out)])
    assert not out.exists()
    assert "nothing evaluated" in capsys.readouterr().out


def _fake(bench: ModuleType, auc: float) -> Any:
    def evaluate(data: Any, k: int, interactions: int, points_to_double: float) -> dict[str, object]:
        methods = {
            name: {"auc": [auc] * k, "seconds": [0.1] * k}
            for name in ("logistic", "gradient boosting", "naive Bayes (Odoo)")
        }
        methods["points"] = {"auc": [auc] * k, "model_auc": [auc] * k, "rules": [3] * k, "seconds": [1.0] * k}
        return {"rows": 2, "positive_rate": float(np.mean(data.y)), "methods": methods}

    return evaluate


def test_one_dataset_keeps_the_others_results(
    bench: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "results"
    out.mkdir()
    committed = json.loads((ROOT / "bench" / "results" / "calibration.json").read_text())
    (out / "calibration.json").write_text(json.dumps(committed))
    rows = [[("1" if c == "Converted" else "x") for c in LEADS_HEADER], [("0" if c == "Converted" else "y")
            for c in LEADS_HEADER]]  # fmt: skip
    _csv(tmp_path / "data" / "x-education-leads" / "Leads.csv", LEADS_HEADER, rows, ",")
    monkeypatch.setattr(bench, "evaluate", _fake(bench, 0.5))
    bench.main(["--data", str(tmp_path / "data"), "--out", str(out), "--folds", "2"])
    saved = json.loads((out / "calibration.json").read_text())
    assert list(saved["results"]) == ["leads", "bank"] and saved["skipped"] == {}
    assert saved["results"]["leads"]["methods"]["points"]["auc"] == [0.5, 0.5]
    bank = {k: v for k, v in saved["results"]["bank"].items() if k != "meta"}
    assert bank == committed["results"]["bank"]  # the absent dataset's committed results, unchanged
    assert saved["results"]["bank"]["meta"] == committed["meta"]  # with the date they were measured
    markdown = (out / "calibration.md").read_text()
    assert "## bank-additional-full.csv" in markdown and "0.7955" in markdown
    assert f"Measured {committed['meta']['date']}" in markdown.split("## bank")[1]
