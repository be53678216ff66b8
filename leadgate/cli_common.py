"""What every CLI module shares, declared once: how errors are reported (library errors become a clean
message and exit code 2, never a traceback; rejected input rows are listed with file, row and field) and
the options several commands take (``DEFINITION``, ``--as-of``)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import UTC, datetime
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console

from leadgate.errors import DefinitionError, InputError, LeadgateError, RowError

F = TypeVar("F", bound=Callable[..., Any])
err = Console(stderr=True, soft_wrap=True)  # messages name files and rows: never break them


def reports_errors(f: F) -> F:
    """Library errors become a clean message and exit code 2, never a traceback."""

    @wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return f(*args, **kwargs)
        except DefinitionError as exc:
            for problem in exc.problems:
                err.print(f"[red]error[/red] {problem}", highlight=False, markup=True)
            sys.exit(2)
        except InputError as exc:
            err.print(f"[red]error[/red] {exc.message}", highlight=False)
            print_rejects(exc.rows)
            sys.exit(2)
        except LeadgateError as exc:
            err.print(f"[red]error[/red] {exc}", highlight=False)
            sys.exit(getattr(exc, "exit_code", 2))

    return wrapper  # type: ignore[return-value]


def print_rejects(rows: list[RowError], limit: int = 10) -> None:
    if not rows:
        return
    err.print(f"[yellow]{len(rows)} input row(s) rejected[/yellow]:", highlight=False)
    for row in rows[:limit]:
        err.print(f"  {row}", highlight=False, markup=False)
    if len(rows) > limit:
        err.print(f"  … and {len(rows) - limit} more (use --rejects FILE to write them all)", highlight=False)


def note_missing_predictions(models: list[str], predictions: object) -> None:
    """A definition that reads model predictions, run without any: say that its 'predicted' conditions are
    all false (rather than let it silently qualify fewer leads)."""
    if models and predictions is None:
        err.print(
            f"[yellow]note[/yellow] the definition reads model predictions ({', '.join(models)}) but no "
            "--predictions file was given: every 'predicted' condition is false",
            highlight=False,
        )


def parse_as_of(_ctx: click.Context | None, _param: click.Parameter | None, value: str | None) -> datetime | None:
    """``--as-of``: an ISO-8601 instant; a naive one means UTC."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"'{value}' is not an ISO-8601 time (e.g. 2026-11-01T00:00:00Z)") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


definition_arg = click.argument("definition", type=click.Path(exists=True, dir_okay=False, path_type=Path))
as_of_option = click.option(
    "--as-of", callback=parse_as_of, help="Score as of this instant (ISO-8601; naive means UTC). Default: now."
)
