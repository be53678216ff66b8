"""YAML → Definition, with the position of every problem.

Four steps:

1. **Safe load.**  The YAML is composed into nodes (no tags beyond the standard scalar ones, so no
   arbitrary objects) and turned into plain data by ``_Builder``, which records the line and column of
   every key and value and rejects duplicate keys.
2. **Lists.**  ``lists:`` entries are read (inline, or ``{file: ...}`` beside the definition) and every
   ``{list: NAME}`` operand is filled with its values, because the models are frozen.
3. **Validation** into the pydantic models of ``model.py``.
4. **Problems.**  Every pydantic error is mapped back to its YAML node and becomes a ``Problem`` with
   ``file:line:col``, the key path, what was found and what was expected.  All problems are raised together
   in one ``DefinitionError``; a definition never produces a traceback.
"""

from __future__ import annotations

import math
import re
import types
import typing
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, TypeGuard

import yaml
from pydantic import BaseModel, ValidationError
from pydantic.json_schema import SkipJsonSchema

from leadgate.definition import model
from leadgate.definition.model import IDENT, SCHEMA_VERSION, Definition
from leadgate.definition.regex import check_portable_regex
from leadgate.errors import DefinitionError, Problem

#: A path into the document: mapping keys and list indexes, as pydantic reports them.
Loc = tuple[str | int, ...]
Pos = tuple[int, int]

#: The schema versions this leadgate reads.
SUPPORTED_SCHEMAS = (SCHEMA_VERSION,)
#: Predicate operators whose operand may be ``{list: NAME}``.
LIST_OPERANDS = frozenset({"in", "not_in", "starts_with", "ends_with", "contains"})
#: Limits that keep a hostile document (alias bombs, deep nesting) from hanging or crashing the loader.
MAX_NODES = 100_000
MAX_DEPTH = 64

_YAML = "tag:yaml.org,2002:"
_SCALAR_TAGS = frozenset(_YAML + t for t in ("str", "int", "float", "bool", "null", "timestamp"))


# -- 1. YAML → plain data with positions ----------------------------------------------------------------


def _mark(node: yaml.Node) -> Pos:
    return node.start_mark.line + 1, node.start_mark.column + 1


@dataclass
class _Positions:
    """1-based (line, col) of each value, and of each mapping key, by path."""

    values: dict[Loc, Pos] = field(default_factory=dict)
    keys: dict[Loc, Pos] = field(default_factory=dict)

    def of(self, loc: Loc, key: bool = False) -> Pos | None:
        """The position of ``loc`` (its key's with ``key=True``), else of its closest known parent."""
        if key and loc in self.keys:
            return self.keys[loc]
        while loc not in self.values:
            if not loc:
                return None
            loc = loc[:-1]
        return self.values[loc]


class _TooLarge(Exception):
    pass


class _Builder:
    """Turns a composed YAML node tree into plain data, recording positions and problems.

    ``reported`` holds the paths that already have a problem, so validation errors under them (which would
    only repeat it) are dropped.
    """

    def __init__(self, filename: str):
        self.filename = filename
        self.positions = _Positions()
        self.problems: list[Problem] = []
        self.reported: set[Loc] = set()
        self._constructor = yaml.constructor.SafeConstructor()
        self._nodes = 0
        self._open: set[int] = set()  # ids of the collection nodes being built (recursive aliases)

    def problem(
        self,
        loc: Loc,
        message: str,
        *,
        pos: Pos | None = None,
        found: str | None = None,
        expected: str | None = None,
        suppress: bool = False,
    ) -> None:
        """Record a problem at ``loc``; ``suppress`` drops later validation errors at or under it."""
        line, col = pos or self.positions.of(loc) or (None, None)
        key = _dotted(loc) or None
        self.problems.append(Problem(message, self.filename, line, col, key, found, expected))
        if suppress:
            self.reported.add(loc)

    def build(self, node: yaml.Node, loc: Loc = ()) -> Any:
        self._nodes += 1
        if self._nodes > MAX_NODES:
            raise _TooLarge(f"the document has more than {MAX_NODES} values (with aliases expanded)")
        self.positions.values[loc] = _mark(node)
        if isinstance(node, yaml.ScalarNode):
            return self._scalar(node, loc)
        if len(loc) > MAX_DEPTH:
            self.problem(loc, "nested too deeply", expected=f"at most {MAX_DEPTH} levels", suppress=True)
            return None
        if id(node) in self._open:
            self.problem(
                loc, "an alias refers to a node that contains it", expected="no recursive aliases", suppress=True
            )
            return None
        expected_tag = "map" if isinstance(node, yaml.MappingNode) else "seq"
        if node.tag != _YAML + expected_tag:
            self.problem(loc, f"unsupported YAML tag {node.tag}", expected="plain YAML: no tags", suppress=True)
            return None
        self._open.add(id(node))
        try:
            if isinstance(node, yaml.MappingNode):
                return self._mapping(node, loc, {}, {}, merging=False)
            return [self.build(item, (*loc, i)) for i, item in enumerate(node.value)]
        finally:
            self._open.discard(id(node))

    def _scalar(self, node: yaml.ScalarNode, loc: Loc) -> Any:
        if node.tag == _YAML + "value":  # YAML 1.1 reads a bare '=' as this tag; it is just text here
            return node.value
        if node.tag not in _SCALAR_TAGS:
            self.problem(loc, f"unsupported YAML tag {node.tag}", expected="plain YAML: no tags", suppress=True)
            return None
        try:
            value = self._constructor.construct_object(node)
        except (yaml.YAMLError, ValueError) as exc:
            found = _short(node.value)
            self.problem(loc, "not a valid YAML value", found=found, expected=str(exc).strip(), suppress=True)
            return None
        if isinstance(value, float) and not math.isfinite(value):
            self.problem(loc, "not a finite number", found=node.value, expected="a finite number", suppress=True)
            return None
        return value

    def _mapping(
        self, node: yaml.MappingNode, loc: Loc, out: dict[str, Any], seen: dict[str, Pos], *, merging: bool
    ) -> dict[str, Any]:
        """Fill ``out`` from ``node``.  Keys merged in with ``<<: *anchor`` come after the keys written in the
        mapping itself, which win (YAML's merge-key rule); ``merging`` skips keys already present."""
        merges: list[yaml.Node] = []
        for key_node, value_node in node.value:
            if key_node.tag == _YAML + "merge":
                merges.extend(value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node])
                continue
            key = self._key(key_node, loc)
            if key is None or (merging and key in seen):
                continue
            if key in seen:
                first = seen[key]
                self.problem(
                    (*loc, key),
                    "duplicate key",
                    pos=_mark(key_node),
                    found=f"'{key}' again",
                    expected=f"each key once; '{key}' is first at line {first[0]}, column {first[1]}",
                )
                continue
            seen[key] = _mark(key_node)
            self.positions.keys[(*loc, key)] = _mark(key_node)
            out[key] = self.build(value_node, (*loc, key))
        for source in merges:
            if not isinstance(source, yaml.MappingNode) or id(source) in self._open:
                self.problem(loc, "'<<' merges a mapping", pos=_mark(source), expected="<<: *a_mapping_anchor")
                continue
            self._open.add(id(source))
            self._mapping(source, loc, out, seen, merging=True)
            self._open.discard(id(source))
        return out

    def _key(self, node: yaml.Node, loc: Loc) -> str | None:
        key: Any = None
        if isinstance(node, yaml.ScalarNode) and node.tag in _SCALAR_TAGS:
            try:
                key = self._constructor.construct_object(node)
            except (yaml.YAMLError, ValueError):
                key = None
        # int keys are allowed for the levels (1, 2, 3); bool is an int subclass and is not.
        if isinstance(key, str) or (isinstance(key, int) and not isinstance(key, bool)):
            return str(key)
        if node.tag not in _SCALAR_TAGS:
            self.problem(loc, f"unsupported YAML tag {node.tag}", pos=_mark(node), expected="plain YAML: no tags")
            return None
        found = _short(node.value) if isinstance(node, yaml.ScalarNode) else "a list or mapping"
        expected = f"a name (quote {found}: YAML reads it as {str(key).lower()})" if isinstance(key, bool) else "a name"
        self.problem(loc, "a mapping key must be text", pos=_mark(node), found=found, expected=expected)
        return None


def _dotted(loc: Loc) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _short(value: Any, limit: int = 60) -> str:
    """A value as the YAML said it, shortened: 'text' quoted, null, true, 7, {key: value}, [a, b]."""
    if value is None or isinstance(value, bool):
        text = str(value).lower() if value is not None else "null"
    elif isinstance(value, date):
        text = value.isoformat()
    elif isinstance(value, (dict, list)):
        text = yaml.safe_dump(value, default_flow_style=True, width=1_000_000, sort_keys=False).strip()
    elif isinstance(value, str) and value.isprintable():  # YAML's single quotes: backslashes stay as written
        text = "'" + value.replace("'", "''") + "'"
    else:
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _at(data: Any, loc: Loc) -> Any:
    """The value at ``loc`` in the plain data, or None."""
    for part in loc:
        found = (isinstance(data, dict) and part in data) or (
            isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data)
        )
        if not found:
            return None
        data = data[part]
    return data


def _compose(text: str, b: _Builder) -> Any:
    """Plain data for ``text``; raises DefinitionError for text that is not YAML or not a mapping."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        message = f"not valid YAML: {exc.problem or exc.context or 'syntax error'}"
        if exc.context and exc.context_mark is not None and exc.problem:
            message += f" ({exc.context} at line {exc.context_mark.line + 1}, column {exc.context_mark.column + 1})"
        b.problem((), message, pos=(mark.line + 1, mark.column + 1) if mark else None)
        raise DefinitionError(b.problems) from None
    except yaml.YAMLError as exc:
        b.problem((), f"not valid YAML: {exc}")
        raise DefinitionError(b.problems) from None
    except RecursionError:
        b.problem((), "not valid YAML: nested too deeply")
        raise DefinitionError(b.problems) from None
    if not isinstance(root, yaml.MappingNode):
        message = "the definition is empty" if root is None else "a definition is a mapping"
        pos = _mark(root) if root is not None else (1, 1)
        b.problem((), message, pos=pos, expected="keys such as schema, name, qualify")
        raise DefinitionError(b.problems)
    try:
        data = b.build(root)
    except _TooLarge as exc:
        b.problem((), str(exc), pos=(1, 1))
        raise DefinitionError(b.problems) from None
    if not isinstance(data, dict):  # the root mapping itself was refused (a tag): that problem is reported
        raise DefinitionError(b.problems)
    return data


# -- 2. lists ---------------------------------------------------------------------------------------------

_COMMENT = re.compile(r"(^|\s)#.*$")


def _read_list_file(path: Path) -> list[str]:
    """One value per line; blank lines and ``#`` comments (whole-line, or after a space) are ignored."""
    lines = (_COMMENT.sub("", line).strip() for line in path.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line]


def _read_lists(data: dict[str, Any], base_dir: Path | None, b: _Builder) -> dict[str, list[Any]]:
    """Values of every named list.  A list that is defined but broken resolves to no values (its problem is
    reported once, where it is defined, not again at every use)."""
    lists = data.get("lists")
    resolved: dict[str, list[Any]] = {}
    if not isinstance(lists, dict):
        return resolved
    for name, spec in lists.items():
        resolved[name] = []
        if isinstance(spec, list):  # invalid members are reported where the list is defined, not at each use
            resolved[name] = [v for v in spec if isinstance(v, (bool, int, float, str))]
        elif isinstance(spec, dict) and isinstance(spec.get("file"), str):
            loc: Loc = ("lists", name, "file")
            if base_dir is None:
                b.problem(
                    loc,
                    "a list file needs the definition's own location",
                    found=_short(spec["file"]),
                    expected=f"the values inline ({name}: [a, b]) for a definition that is not read from a file",
                )
                continue
            path = base_dir / spec["file"]
            try:
                resolved[name] = _read_list_file(path)
            except OSError as exc:
                reason = exc.strerror or type(exc).__name__
                b.problem(
                    loc,
                    "cannot read list file",
                    found=_short(spec["file"]),
                    expected=f"a readable file ({reason}: {path})",
                )
            except UnicodeDecodeError:
                b.problem(loc, "list file is not UTF-8 text", found=_short(spec["file"]), expected="UTF-8 text")
    return resolved


def _resolve_list_refs(data: dict[str, Any], resolved: dict[str, list[Any]], b: _Builder) -> None:
    """Replace every ``{list: NAME}`` operand with ``{list: NAME, values: [...]}`` (models are frozen)."""
    known = ", ".join(sorted(resolved)) if resolved else "(no lists are defined under 'lists')"
    for loc, mapping in _mappings(data):
        for op in LIST_OPERANDS & mapping.keys():
            operand = mapping[op]
            if not isinstance(operand, dict) or "list" not in operand:
                continue
            here = (*loc, op)
            for extra in sorted(operand.keys() - {"list"}):  # 'values' included: the loader fills it
                where = b.positions.of((*here, extra), key=True)
                message = f"unknown key '{extra}'"
                b.problem((*here, extra), message, pos=where, found=f"'{extra}'", expected="one of the keys: list")
            name = operand["list"]
            if not isinstance(name, str):
                b.problem((*here, "list"), "wrong type", found=_short(name), expected="the name of a list")
            elif name not in resolved:
                b.problem((*here, "list"), "unknown list", found=_short(name), expected=f"one of: {known}")
            values = resolved.get(name, []) if isinstance(name, str) else []
            mapping[op] = {"list": name if isinstance(name, str) else "", "values": list(values)}


def _mappings(data: Any, loc: Loc = ()) -> Iterator[tuple[Loc, dict[str, Any]]]:
    """Every mapping in the document (outside the top-level ``lists``), in document order."""
    if isinstance(data, dict):
        yield loc, data
        for key, value in data.items():
            if loc or key != "lists":
                yield from _mappings(value, (*loc, key))
    elif isinstance(data, list):
        for i, item in enumerate(data):
            yield from _mappings(item, (*loc, i))


# -- 3./4. validation errors → problems -------------------------------------------------------------------

_CONDITION_MODELS = frozenset(model._COND_KEYS.values())
_TYPE_WORDS = {
    "float_type": "a number",
    "float_parsing": "a number",
    "finite_number": "a finite number",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "string_type": "text",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "list_type": "a list",
    "tuple_type": "a list",
    "iterable_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
}


@dataclass
class _Error:
    """A pydantic error with its location split into the document path and the union branches taken."""

    loc: Loc
    branches: list[tuple[Loc, str]]  # (where the union is, which member pydantic tried)
    kind: str
    msg: str
    ctx: dict[str, Any]
    input: Any
    is_key: bool  # the error is about a mapping key itself (pydantic's '[key]')
    parent: Any  # the type at loc[:-1], the mapping that holds the last part


def _strip(hint: Any) -> Any:
    """The type without Annotated metadata and without Optional's None."""
    while True:
        origin = typing.get_origin(hint)
        if origin is typing.Annotated:
            hint = typing.get_args(hint)[0]
        elif origin in (typing.Union, types.UnionType):
            members = [a for a in typing.get_args(hint) if a is not type(None)]
            if len(members) != 1:
                return hint
            hint = members[0]
        else:
            return hint


def _members(hint: Any) -> list[Any]:
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return [_strip(a) for a in typing.get_args(hint) if a is not type(None)]
    return []


def _is_model(hint: Any) -> TypeGuard[type[BaseModel]]:
    return isinstance(hint, type) and issubclass(hint, BaseModel)


def _member_label(member: Any) -> str:
    """The start of the label pydantic gives a union member in an error location."""
    origin = typing.get_origin(member)
    if origin is not None:
        return f"{origin.__name__}["
    return getattr(member, "__name__", str(member))


def _condition_model(node: Any) -> Any:
    if isinstance(node, dict):
        for key, cls in model._COND_KEYS.items():
            if key in node:
                return cls
    return None


def _field_hint(hint: Any, part: str | int) -> Any:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if _is_model(hint) and isinstance(part, str):
        for name, info in hint.model_fields.items():
            if part in (name, info.alias):
                return info.annotation
    elif origin is list and isinstance(part, int):
        return args[0]
    elif origin is tuple and isinstance(part, int) and args:
        return args[0] if len(args) == 2 and args[1] is Ellipsis else args[min(part, len(args) - 1)]
    elif origin is dict and isinstance(part, str):
        return args[1]
    return None


def _split(raw: Loc, data: Any) -> tuple[Loc, list[tuple[Loc, str]], bool, Any]:
    """Walk the model types along pydantic's ``raw`` location: the document path, the union branches it
    passed (pydantic puts a member label such as ``ListRef`` or ``list[str]`` in the location), whether it
    ends at a mapping key, and the type of the mapping holding the last part."""
    hint: Any = Definition
    loc: list[str | int] = []
    branches: list[tuple[Loc, str]] = []
    is_key = False
    parent: Any = None
    for part in raw:
        if part == "[key]":
            is_key = True
            continue
        hint = _strip(hint)
        members = _members(hint)
        if members and any(m in _CONDITION_MODELS for m in members):
            hint = _condition_model(_at(data, tuple(loc)))  # conditions are dispatched on their key
        elif members and isinstance(part, str):
            chosen = next((m for m in members if part.startswith(_member_label(m))), None)
            if chosen is not None:
                branches.append((tuple(loc), part))
                hint = chosen
                continue
        parent = _strip(hint)
        loc.append(part)
        hint = _field_hint(parent, part)
    return tuple(loc), branches, is_key, parent


def _errors(exc: ValidationError, data: Any) -> list[_Error]:
    out = []
    for err in exc.errors():
        loc, branches, is_key, parent = _split(tuple(err["loc"]), data)
        out.append(
            _Error(loc, branches, err["type"], err["msg"], dict(err.get("ctx") or {}), err.get("input"), is_key, parent)
        )
    return out


def _pick_branches(errors: list[_Error], data: Any, depth: int = 0) -> list[_Error]:
    """Of the errors from each union member, keep those of the member the value was evidently meant for
    (a mapping for a model, a list for a list); when there is none, one error naming every accepted type."""
    out = [e for e in errors if len(e.branches) <= depth]
    groups: dict[Loc, list[_Error]] = {}
    for e in errors:
        if len(e.branches) > depth:
            groups.setdefault(e.branches[depth][0], []).append(e)
    for point, group in groups.items():
        node = _at(data, point)
        labels = list(dict.fromkeys(e.branches[depth][1] for e in group))
        if isinstance(node, dict):
            meant = [label for label in labels if label[:1].isupper()]
        elif isinstance(node, list):
            meant = [label for label in labels if label.startswith(("list[", "tuple["))]
        else:
            meant = []
        if meant:
            out += _pick_branches([e for e in group if e.branches[depth][1] == meant[0]], data, depth + 1)
        else:
            words = sorted(dict.fromkeys(_label_word(label) for label in labels), key=lambda w: "mapping" in w)
            expected = ", ".join(words[:-1]) + f" or {words[-1]}" if len(words) > 1 else words[0]
            out.append(_Error(point, [], "union", "", {"expected": expected}, node, False, None))
    return out


def _label_word(label: str) -> str:
    if label.startswith(("list[", "tuple[")):
        return "a list"
    cls = getattr(model, label, None)
    if _is_model(cls):
        keys = [info.alias or name for name, info in cls.model_fields.items() if info.is_required()]
        return "a {" + ", ".join(f"{key}: ..." for key in keys) + "} mapping"
    return {"bool": "true or false", "int": "a whole number", "float": "a number", "str": "text"}.get(label, label)


def _keys_of(hint: Any) -> str | None:
    """The keys a model accepts in YAML (fields the loader fills, marked SkipJsonSchema, are not written)."""
    if not _is_model(hint):
        return None
    return ", ".join(info.alias or name for name, info in hint.model_fields.items() if not _internal(info.metadata))


def _internal(metadata: list[Any]) -> bool:
    return any(isinstance(m, SkipJsonSchema) for m in metadata)  # type: ignore[misc]  # a marker instance here


def _problem(e: _Error, data: Any, b: _Builder) -> None:
    """Report one validation error at its YAML node."""
    last = e.loc[-1] if e.loc else None
    found = _short(e.input)
    if e.kind == "extra_forbidden":
        allowed = _keys_of(e.parent)
        where = b.positions.of(e.loc, key=True)
        expected = f"one of the keys: {allowed}" if allowed else None
        b.problem(e.loc, f"unknown key '{last}'", pos=where, found=f"'{last}'", expected=expected)
    elif e.kind == "missing" and isinstance(last, int):
        size = len(typing.get_args(e.parent)) if typing.get_origin(e.parent) is tuple else last + 1
        b.problem(e.loc[:-1], "too few items", found=_short(_at(data, e.loc[:-1])), expected=f"{size} items")
    elif e.kind == "missing":
        b.problem(e.loc, f"missing required key '{last}'", pos=b.positions.of(e.loc[:-1]))
    elif e.kind in ("value_error", "assertion_error"):
        _validator_problem(e, data, b)
    elif e.is_key:
        expected = _pattern_word(e.ctx["pattern"]) if e.kind == "string_pattern_mismatch" else e.msg
        b.problem(e.loc, "invalid name", pos=b.positions.of(e.loc, key=True), found=f"'{last}'", expected=expected)
    elif e.kind == "union" or e.kind in _TYPE_WORDS:
        b.problem(e.loc, "wrong type", found=found, expected=e.ctx.get("expected") or _TYPE_WORDS[e.kind])
    elif e.kind == "string_pattern_mismatch":
        b.problem(e.loc, "invalid name", found=found, expected=_pattern_word(e.ctx["pattern"]))
    elif e.kind == "literal_error":
        b.problem(e.loc, "invalid value", found=found, expected=str(e.ctx["expected"]).replace("True", "true"))
    elif e.kind in ("too_short", "too_long"):
        bound = e.ctx.get("min_length") if e.kind == "too_short" else e.ctx.get("max_length")
        what = "at least" if e.kind == "too_short" else "at most"
        many = "too few" if e.kind == "too_short" else "too many"
        b.problem(e.loc, f"{many} items", found=found, expected=f"{what} {bound} item{'s' if bound != 1 else ''}")
    else:
        b.problem(e.loc, "invalid value", found=found, expected=e.msg.removeprefix("Input should be "))


def _pattern_word(pattern: str) -> str:
    if pattern == IDENT:
        return "a name: a lower-case letter, then lower-case letters, digits or _ (at most 40 characters)"
    return f"text matching {pattern}"


def _validator_problem(e: _Error, data: Any, b: _Builder) -> None:
    """A validator's ValueError.  Model-level ones are reported at the mapping that holds the model, or at
    the key inside it that they are about, when that can be told (see ``_culprit``)."""
    text = e.msg.removeprefix("Value error, ").removeprefix("Assertion failed, ")
    loc = e.loc
    if isinstance(_at(data, loc), dict):
        loc = _culprit(loc, text, data)
    message, _, expected = text.partition("; expected ")
    if not expected and message.startswith("expected "):
        message, expected = "invalid value", message.removeprefix("expected ")
    elif not expected:
        message, expected = "invalid value", text
    found = None if not loc else _short(_at(data, loc))
    b.problem(loc, message, found=found, expected=expected)


def _where(data: Any, test: Callable[[Loc, dict[str, Any]], str | None]) -> list[Loc]:
    """``(*path, key)`` for every mapping (not the root) where ``test`` names a key, in document order."""
    return [(*at, key) for at, d in _mappings(data) if at and (key := test(at, d)) is not None]


def _repeat(data: Any, items: Loc, key: str, also: frozenset[str] = frozenset()) -> Loc | None:
    """The first item of the list at ``items`` whose ``key`` repeats an earlier one (or is in ``also``)."""
    seen: set[Any] = set()
    for i, item in enumerate(_at(data, items) or []):
        value = item.get(key) if isinstance(item, dict) else None
        if value in seen or value in also:
            return (*items, i, key)
        seen.add(value)
    return None


def _mixed(operand: Any) -> bool:
    values = operand.get("values", []) if isinstance(operand, dict) else operand
    return isinstance(values, list) and len({type(v) if isinstance(v, (bool, str)) else float for v in values}) > 1


def _nth(locs: list[Loc], n: int) -> Loc | None:
    return locs[min(n, len(locs) - 1)] if locs else None


def _repeated_id(m: re.Match[str], data: Any) -> Loc | None:
    rules = _where(data, lambda at, d: "id" if len(at) == 2 and at[0] in ("fit", "engagement") else None)
    return _nth([loc for loc in rules if _at(data, loc) == m[1]], 1)


def _key_equal(key: str, group: int, n: int = 0) -> Callable[[re.Match[str], Any], Loc | None]:
    """The ``n``-th mapping whose ``key`` is the text of the message's ``group``: at that key."""
    return lambda m, data: _nth(_where(data, lambda _at, d: key if d.get(key) == m[group] else None), n)


def _has(mapping: dict[str, Any], key: str) -> str | None:
    return key if key in mapping else None


def _field_named(n: int) -> Callable[[re.Match[str], Any], Loc | None]:
    """The ``n``-th predicate testing the field the message names, at its ``trait`` or ``property``."""

    def find(m: re.Match[str], data: Any) -> Loc | None:
        return _nth(_where(data, lambda _at, d: next((k for k in ("trait", "property") if d.get(k) == m[1]), None)), n)

    return find


def _mixed_operand(m: re.Match[str], data: Any) -> Loc | None:
    return _nth(_where(data, lambda _at, d: m[1] if _mixed(d.get(m[1])) else None), 0)


#: Definition-wide checks (``Definition._cross_checks``) name what they are about; each finds that place.
_CROSS_CHECKS: list[tuple[str, Callable[[re.Match[str], Any], Loc | None]]] = [
    (r"rule ids must be unique; repeated: (\w+)", _repeated_id),
    (r"rule '(\w+)' names group", lambda m, data: _at_key(_key_equal("id", 1)(m, data), "group")),
    (r"group '(\w+)' mixes", lambda m, data: _key_equal("group", 1, -1)(m, data)),
    (r"(require|disqualify): reason codes", lambda m, data: _repeat(data, (m[1],), "reason")),
    (r"qualify\.paths: names", lambda m, data: _repeat(data, ("qualify", "paths"), "name", frozenset({"score"}))),
    (r"signal '(\w+)' names no", _key_equal("signal", 1)),
    (r"'account_qualified' needs", lambda m, data: _nth(_where(data, lambda _at, d: _has(d, "account_qualified")), 0)),
    (r"'(account_engagement)' needs", _key_equal("score", 1)),
    (r"'([\w.]+)' is a reserved column", _field_named(0)),
    (r"'([\w.]+)' is tested both", _field_named(1)),
    (r"(\w+): mixes values of types", _mixed_operand),
]


def _at_key(loc: Loc | None, key: str) -> Loc | None:
    return (*loc[:-1], key) if loc else None


#: Every key a model defines: a validator message that begins with one is about that key.
_FIELD_KEYS = frozenset(
    info.alias or name
    for cls in vars(model).values()
    if _is_model(cls) and cls.__module__ == model.__name__
    for name, info in cls.model_fields.items()
)


def _culprit(loc: Loc, text: str, data: Any) -> Loc:
    """Where a model-level validator error belongs, when that can be told: the key the message begins with
    (``'where' tests…``, ``between: …``, ``ignore_case does…``), a ``matches`` pattern that fails the regex
    check, or for the definition-wide checks the place ``_CROSS_CHECKS`` finds.  Else the mapping itself."""
    mapping = _at(data, loc)
    first = re.match(r"'?(\w+)'?:? ", text)
    if loc and first and first[1] in _FIELD_KEYS and first[1] in mapping:
        return (*loc, first[1])
    if isinstance(mapping.get("matches"), str):
        try:
            check_portable_regex(mapping["matches"])
        except ValueError:
            return (*loc, "matches")
    for pattern, find in _CROSS_CHECKS if not loc else []:
        m = re.match(pattern, text)
        if m:
            return find(m, data) or loc
    return loc


def _check_schema_version(data: dict[str, Any], b: _Builder) -> None:
    """A document for another schema version would only produce misleading problems: stop at this one."""
    version = data.get("schema", SCHEMA_VERSION)
    if type(version) is not int or version not in SUPPORTED_SCHEMAS:
        supported = ", ".join(map(str, SUPPORTED_SCHEMAS))
        b.problem(
            ("schema",),
            "unsupported schema version",
            found=_short(version),
            expected=f"schema: {SCHEMA_VERSION} (this leadgate reads schema versions: {supported})",
        )
        raise DefinitionError(_sorted(b.problems))


def _already_reported(e: _Error, reported: set[Loc]) -> bool:
    """The error is at or under a value already reported, or a model-level validator that ran on one (it
    saw a placeholder, so what it says is not to be trusted)."""
    if any(e.loc[: len(done)] == done for done in reported):
        return True
    return e.kind in ("value_error", "assertion_error") and any(done[: len(e.loc)] == e.loc for done in reported)


def _sorted(problems: list[Problem]) -> list[Problem]:
    return sorted(dict.fromkeys(problems), key=lambda p: (p.line or 0, p.col or 0))


# -- public -----------------------------------------------------------------------------------------------


def parse_definition(text: str, filename: str = "<string>", base_dir: Path | None = None) -> Definition:
    """Validate YAML ``text`` into a Definition; raise DefinitionError with every problem found.

    ``filename`` names the text in problems.  List files (``lists: {x: {file: ...}}``) are read relative to
    ``base_dir``; without one (text that did not come from a file, such as a definition pushed over HTTP)
    they are refused, so a definition can never read files on the machine that loads it.
    """
    b = _Builder(filename)
    data = _compose(text, b)
    _check_schema_version(data, b)
    _resolve_list_refs(data, _read_lists(data, base_dir, b), b)
    try:
        defn = Definition.model_validate(data)
    except ValidationError as exc:
        for e in _pick_branches(_errors(exc, data), data):
            if not _already_reported(e, b.reported):
                _problem(e, data, b)
        raise DefinitionError(_sorted(b.problems)) from None
    if b.problems:
        raise DefinitionError(_sorted(b.problems))
    return defn


def load_definition(source: str | Path, *, text: str | None = None) -> Definition:
    """Load the definition file ``source``, or ``text`` reported under the name ``source``.

    List files are read from the folder of ``source``.
    """
    path = Path(source)
    if text is None:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            problem = Problem("cannot read the definition", file=str(source), expected=f"a readable file ({reason})")
            raise DefinitionError([problem]) from None
        except UnicodeDecodeError as exc:
            problem = Problem("the definition is not UTF-8 text", file=str(source), found=f"byte {exc.start}")
            raise DefinitionError([problem]) from None
    return parse_definition(text, filename=str(source), base_dir=path.parent)
