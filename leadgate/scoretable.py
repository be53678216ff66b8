"""Scores as a columnar table: what engines return.  Decoding into LeadScore objects is on demand, so a
million-lead batch stays in Arrow until someone asks for one lead's breakdown."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from leadgate.compiler import CompiledQuery
from leadgate.result import AccountState, Contribution, LeadScore
from leadgate.summary import Summary, histogram


def as_numpy(values: pa.Array | pa.ChunkedArray, arrow_type: pa.DataType, dtype: type) -> np.ndarray:
    """A fixed-width column as a numpy array (nulls as 0), read from its buffers: pyarrow's ``to_numpy``
    and its scalars import pandas when it is installed, a quarter of a second of a batch run's time."""
    array = pc.cast(values, arrow_type)
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    n, offset = len(array), array.offset
    if n == 0:
        return np.zeros(0, dtype=dtype)
    data: np.ndarray = np.frombuffer(array.buffers()[1], dtype=dtype)[offset : offset + n].copy()
    if array.null_count:
        bits = np.unpackbits(np.frombuffer(array.buffers()[0], dtype=np.uint8), bitorder="little")
        data[~bits[offset : offset + n].astype(bool)] = 0
    return data


class ScoreTable:
    """The output of one compiled query (docs/semantics.md, "Output per lead").

    Rows come in the engine's order (the SQL orders by lead_id, but collations differ between engines);
    ``to_scores`` sorts by lead_id in Python's order."""

    def __init__(self, table: pa.Table, query: CompiledQuery):
        self.table = table
        self.query = query

    def __len__(self) -> int:
        return int(self.table.num_rows)

    def _flags(self, column: str) -> np.ndarray:
        return as_numpy(self.table.column(column), pa.int64(), np.int64) == 1

    @property
    def qualified_mask(self) -> np.ndarray:
        return self._flags("qualified")

    def qualified_ids(self) -> list[str]:
        # filtered in Arrow (0/1 cast to a boolean mask): only the MQLs' ids become Python strings
        mask = pc.cast(self.table.column("qualified"), pa.bool_())
        return [str(i) for i in pc.filter(self.table.column("lead_id"), mask).to_pylist()]

    def lead(self, lead_id: str) -> LeadScore | None:
        rows = self.table.filter(pc.equal(self.table.column("lead_id"), pa.scalar(lead_id)))
        return self._decode(rows.to_pylist()[0]) if rows.num_rows else None

    def __iter__(self) -> Iterator[LeadScore]:
        for batch in self.table.to_batches(max_chunksize=10_000):
            for row in batch.to_pylist():
                yield self._decode(row)

    def to_scores(self) -> list[LeadScore]:
        """Every lead's LeadScore, ordered by lead_id."""
        return sorted(self, key=lambda s: s.lead_id)

    def _decode(self, row: dict[str, Any]) -> LeadScore:
        layout = self.query.layout
        qualified = int(row["qualified"]) == 1
        contributions = {
            rule_id: Contribution(int(row[count]), float(row[points])) for rule_id, count, points in layout.rules
        }
        for name, column in layout.groups:
            contributions[f"group:{name}"] = Contribution(0, float(row[column]))
        account = None
        if layout.account:
            engagement, engaged = row["account_engagement"], row["account_engaged_leads"]
            account = AccountState(
                account_id=None if row["account_id"] is None else str(row["account_id"]),
                engagement=None if engagement is None else float(engagement),
                engaged_leads=None if engaged is None else int(engaged),
                qualified=int(row["account_qualified"]) == 1,
            )
        predicted = {model: _probability(row[column]) for model, column in layout.predicted}
        return LeadScore(
            lead_id=str(row["lead_id"]),
            fit=float(row["fit"]),
            engagement=float(row["engagement"]),
            total=float(row["total"]),
            qualified=qualified,
            qualified_by=[name for name, column in layout.paths if int(row[column]) == 1],
            disqualify_reasons=[r for r, column in layout.disqualify if int(row[column]) == 1],
            failed_requirements=[r for r, column in layout.require if int(row[column]) == 1],
            grade=str(row["grade"]),
            level=int(row["level"]),
            mql_types=[str(row["basis"]), str(row["motion"])] if qualified else [],
            contributions=contributions,
            account=account,
            predicted=predicted,
        )

    def account_members(self, account_id: str) -> list[tuple[str, float]]:
        """(lead id, engagement) of every scored lead of an account, by lead id: who its engagement is from."""
        if not self.query.layout.account:
            return []
        rows = self.table.filter(pc.equal(self.table.column("account_id"), pa.scalar(account_id)))
        ids, engagement = rows.column("lead_id").to_pylist(), rows.column("engagement").to_pylist()
        return sorted((str(i), float(e)) for i, e in zip(ids, engagement, strict=True))

    def summary(self) -> Summary:
        """Counts and the score distribution, computed on the columns (no per-lead objects)."""
        layout = self.query.layout
        q = self.qualified_mask
        totals = np.asarray(pc.cast(self.table.column("total"), pa.float64()).to_numpy(zero_copy_only=False))

        def counts(values: pa.Array | pa.ChunkedArray) -> dict[str, int]:
            pairs = [(str(v["values"]), int(v["counts"])) for v in pc.value_counts(values).to_pylist()]
            return dict(sorted(pairs, key=lambda x: -x[1]))

        qualified = self.table.filter(pa.array(q))

        def flag_counts(pairs: list[tuple[str, str]], mask: np.ndarray | None = None) -> dict[str, int]:
            out = {name: int((self._flags(col) & (mask if mask is not None else True)).sum()) for name, col in pairs}
            return dict(sorted(((k, v) for k, v in out.items() if v), key=lambda x: -x[1]))

        by_type = counts(qualified.column("basis"))
        by_type.update(counts(qualified.column("motion")))
        levels = pc.cast(pc.cast(self.table.column("level"), pa.int64()), pa.string())
        matrix = dict(sorted(counts(pc.binary_join_element_wise(self.table.column("grade"), levels, "")).items()))
        quantiles = (
            {f"p{int(p * 100)}": float(np.quantile(totals, p)) for p in (0.1, 0.25, 0.5, 0.75, 0.9, 0.99)}
            if len(self)
            else {}
        )
        return Summary(
            leads=len(self),
            mqls=int(q.sum()),
            by_type=by_type,
            by_path=flag_counts(layout.paths, q),
            by_disqualify_reason=flag_counts(layout.disqualify),
            by_failed_requirement=flag_counts(layout.require),
            by_matrix=matrix,
            total_quantiles=quantiles,
            histogram=histogram(totals),
        )


def _probability(value: Any) -> float | None:
    return None if value is None else float(value)
