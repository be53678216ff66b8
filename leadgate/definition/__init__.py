"""Definitions: YAML → typed model, with positions for errors."""

from leadgate.definition.loader import load_definition, parse_definition
from leadgate.definition.model import Definition

__all__ = ["Definition", "load_definition", "parse_definition"]
