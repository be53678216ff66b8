"""CLI commands for definitions that learn: ``calibrate`` and ``predict train | score`` (registered on the
main ``leadgate`` group).  Each parses, calls one library function, and formats; nothing is activated.

The error handling and ``--as-of`` parsing mirror ``leadgate/cli.py``'s (importing them from there would
make an import cycle, since cli.py registers this module)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.table import Table

from leadgate.cli_common import as_of_option, err, note_missing_predictions, parse_as_of, print_rejects, reports_errors
from leadgate.cli_service import database_option
from leadgate.definition.durations import parse_duration
from leadgate.errors import CalibrationError

F = TypeVar("F", bound=Callable[..., Any])
out = Console(soft_wrap=True)  # lines name files: never break them


OUTCOME_CHOICES = ("sql", "customer", "converted")
FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


def _horizon(_ctx: click.Context, _param: click.Parameter, value: str | None) -> float | None:
    if value is None or value.strip().lower() in ("none", "all", "ever"):
        return None
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def _capacity(_ctx: click.Context, _param: click.Parameter, value: str | None) -> float | None:
    if value is None:
        return None
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(?:/\s*w(?:ee)?k)?\s*", value, flags=re.IGNORECASE)
    if not m:
        raise click.BadParameter(f"'{value}' is not a weekly capacity; expected a number such as 40 or 40/week")
    return float(m.group(1))


def learning_options(f: Any) -> Any:
    """Inputs and timing shared by ``calibrate`` and ``predict train``."""
    for option in reversed([
        click.option("--outcome", type=click.Choice(OUTCOME_CHOICES), required=True,
                     help="What to learn: the flag and time columns are named in docs/calibration.md."),
        click.option("--leads", type=FILE,
                     help="Leads file. Without it, history and outcomes are read from the store (--database)."),
        click.option("--events", type=FILE),
        click.option("--accounts", type=FILE),
        click.option("--predictions", type=FILE,
                     help="Model predictions (lead_id, model, probability, scored_at) for 'predicted' conditions."),
        click.option("--outcomes", type=FILE,
                     help="lead_id and the outcome's flag (and time) columns. Needed with --leads; without "
                     "--leads the store's record is the default."),
        click.option("--as-of", callback=parse_as_of,
                     help="Features as of this instant; outcomes after it. Default: the data's end minus the horizon."),
        click.option("--horizon", default="30d", show_default=True, callback=_horizon,
                     help="Outcomes count within this long after the as-of instant ('none': any time after)."),
        click.option("--test-size", type=click.FloatRange(0, 1, min_open=True, max_open=True), default=0.25,
                     show_default=True, help="Share of leads held out (split by lead, stratified)."),
        click.option("--seed", type=int, default=7, show_default=True),
        click.option("--exclude", multiple=True,
                     help="A trait (account.x for accounts) or event name to leave out, e.g. one your CRM "
                     "writes after contact (traits are not point in time)."),
        click.option("--include", multiple=True,
                     help="A personal trait (first_name, phone, ...: left out by default) to use anyway."),
        click.option("--weeks", type=click.FloatRange(0, min_open=True),
                     help="Weeks the data covers, when leads have no created_at (for per-week volumes)."),
    ]):  # fmt: skip
        f = option(f)
    return f


def _settings(**kw: Any) -> Any:
    from leadgate.calibrate.pipeline import Settings

    as_of = kw.pop("as_of")
    return Settings(
        as_of=as_of.timestamp() if as_of is not None else None,
        exclude=tuple(kw.pop("exclude")),
        include=tuple(kw.pop("include")),
        **kw,
    )


def _read(leads: Path, events: Path | None, accounts: Path | None, predictions: Path | None, field_types: Any) -> Any:
    from leadgate.inputs.readers import read_dataset

    data = read_dataset(leads, events, accounts, field_types=field_types, all_columns=True, predictions=predictions)
    print_rejects(data.rejected)
    return data


def _inputs(
    current: Any,
    outcome: str,
    database: str | None,
    leads: Path | None,
    events: Path | None,
    accounts: Path | None,
    predictions: Path | None,
    outcomes: Path | None,
) -> tuple[Any, Any, str]:
    """The history and outcomes to learn from: files, or (without --leads) the store; and where from."""
    from leadgate.calibrate import read_outcomes
    from leadgate.calibrate.sources import store_dataset, store_outcome_table, store_url

    field_types = current.definition.field_types() if current else None
    if leads is None:
        if (events or accounts or predictions) is not None:
            raise click.UsageError("--events, --accounts and --predictions need --leads (or none: the store is read)")
        url = store_url(database)
        found = read_outcomes(outcomes, outcome) if outcomes else store_outcome_table(url, outcome)
        data = store_dataset(url, field_types)
        where = f"history: store {url}; outcomes: {outcomes or 'the store'}"
    else:
        if outcomes is None:
            raise click.UsageError("give --outcomes FILE with --leads (without --leads the store's outcomes are read)")
        data = _read(leads, events, accounts, predictions, field_types)
        if current:
            note_missing_predictions(current.definition.models(), predictions)
        found = read_outcomes(outcomes, outcome)
        files = ", ".join(str(p) for p in (leads, events, accounts, predictions) if p)
        where = f"history: {files}; outcomes: {outcomes}"
    print_rejects(found.rejected)
    return data, found, where


@click.command()
@click.argument("definition")
@learning_options
@database_option
@click.option("--capacity", callback=_capacity, help="Sales capacity: at most this many MQLs per week (e.g. 40/week).")
@click.option("--target-precision", type=click.FloatRange(0, 1, min_open=True, max_open=True),
              help="Lowest threshold whose precision (converted MQLs / MQLs) reaches this.")  # fmt: skip
@click.option("--interactions", type=click.IntRange(0), default=0, show_default=True,
              help="Also try this many pairs of traits as interaction rules.")  # fmt: skip
@click.option("--points-to-double", type=click.FloatRange(0, min_open=True), default=10.0, show_default=True,
              help="Points that double the odds of the outcome (the points scale).")  # fmt: skip
@click.option("--out", "out_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the proposed definition here (default: print it).")  # fmt: skip
@click.option("--report", "report_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the report as Markdown (.md) or JSON (.json).")  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Print the report (and the proposal) as JSON.")
@reports_errors
def calibrate(
    definition: str,
    outcome: str,
    leads: Path | None,
    events: Path | None,
    accounts: Path | None,
    predictions: Path | None,
    outcomes: Path | None,
    database: str | None,
    out_path: Path | None,
    report_path: Path | None,
    as_json: bool,
    **options: Any,
) -> None:
    """Learn a proposed new version of DEFINITION (a file or a stored version) from outcomes: integer
    points, a threshold for your capacity or precision, and a held-out comparison with the current version.
    History and outcomes come from files (--leads, --outcomes, ...) or else from the store.  Activates
    nothing."""
    from leadgate.calibrate import calibrate as run
    from leadgate.calibrate.sources import current_definition

    settings = _settings(outcome=outcome, **options)
    current = current_definition(definition, database)
    data, found, where = _inputs(current, outcome, database, leads, events, accounts, predictions, outcomes)
    result = run(current, data, found, settings, out_dir=out_path.parent if out_path else None)
    if out_path:
        out_path.write_text(result.text, encoding="utf-8")
    if report_path:
        body = (
            json.dumps(result.report.to_dict(), indent=2) if report_path.suffix == ".json" else result.report.markdown()
        )
        report_path.write_text(body if body.endswith("\n") else body + "\n", encoding="utf-8")
    if as_json:
        doc = {"report": result.report.to_dict(), "changes": [str(c) for c in result.changes]}
        doc.update({"written": str(out_path)} if out_path else {"proposal": result.text})
        click.echo(json.dumps(doc))
        return
    out.print(where, highlight=False, markup=False)
    for line in result.report.summary_lines():
        out.print(line, highlight=False, markup=False)
    table = Table(show_edge=False, box=None, padding=(0, 2), title="held-out leads", title_justify="left")
    for column in ("definition", "ROC AUC", "precision", "recall", "MQLs", "MQLs/week"):
        table.add_column(column, justify="left" if column == "definition" else "right")
    for row in result.report.rows():
        table.add_row(*row)
    out.print(table)
    out.print("changes:", highlight=False)
    for change in result.changes:
        out.print(f"  {change}", highlight=False, markup=False)
    if out_path:
        out.print(f"proposed definition written to {out_path} (not active)", highlight=False)
        out.print(f"to store it as a new version: leadgate definitions push {out_path} --author NAME", highlight=False)
    else:
        click.echo(result.text, nl=False)


@click.group()
def predict() -> None:
    """Predictive scores: a model's probability of the outcome per lead, with its top factors."""


@predict.command("train")
@click.option("--name", required=True, help="The model's name, as definitions name it: {predicted: NAME, gte: 0.6}.")
@learning_options
@click.option("--definition", "definition",
              help="Add this definition's rules to the candidate signals (a file or a stored version).")  # fmt: skip
@click.option("--out", "out_path", type=click.Path(dir_okay=False, path_type=Path), help="Write the model (JSON).")
@database_option
@reports_errors
def predict_train(
    name: str,
    outcome: str,
    leads: Path | None,
    events: Path | None,
    accounts: Path | None,
    predictions: Path | None,
    outcomes: Path | None,
    definition: str | None,
    out_path: Path | None,
    database: str | None,
    **options: Any,
) -> None:
    """Train a model on outcomes (from files, or else from the store) and write it to --out, the store
    (--database), or both."""
    from leadgate.calibrate.predict import train
    from leadgate.calibrate.sources import current_definition

    if out_path is None and database is None:
        raise click.UsageError("give --out FILE, --database URL (or $LEADGATE_DATABASE_URL), or both")
    settings = _settings(outcome=outcome, **options)
    current = current_definition(definition, database) if definition else None
    data, found, _where = _inputs(current, outcome, database, leads, events, accounts, predictions, outcomes)
    model = train(name, data, found, settings, current)
    if out_path:
        out_path.write_text(model.to_json(), encoding="utf-8")
    if database is not None:
        from leadgate.cli_service import _store
        from leadgate.store.trained_models import save_model

        trained = datetime.fromisoformat(model.trained_at.replace("Z", "+00:00")).replace(tzinfo=None)
        save_model(_store(database), model.to_dict(), trained, datetime.now(UTC).replace(tzinfo=None))
    held = model.metrics["held_out"]
    auc = "n/a" if held["roc_auc"] is None else f"{held['roc_auc']:.3f}"
    out.print(
        f"model {model.name} {model.version}: {len(model.features)} features; held-out ROC AUC {auc}, "
        f"log-loss {held['log_loss']:.4f}, Brier {held['brier']:.4f} on {held['leads']:,} leads "
        f"({held['positives']:,} converted)",
        highlight=False,
    )
    for where in ([str(out_path)] if out_path else []) + (["the store"] if database is not None else []):
        out.print(f"written to {where}", highlight=False)


@predict.command("score")
@click.option("--model", "model_ref", required=True, help="A model file (JSON), or a model's name in the store.")
@click.option("--leads", type=FILE, help="Leads file. Without it, the store's leads are scored (--database).")
@click.option("--events", type=FILE)
@click.option("--accounts", type=FILE)
@as_of_option
@click.option("--out", "out_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Write predictions: .csv, .jsonl or .parquet (read by leadgate score --predictions).")  # fmt: skip
@database_option
@reports_errors
def predict_score(
    model_ref: str,
    leads: Path | None,
    events: Path | None,
    accounts: Path | None,
    as_of: datetime | None,
    out_path: Path | None,
    database: str | None,
) -> None:
    """Score every lead (of the files, or else of the store) with a model: probability, scored_at and top
    factors, to --out and/or the store."""
    from leadgate.calibrate.predict import Model, score, write_predictions

    if out_path is None and database is None:
        raise click.UsageError("give --out FILE, --database URL (or $LEADGATE_DATABASE_URL), or both")
    store = None
    if Path(model_ref).is_file():
        model = Model.read(Path(model_ref))
    elif database is not None:
        from leadgate.cli_service import _store
        from leadgate.store.trained_models import load_model

        store = _store(database)
        model = Model.from_dict(load_model(store, model_ref), f"{store.url}:{model_ref}")
    else:
        raise CalibrationError(f"no model file {model_ref!r}; to use a stored model by name give --database URL")
    from leadgate.calibrate import features as feat

    field_types = feat.load(feat.candidate_document(model.candidates(), model.carried())).field_types()
    if leads is None:
        from leadgate.calibrate.sources import store_dataset, store_url

        if (events or accounts) is not None:
            raise click.UsageError("--events and --accounts need --leads (or none: the store is read)")
        data = store_dataset(store_url(database), field_types)
    else:
        data = _read(leads, events, accounts, None, field_types)
    predictions = score(model, data, as_of)
    if out_path:
        write_predictions(predictions, out_path)
        out.print(f"{predictions.table.num_rows:,} predictions of {model.name} written to {out_path}", highlight=False)
    if database is not None:
        _record(store or _store_for(database), predictions)


@predict.command("show")
@click.argument("lead_id")
@click.option("--model", "model", help="Only this model's prediction.")
@database_option
@click.option("--json", "as_json", is_flag=True, help="Print the predictions as JSON.")
@reports_errors
def predict_show(lead_id: str, model: str | None, database: str | None, as_json: bool) -> None:
    """The latest prediction of each model for a lead of the store: probability, when it was scored, the
    model's version, and its top factors."""
    from leadgate.calibrate.sources import store_url
    from leadgate.errors import NotFoundError
    from leadgate.store.models import Lead
    from leadgate.store.predictions import latest_for_lead

    store = _store_for(store_url(database))
    with store.session() as s:
        if s.get(Lead, lead_id) is None:
            raise NotFoundError(f"no lead {lead_id!r} in {store.url}")
        found = latest_for_lead(s, lead_id, model)
    if as_json:
        click.echo(json.dumps({"lead_id": lead_id, "predictions": found}, indent=2))
        return
    if not found:
        which = f"of the model {model!r} " if model else ""
        out.print(f"no prediction {which}for {lead_id} (leadgate predict score --database records them)")
        return
    for p in found:
        version = f" {p['model_version']}" if p["model_version"] else ""
        out.print(
            f"{p['model']}{version}: {p['probability']:.3f}, scored {p['scored_at']}",
            highlight=False,
            markup=False,
        )
        for factor in p["factors"]:
            if isinstance(factor, dict):
                name = factor.get("label") or factor.get("factor")
                rule = f" ({factor['factor']})" if factor.get("label") and factor.get("factor") else ""
                weight = factor.get("weight")
                shown = f"{weight:+.3f}" if isinstance(weight, (int, float)) else "      "
                out.print(f"  {shown}  {name}{rule}", highlight=False, markup=False)
            else:
                out.print(f"  {factor}", highlight=False, markup=False)


def _store_for(database: str) -> Any:
    from leadgate.cli_service import _store

    return _store(database)


def _record(store: Any, predictions: Any) -> None:
    record = getattr(store, "record_predictions", None)
    if record is None:
        raise CalibrationError(
            "this store has no predictions table yet: write the predictions to a file with --out and score "
            "with leadgate score --predictions FILE"
        )
    record(predictions.rows())
    err.print(f"{predictions.table.num_rows:,} predictions recorded in {store.url}", highlight=False)


COMMANDS = [calibrate, predict]
