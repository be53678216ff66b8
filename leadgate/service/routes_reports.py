"""Funnel reports over HTTP (admin keys): a thin layer over ``leadgate.reports``.

- ``GET /api/reports``: the reports, their columns with definitions, and the slices.
- ``GET /api/reports/{name}?from=&to=[&as_of=][&by=][&currency=][&format=csv]``: one report as JSON
  (``columns``, ``rows``, ``total``, ``notes``) or its rows as CSV.

docs/reports.md defines every column; the same library computes them for the CLI.
"""

from __future__ import annotations

import io
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response

from leadgate.reports import BY, COLUMNS, REPORTS, Window
from leadgate.service.auth import Admin, ApiError

router = APIRouter(prefix="/api/reports", tags=["reports"])


@router.get("")
def catalog(_key: Admin) -> dict[str, Any]:
    """The reports there are, the columns of each (with their definitions) and the ``by`` slices."""
    return {
        "reports": {name: {"columns": [c.to_dict() for c in COLUMNS[name]]} for name in REPORTS},
        "by": list(BY),
    }


@router.get("/{name}")
def report(
    name: str,
    request: Request,
    _key: Admin,
    start: Annotated[str, Query(alias="from", description="First day (YYYY-MM-DD) or instant (ISO-8601).")],
    end: Annotated[str, Query(alias="to", description="Last day, included (or an instant, excluded).")],
    as_of: Annotated[str | None, Query(description="Follow outcomes up to this instant (default: now).")] = None,
    by: Annotated[str | None, Query(description="Slice: " + ", ".join(BY))] = None,
    currency: Annotated[str | None, Query(description="funnel only: count opportunities in it (USD)")] = None,
    format: Literal["json", "csv"] = "json",
) -> Response:
    """One report for a date range, optionally sliced (runs in the thread pool: it may read for a while)."""
    build = REPORTS.get(name)
    if build is None:
        raise ApiError(404, "not_found", f"no report {name!r}; expected one of {', '.join(REPORTS)}")
    options: dict[str, Any] = {"by": by}
    if currency is not None:
        if name != "funnel":
            raise ApiError(400, "bad_request", "currency: only the funnel report takes a currency")
        options["currency"] = currency
    result = build(request.app.state.store, Window.parse(start, end, as_of), **options)
    if format == "csv":
        text = io.StringIO()
        result.write_csv(text)
        disposition = f'attachment; filename="{name}.csv"'
        return Response(text.getvalue(), media_type="text/csv", headers={"content-disposition": disposition})
    return JSONResponse(result.to_dict())
