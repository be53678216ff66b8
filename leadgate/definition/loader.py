"""YAML → Definition, with the position of every problem.

Safe load of the node tree (no arbitrary tags), duplicate keys rejected, named lists resolved (inline or
from a file beside the definition), then pydantic validation.  Every problem becomes a ``Problem`` with
``file:line:col``, the key path, what was found and what was expected; all of them are raised together
in one ``DefinitionError``.
"""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from leadgate.definition import model
from leadgate.definition.model import SCHEMA_VERSION, Definition
from leadgate.errors import DefinitionError, Problem

Loc = tuple[str | int, ...]
LIST_OPERANDS = frozenset({"in", "not_in", "starts_with", "ends_with", "contains"})


@dataclass
class _Positions:
    """1-based (line, col) of each value, and of each mapping key, by path."""

    values: dict[Loc, tuple[int, int]] = field(default_factory=dict)
    keys: dict[Loc, tuple[int, int]] = field(default_factory=dict)

    def of(self, loc: Loc, key: bool = False) -> tuple[int, int] | None:
        """The closest known position of ``loc`` (walking up to its parents)."""
        while True:
            table = self.keys if key and loc in self.keys else self.values
            if loc in table:
                return table[loc]
            if not loc:
                return None
            loc = loc[:-1]


def _mark(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


class _Builder:
    """Turns a composed YAML node tree into plain data, recording positions and duplicate keys."""

    def __init__(self, filename: str):
        self.filename = filename
        self.positions = _Positions()
        self.problems: list[Problem] = []
        self.constructor = yaml.constructor.SafeConstructor()

    def build(self, node: yaml.Node, loc: Loc = ()) -> Any:
        self.positions.values[loc] = _mark(node)
        if isinstance(node, yaml.MappingNode):
            out: dict[Any, Any] = {}
            seen: dict[Any, yaml.Node] = {}
            for key_node, value_node in node.value:
                key = self.constructor.construct_object(key_node)
                if not isinstance(key, (str, int)):
                    self.problems.append(
                        self.problem(_mark(key_node), loc, "a mapping key must be text", found=repr(key))
                    )
                    continue
                key = str(key)
                if key in seen:
                    first = _mark(seen[key])
                    self.problems.append(
                        self.problem(
                            _mark(key_node),
                            (*loc, key),
                            "duplicate key",
                            found=f"'{key}' again",
                            expected=f"one '{key}' (first at line {first[0]}, column {first[1]})",
                        )
                    )
                    continue
                seen[key] = key_node
                self.positions.keys[(*loc, key)] = _mark(key_node)
                out[key] = self.build(value_node, (*loc, key))
            return out
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*loc, i)) for i, item in enumerate(node.value)]
        return self.constructor.construct_object(node)

    def problem(
        self,
        pos: tuple[int, int] | None,
        loc: Loc,
        message: str,
        *,
        found: str | None = None,
        expected: str | None = None,
    ) -> Problem:
        line, col = pos if pos else (None, None)
        return Problem(
            message=message,
            file=self.filename,
            line=line,
            col=col,
            key=_dotted(loc) or None,
            found=found,
            expected=expected,
        )


def _dotted(loc: Loc) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _read_list_file(path: Path) -> list[str]:
    values = []
    for line in path.read_text(encoding="utf-8").splitlines():
        item = line.split("#", 1)[0].strip()
        if item:
            values.append(item)
    return values


def _resolve_lists(data: dict[str, Any], base_dir: Path | None, b: _Builder) -> None:
    """Read list files and fill ``{list: NAME}`` operands with their values, before validation."""
    lists = data.get("lists")
    resolved: dict[str, list[Any]] = {}
    if isinstance(lists, dict):
        for name, spec in lists.items():
            if isinstance(spec, dict) and set(spec) == {"file"} and isinstance(spec["file"], str):
                path = (base_dir or Path.cwd()) / spec["file"]
                try:
                    resolved[name] = _read_list_file(path)
                except OSError as exc:
                    loc: Loc = ("lists", name, "file")
                    b.problems.append(
                        b.problem(
                            b.positions.of(loc),
                            loc,
                            "cannot read list file",
                            found=str(path),
                            expected=f"a readable file ({exc.strerror})",
                        )
                    )
            elif isinstance(spec, list):
                resolved[name] = spec

    def visit(value: Any, loc: Loc) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if key in LIST_OPERANDS and isinstance(item, dict) and set(item) == {"list"}:
                    name = item["list"]
                    if name in resolved:
                        item["values"] = list(resolved[name])
                    else:
                        where = (*loc, key, "list")
                        known = ", ".join(sorted(resolved)) or "none are defined under 'lists'"
                        b.problems.append(
                            b.problem(
                                b.positions.of(where),
                                where,
                                "unknown list",
                                found=_short(name),
                                expected=f"one of: {known}",
                            )
                        )
                        item["values"] = []
                elif key != "lists" or loc:
                    visit(item, (*loc, key))
        elif isinstance(value, list):
            for i, item in enumerate(value):
                visit(item, (*loc, i))

    visit(data, ())


def _allowed_keys(data: Any, loc: Loc) -> str | None:
    """The keys allowed where an unknown key was found, by walking the model types along ``loc``."""
    hint: Any = Definition
    node: Any = data
    for part in loc[:-1]:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return None
        hint = _child_hint(hint, part, node)
    target = _resolve(hint, node)
    if isinstance(target, type) and issubclass(target, BaseModel):
        return ", ".join(f.alias or name for name, f in target.model_fields.items())
    return None


def _resolve(hint: Any, node: Any) -> Any:
    """A type hint narrowed to the one model that describes ``node`` (conditions by their key)."""
    origin = typing.get_origin(hint)
    if origin is typing.Annotated:
        return _resolve(typing.get_args(hint)[0], node)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(hint) if a is not type(None)]
        models = [a for a in options if isinstance(a, type) and issubclass(a, BaseModel)]
        if isinstance(node, dict) and models:
            if any(m in _CONDITION_MODELS for m in models):
                return _condition_model(node)
            return models[0]
        if isinstance(node, list):
            return next((a for a in options if typing.get_origin(a) is list), hint)
        return hint
    return hint


def _child_hint(hint: Any, part: str | int, node: Any) -> Any:
    hint = _resolve(hint, node if not isinstance(part, int) else [node])
    origin = typing.get_origin(hint)
    if isinstance(part, int) and origin is list:
        return typing.get_args(hint)[0]
    if isinstance(part, str) and origin is dict:
        return typing.get_args(hint)[1]
    if isinstance(part, str) and isinstance(hint, type) and issubclass(hint, BaseModel):
        for name, f in hint.model_fields.items():
            if part in (name, f.alias):
                return f.annotation
    return None


_CONDITION_MODELS = frozenset(model._COND_KEYS.values())


def _condition_model(node: dict[str, Any]) -> Any:
    for key, cls in model._COND_KEYS.items():
        if key in node:
            return cls
    if "property" in node:
        return model.Predicate
    return None


def _problems_from(exc: ValidationError, data: Any, b: _Builder) -> list[Problem]:
    problems = []
    for err in exc.errors():
        loc: Loc = tuple(err["loc"])
        kind = err["type"]
        found = _short(err.get("input"))
        if kind == "extra_forbidden":
            allowed = _allowed_keys(data, loc)
            problems.append(
                b.problem(
                    b.positions.of(loc, key=True),
                    loc,
                    f"unknown key '{loc[-1]}'",
                    found=f"'{loc[-1]}'",
                    expected=f"one of the keys: {allowed}" if allowed else None,
                )
            )
        elif kind == "missing":
            problems.append(b.problem(b.positions.of(loc[:-1]), loc, f"missing required key '{loc[-1]}'"))
        elif kind in ("value_error", "assertion_error"):
            message = str(err["msg"]).removeprefix("Value error, ").removeprefix("Assertion failed, ")
            problems.append(b.problem(b.positions.of(loc), loc, "invalid value", found=found, expected=message))
        elif kind == "literal_error" and loc == ("schema",):
            problems.append(
                b.problem(
                    b.positions.of(loc),
                    loc,
                    "unsupported schema version",
                    found=found,
                    expected=f"schema: {SCHEMA_VERSION} (the versions this leadgate reads)",
                )
            )
        else:
            problems.append(
                b.problem(
                    b.positions.of(loc),
                    loc,
                    "wrong value",
                    found=found,
                    expected=str(err["msg"]).removeprefix("Input should be "),
                )
            )
    return problems


def parse_definition(text: str, filename: str = "<string>", base_dir: Path | None = None) -> Definition:
    """Validate YAML text into a Definition; raise DefinitionError with every problem found."""
    b = _Builder(filename)
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        pos = (mark.line + 1, mark.column + 1) if mark else None
        raise DefinitionError([b.problem(pos, (), f"not valid YAML: {exc.problem or exc}")]) from None
    except yaml.YAMLError as exc:
        raise DefinitionError([b.problem(None, (), f"not valid YAML: {exc}")]) from None
    if root is None or not isinstance(root, yaml.MappingNode):
        pos = _mark(root) if root is not None else (1, 1)
        raise DefinitionError(
            [
                b.problem(
                    pos,
                    (),
                    "a definition is a mapping",
                    expected="keys such as schema, name, version, fit, engagement, qualify",
                )
            ]
        )
    data = b.build(root)
    _resolve_lists(data, base_dir, b)
    try:
        defn = Definition.model_validate(data)
    except ValidationError as exc:
        problems = b.problems + _problems_from(exc, data, b)
        problems.sort(key=lambda p: (p.line or 0, p.col or 0))
        raise DefinitionError(problems) from None
    if b.problems:
        raise DefinitionError(b.problems)
    return defn


def load_definition(source: str | Path, *, text: str | None = None) -> Definition:
    """Load a definition file (or ``text``, reported under the name ``source``)."""
    path = Path(source)
    if text is None:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise DefinitionError(
                [Problem(message=f"cannot read definition ({exc.strerror})", file=str(path))]
            ) from None
    return parse_definition(text, filename=str(source), base_dir=path.parent)
