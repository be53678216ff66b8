"""The normalized input tables every engine and the reference evaluator read (docs/semantics.md)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from leadgate.errors import RowError

#: Arrow type of timestamps in a Dataset: naive, UTC, microseconds.
TS_TYPE = pa.timestamp("us")


@dataclass
class Dataset:
    """Leads, accounts and events as Arrow tables, plus the input rows that were rejected.

    leads: lead_id (string, unique), email, email_domain, account_id (strings), created_at (TS_TYPE), traits.
    accounts: account_id (string, unique), traits.
    events: lead_id, event (strings), ts (TS_TYPE), properties.
    predictions (optional): lead_id, model (strings), probability (float64 in [0, 1]), scored_at (TS_TYPE).
    Trait/property columns are string, float64, int64 or bool.
    ``duplicate_messages`` counts the Segment messages read once already (same ``messageId``) and skipped.
    """

    leads: pa.Table
    events: pa.Table
    accounts: pa.Table | None = None
    rejected: list[RowError] = field(default_factory=list)
    predictions: pa.Table | None = None
    duplicate_messages: int = 0

    def rows(self, table: str) -> list[dict[str, Any]]:
        """Rows as dicts; timestamps become epoch seconds (float), as the query sees them."""
        t = getattr(self, table)
        if t is None:
            return []
        out = t.to_pylist()
        ts_cols = [f.name for f in t.schema if pa.types.is_timestamp(f.type)]
        if ts_cols:
            micros = {c: t.column(c).cast(pa.int64()).to_pylist() for c in ts_cols}
            for i, row in enumerate(out):
                for c in ts_cols:
                    us = micros[c][i]
                    row[c] = None if us is None else us / 1_000_000
        return out
