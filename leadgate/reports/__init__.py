"""Funnel reports over the store (issue 4 §5): library first, the CLI and HTTP are thin layers over it.

    from leadgate.reports import Window, funnel
    report = funnel(store, Window.parse("2026-03-01", "2026-03-31"), by="channel")
    report.rows, report.total, report.columns

docs/reports.md defines every column and the cohorts they count.
"""

from leadgate.reports.funnel import funnel
from leadgate.reports.model import ALL, BY, NONE, Column, Report, Window

__all__ = ["ALL", "BY", "NONE", "Column", "Report", "Window", "funnel"]
