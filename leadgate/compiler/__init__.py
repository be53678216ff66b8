"""Definition → SQL.  Pure: no connection is ever opened here."""

from leadgate.compiler.query import CompiledQuery, Layout, TableNames, as_of_epoch, compile_definition
from leadgate.compiler.sqlbuild import DIALECTS, ENGINE_DIALECTS

__all__ = ["DIALECTS", "ENGINE_DIALECTS", "CompiledQuery", "Layout", "TableNames", "as_of_epoch", "compile_definition"]
