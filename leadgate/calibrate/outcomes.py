"""Outcomes, and labels that keep time honest.

An outcomes file has a ``lead_id`` and, per outcome, a flag and (optionally) the time it happened:

| outcome | flag column | time column |
|---|---|---|
| ``sql`` | ``became_sql`` or ``sql`` | ``sql_at`` |
| ``customer`` | ``won`` or ``customer`` | ``won_at``, ``customer_at`` or ``closed_at`` |
| ``converted`` | ``converted`` | ``converted_at`` |

Features are computed as of an instant T and the label is what happened *after* it: a lead is positive when
its outcome happened in ``(T, T + horizon]``.  A lead whose outcome happened at or before T is left out (it
has already converted; there is nothing to predict), as is a lead created after T.  Without a time column
the flag is taken as is, and the report says the timing could not be checked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from leadgate.errors import CalibrationError, InputError, RowError
from leadgate.inputs.convert import to_boolean, to_string, to_timestamp
from leadgate.inputs.readers import read_raw

OUTCOMES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "sql": (("became_sql", "sql"), ("sql_at",)),
    "customer": (("won", "customer"), ("won_at", "customer_at", "closed_at")),
    "converted": (("converted",), ("converted_at",)),
}


@dataclass
class Outcomes:
    """One outcome per lead: whether it happened, and when (epoch seconds, NaN when not known)."""

    outcome: str
    lead_ids: list[str]
    happened: np.ndarray
    at: np.ndarray | None  # None: the file has no time column for this outcome
    flag_column: str
    time_column: str | None
    rejected: list[RowError] = field(default_factory=list)


def _find(names: list[str], wanted: tuple[str, ...]) -> str | None:
    lower = {n.lower(): n for n in names}
    return next((lower[w] for w in wanted if w in lower), None)


def read_outcomes(path: Path, outcome: str) -> Outcomes:
    """Read an outcomes file (CSV, JSON Lines or Parquet); bad rows are reported, not used."""
    rejected: list[RowError] = []
    raw = read_raw(Path(path), rejected)
    return outcomes_from_table(raw.table, outcome, str(path), rejected, raw.row_label)


def outcomes_from_table(
    table: pa.Table,
    outcome: str,
    source: str = "<outcomes>",
    rejected: list[RowError] | None = None,
    row_label: object = None,
) -> Outcomes:
    if outcome not in OUTCOMES:
        raise CalibrationError(f"unknown outcome {outcome!r}; expected one of {', '.join(OUTCOMES)}")
    rejected = rejected if rejected is not None else []
    label = row_label if callable(row_label) else (lambda i: i + 2)
    names = table.column_names
    id_column = _find(names, ("lead_id", "id", "user_id"))
    flags, times = OUTCOMES[outcome]
    flag_column = _find(names, flags)
    if id_column is None:
        raise InputError(f"{source}: no 'lead_id' column; expected one named lead_id, id or user_id")
    if flag_column is None:
        raise InputError(f"{source}: no column for the outcome '{outcome}'; expected one named {' or '.join(flags)}")
    time_column = _find(names, times)
    ids, _ = to_string(table.column(id_column))
    happened, errors = to_boolean(table.column(flag_column))
    bad: dict[int, tuple[str, str]] = {i: (flag_column, m) for i, m in errors.items()}
    at_array = None
    if time_column is not None:
        at, time_errors = to_timestamp(table.column(time_column))
        bad.update({i: (time_column, m) for i, m in time_errors.items()})
        at_array = pc.cast(at, pa.int64()).to_numpy(zero_copy_only=False)
    id_list = ids.to_pylist()
    seen: dict[str, int] = {}
    keep: list[int] = []
    for i, lead in enumerate(id_list):
        if lead is None:
            bad.setdefault(i, (id_column, "required value is missing"))
        elif lead in seen and i not in bad:
            bad[i] = (id_column, f"duplicate lead_id {lead!r} (first at row {label(seen[lead])})")
        if i in bad:
            continue
        seen[lead] = i  # type: ignore[index]
        keep.append(i)
    for i in sorted(bad):
        rejected.append(RowError(source, label(i), bad[i][0], bad[i][1]))  # type: ignore[operator]
    flag = np.asarray(pc.fill_null(happened, False).to_numpy(zero_copy_only=False), dtype=bool)
    times_s = None
    if at_array is not None:
        values = np.asarray(at_array, dtype=float)  # NaN where null
        times_s = values[keep] / 1e6
    return Outcomes(
        outcome=outcome,
        lead_ids=[id_list[i] for i in keep],  # type: ignore[misc]
        happened=flag[keep],
        at=times_s,
        flag_column=flag_column,
        time_column=time_column,
        rejected=rejected,
    )


@dataclass
class Labels:
    """The leads calibration learns from (the population as of T) and whether each converted after T."""

    lead_ids: list[str]
    y: np.ndarray
    as_of: float
    horizon: float | None
    timed: bool
    converted_before: int = 0
    untimed_positive: int = 0
    created_after: int = 0
    notes: list[str] = field(default_factory=list)


def label(lead_ids: list[str], created: np.ndarray, outcomes: Outcomes, as_of: float, horizon: float | None) -> Labels:
    """Label every lead that exists at ``as_of`` (``created`` is epoch seconds, NaN when unknown)."""
    by_lead = {lead: i for i, lead in enumerate(outcomes.lead_ids)}
    index = np.array([by_lead.get(lead, -1) for lead in lead_ids], dtype=np.int64)
    known = index >= 0
    happened = np.zeros(len(lead_ids), dtype=bool)
    happened[known] = outcomes.happened[index[known]]
    exists = ~(created > as_of)  # NaN (no creation time) exists
    notes: list[str] = []
    if outcomes.at is None:
        keep = exists
        y = happened
        notes.append(
            f"the outcomes have no time ({' / '.join(OUTCOMES[outcomes.outcome][1])}): labels are taken as "
            "they are, so an outcome that happened before the as-of instant cannot be told apart"
        )
        before = untimed = 0
    else:
        at = np.full(len(lead_ids), np.nan)
        at[known] = outcomes.at[index[known]]
        untimed_mask = happened & np.isnan(at)
        before_mask = happened & (at <= as_of)
        after = happened & (at > as_of)
        if horizon is not None:
            after &= at <= as_of + horizon
        keep = exists & ~before_mask & ~untimed_mask
        y = after
        before = int((exists & before_mask).sum())
        untimed = int((exists & untimed_mask).sum())
        if untimed:
            notes.append(f"{untimed} lead(s) with the outcome but no time for it were left out")
    return Labels(
        lead_ids=[lead for lead, k in zip(lead_ids, keep, strict=True) if k],
        y=y[keep],
        as_of=as_of,
        horizon=horizon,
        timed=outcomes.at is not None,
        converted_before=before,
        untimed_positive=untimed,
        created_after=int((~exists).sum()),
        notes=notes,
    )
