"""Definitions: YAML → typed model, with positions for errors."""
