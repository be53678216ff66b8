"""Funnel reports over the store (issue 4 §5): library first, the CLI and HTTP are thin layers over it.

    from leadgate.reports import Window, funnel
    report = funnel(store, Window.parse("2026-03-01", "2026-03-31"), by="channel")
    report.rows, report.total, report.columns, report.to_dict(), report.write_csv(file)

docs/reports.md defines every column and the cohorts they count.
"""

from collections.abc import Callable

from leadgate.reports.funnel import COLUMNS as FUNNEL_COLUMNS
from leadgate.reports.funnel import funnel
from leadgate.reports.model import ALL, BY, NONE, Column, Report, Window
from leadgate.reports.reasons import COLUMNS as REASONS_COLUMNS
from leadgate.reports.reasons import reasons
from leadgate.reports.speed import COLUMNS as SPEED_COLUMNS
from leadgate.reports.speed import speed

#: Every report by name (the CLI's subcommands and the HTTP API's ``/api/reports/{name}``), and its columns.
REPORTS: dict[str, Callable[..., Report]] = {"funnel": funnel, "speed": speed, "reasons": reasons}
COLUMNS: dict[str, tuple[Column, ...]] = {"funnel": FUNNEL_COLUMNS, "speed": SPEED_COLUMNS, "reasons": REASONS_COLUMNS}

__all__ = ["ALL", "BY", "COLUMNS", "NONE", "REPORTS", "Column", "Report", "Window", "funnel", "reasons", "speed"]
