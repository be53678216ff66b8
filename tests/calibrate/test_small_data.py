"""Too little to learn from: calibration refuses when the training leads hold too few converted leads
(saying how many there are and how many are needed), and warns when the model keeps no rule at all."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from leadgate.calibrate import Current, Settings, calibrate
from leadgate.calibrate.outcomes import outcomes_from_table
from leadgate.calibrate.pipeline import MIN_TRAINING
from leadgate.errors import CalibrationError
from leadgate.inputs.dataset import TS_TYPE, Dataset

END = 1793491200.0  # 2026-11-01T00:00:00Z
EMPTY = "schema: 1\nname: empty\nversion: 1\nqualify: {threshold: 1}\n"


def noise(leads: int, converted: int, seed: int = 0) -> tuple[Dataset, pa.Table]:
    """Leads whose traits say nothing about whether they converted."""
    rng = np.random.default_rng(seed)
    ids = [f"N{i:04d}" for i in range(leads)]
    created = pa.array(((END - rng.uniform(7, 300, leads) * 86400) * 1e6).astype(np.int64)).cast(TS_TYPE)
    table = pa.table({
        "lead_id": ids,
        "created_at": created,
        "colour": rng.choice(["red", "green", "blue"], leads),
        "size": rng.integers(1, 100, leads).astype(float),
    })  # fmt: skip
    events = pa.table({"lead_id": pa.array([], pa.string()), "event": pa.array([], pa.string()),
                       "ts": pa.array([], TS_TYPE)})  # fmt: skip
    flags = np.zeros(leads, dtype=bool)
    flags[rng.choice(leads, converted, replace=False)] = True
    return Dataset(leads=table, events=events), pa.table({"lead_id": ids, "converted": flags})


def test_too_few_converted_leads_is_a_clear_error() -> None:
    data, outcomes = noise(400, 24)
    with pytest.raises(CalibrationError) as caught:
        calibrate(Current.parse(EMPTY), data, outcomes_from_table(outcomes, "converted"),
                  Settings(outcome="converted", as_of=END, capacity=5))  # fmt: skip
    message = str(caught.value)
    assert message.startswith("too few converted leads to learn from: 18 in the training split (24 of 400 leads")
    assert f"at least {MIN_TRAINING} are needed (about 27 converted leads in all)" in message


def test_too_few_not_converted_leads_too() -> None:
    data, outcomes = noise(60, 50)
    with pytest.raises(CalibrationError, match="too few not converted leads to learn from: 8 in the training"):
        calibrate(Current.parse(EMPTY), data, outcomes_from_table(outcomes, "converted"),
                  Settings(outcome="converted", as_of=END, capacity=5))  # fmt: skip


def test_a_model_that_keeps_no_rule_says_so() -> None:
    data, outcomes = noise(600, 120)
    result = calibrate(Current.parse(EMPTY), data, outcomes_from_table(outcomes, "converted"),
                       Settings(outcome="converted", as_of=END, capacity=5))  # fmt: skip
    assert result.report.rules == 0
    warning = next(n for n in result.report.notes if n.startswith("WARNING: the model kept no rule"))
    assert "450 training leads (90 converted)" in warning
    assert f"note: {warning}" in result.report.summary_lines()
