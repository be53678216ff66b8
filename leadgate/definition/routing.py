"""The routing file: teams, ordered routes with SLAs, sales reason codes and the auto-recycle setting.

It lives beside the MQL definition in its own YAML file (``examples/routing/default.yaml``) and is versioned in the
store like definitions; it never changes scoring.  Read with the definition loader's machinery, so every
problem comes back as ``file:line:col``, key, found, expected.  ``docs/lifecycle.md`` describes it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Union

from pydantic import Field, ValidationError, model_validator

from leadgate.definition import loader
from leadgate.definition.model import Duration, Ident, Scalar, Strict
from leadgate.errors import DefinitionError, Problem

SCHEMA_VERSION = 1
MQL_TYPES = ("new", "reactivated", "manual", "fit", "intent", "product_led", "sales_led")
DEFAULT_REJECT = ("not_a_fit", "no_budget", "competitor", "student", "spam", "duplicate", "bad_data", "other")
DEFAULT_RECYCLE = ("not_now", "no_response", "nurture", "timing", "other")

Values = list[Scalar]


class Team(Strict):
    """People who take leads in turn; a team without members is a queue (no owner)."""

    members: list[str] = []
    assign: Literal["round_robin", "least_loaded"] = "round_robin"


class RouteWhen(Strict):
    """What a lead must match; every key given must hold, and a list means any of its values."""

    grade: list[Literal["A", "B", "C", "D"]] | None = None
    min_fit: float | None = None
    min_score: float | None = None
    mql_type: list[Literal["new", "reactivated", "manual", "fit", "intent", "product_led", "sales_led"]] | None = None
    signal: list[str] | None = None
    source: Values | None = None
    medium: Values | None = None
    campaign: Values | None = None
    channel: Values | None = None
    country: Values | None = None
    segment: Values | None = None
    traits: dict[str, Values] | None = None


class Route(Strict):
    name: Ident
    when: RouteWhen = RouteWhen()
    team: Ident
    sla: Duration | None = None
    description: str | None = None


class Lifecycle(Strict):
    recycle_unaccepted_after: Duration | None = None


class Reasons(Strict):
    reject: list[Ident] = list(DEFAULT_REJECT)
    recycle: list[Ident] = list(DEFAULT_RECYCLE)
    move: list[Ident] | None = None  # None: any reason code is accepted for an explicit move


class Routing(Strict):
    schema_: Literal[1] = Field(alias="schema")
    name: Ident
    version: Union[int, str]
    description: str | None = None
    teams: dict[Ident, Team] = {}
    routes: list[Route] = []
    lifecycle: Lifecycle = Lifecycle()
    reasons: Reasons = Reasons()

    @model_validator(mode="after")
    def _cross_checks(self) -> Routing:
        names = [r.name for r in self.routes]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"route names must be unique; repeated: {', '.join(dupes)}")
        for route in self.routes:
            if route.team not in self.teams:
                raise ValueError(f"route '{route.name}' names team '{route.team}', which 'teams' does not define")
        return self

    @property
    def version_str(self) -> str:
        return str(self.version)


#: What applies when no routing file is active: default reason codes, no routes, no auto-recycle.
DEFAULT = Routing.model_validate({"schema": 1, "name": "default", "version": 0})


def parse_routing(text: str, filename: str = "<string>") -> Routing:
    """Validate YAML ``text`` into a Routing; raise DefinitionError with every problem found."""
    b = loader._Builder(filename)
    data = loader._compose(text, b)
    try:
        routing = Routing.model_validate(data)
    except ValidationError as exc:
        for e in loader._pick_branches(loader._errors(exc, data), data):
            if not loader._already_reported(e, b.reported):
                loader._problem(e, data, b)
        raise DefinitionError(loader._sorted(b.problems)) from None
    if b.problems:
        raise DefinitionError(loader._sorted(b.problems))
    return routing


def load_routing(source: str | Path) -> Routing:
    path = Path(source)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DefinitionError([Problem("cannot read the routing file", file=str(source), found=str(exc))]) from None
    return parse_routing(text, filename=str(source))
