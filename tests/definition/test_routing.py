"""Routing files: the example loads; every problem comes back with file:line:col, key, found, expected."""

from __future__ import annotations

import pytest

from leadgate.definition.routing import DEFAULT, load_routing, parse_routing
from leadgate.errors import DefinitionError
from tests.conftest import EXAMPLES


def test_the_example_loads() -> None:
    routing = load_routing(EXAMPLES / "routing" / "default.yaml")
    assert [r.name for r in routing.routes] == ["demo_request", "enterprise", "product_led", "default"]
    assert routing.routes[0].sla == 300 and routing.routes[-1].sla == 86400
    assert routing.teams["ae_enterprise"].assign == "least_loaded"
    assert routing.lifecycle.recycle_unaccepted_after == 14 * 86400
    assert "no_budget" in routing.reasons.reject


def test_defaults_without_a_file() -> None:
    assert DEFAULT.routes == [] and DEFAULT.lifecycle.recycle_unaccepted_after is None
    assert "not_now" in DEFAULT.reasons.recycle and DEFAULT.reasons.move is None


def problems(text: str) -> list[str]:
    with pytest.raises(DefinitionError) as info:
        parse_routing(text, filename="r.yaml")
    return [str(p) for p in info.value.problems]


def test_problems_have_positions() -> None:
    found = problems(
        "schema: 1\nname: r\nversion: 1\nteams: {sdr: {members: [a], assign: random}}\n"
        "routes:\n  - name: x\n    team: sdr\n    sla: 5x\n    when: {grade: [E], colour: [red]}\n"
    )
    assert found == [
        "r.yaml:4:37: teams.sdr.assign: invalid value (found 'random'; expected 'round_robin' or 'least_loaded')",
        "r.yaml:8:10: routes[0].sla: '5x' is not a duration (found '5x'; expected forms like '90s', '30m', '12h', "
        "'7d', '2w')",
        "r.yaml:9:20: routes[0].when.grade[0]: invalid value (found 'E'; expected 'A', 'B', 'C' or 'D')",
        "r.yaml:9:24: routes[0].when.colour: unknown key 'colour' (found 'colour')",
    ]


def test_routes_name_teams_that_exist_once() -> None:
    (missing,) = problems("schema: 1\nname: r\nversion: 1\nroutes:\n  - {name: x, team: ghost}\n")
    assert "route 'x' names team 'ghost', which 'teams' does not define" in missing
    (twice,) = problems(
        "schema: 1\nname: r\nversion: 1\nteams: {t: {}}\nroutes:\n  - {name: x, team: t}\n  - {name: x, team: t}\n"
    )
    assert "route names must be unique; repeated: x" in twice
