"""Where calibration and predictive models read from: input files, or the store of the live service.

From the store, the history is read by the backtest's reader (``History(database=...)``: the store's typed
views, merged leads and bot traffic left out, its model predictions included) with every trait and event
property the store holds (calibration's candidates are all of them, not only those the definition reads),
and the outcomes are the store's own record (``store_outcomes``: SQLs from the lifecycle, customers from
won opportunities).  A definition may be a file or a stored version (``12``, ``NAME@VERSION``, ``active``).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from leadgate.calibrate.current import Current
from leadgate.calibrate.outcomes import Outcomes, outcomes_from_table
from leadgate.errors import CalibrationError
from leadgate.inputs.dataset import Dataset

#: Outcomes the store records (``store/outcomes.py``); 'converted' has no column there.
STORE_OUTCOMES = ("sql", "customer")


def current_definition(ref: str | Path, database: str | None = None) -> Current:
    """The definition to start from: a file (when one exists at ``ref``) or a stored version."""
    path = Path(ref)
    if path.is_file():
        return Current.load(path)
    from leadgate.store.versions import label, stored_version

    row = stored_version(str(ref), database)
    return Current.parse(row.source, source=label(row))


def store_url(database: str | None) -> str:
    """The store's URL (``--database``, else $LEADGATE_DATABASE_URL, else ./leadgate.db); a SQLite file
    that does not exist is an error here rather than an empty store."""
    from leadgate.store.db import database_url
    from leadgate.store.versions import sqlite_exists

    url = database_url(database)
    if url.startswith("sqlite") and not sqlite_exists(url):
        raise CalibrationError(
            f"no store at {url}: give --leads (and --outcomes) files, or --database URL of the live service's store"
        )
    return url


def store_dataset(url: str, field_types: Mapping[tuple[str, str], str | None] | None) -> Dataset:
    """The store's leads, accounts, events and predictions with every trait and property, typed as the
    store holds them (the definition's own field types win)."""
    from leadgate.backtest.history import History
    from leadgate.store.history import trait_types
    from leadgate.store.store import Store

    store = Store(url)
    try:
        store.upgrade()
        types: dict[tuple[str, str], str | None] = {**trait_types(store)}
    finally:
        store.engine.dispose()
    types.update({key: kind for key, kind in (field_types or {}).items() if kind is not None or key not in types})
    data = History(database=url).dataset(types)
    if data.leads.num_rows == 0:
        raise CalibrationError(f"the store at {url} has no leads to learn from")
    return data


def store_outcome_table(url: str, outcome: str) -> Outcomes:
    """The outcome as the store records it: ``sql`` (reached sql or later, at the first such move) or
    ``customer`` (a won opportunity or the customer stage, at the latest close date)."""
    if outcome not in STORE_OUTCOMES:
        raise CalibrationError(
            f"the store records the outcomes {' and '.join(STORE_OUTCOMES)}, not '{outcome}': use --outcome sql "
            "or customer, or give --outcomes FILE"
        )
    from leadgate.backtest.outcomes import store_outcomes

    found = store_outcomes(url)
    return outcomes_from_table(found.table, outcome, found.source)
