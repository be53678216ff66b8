"""leadgate: MQL definitions compiled to SQL, identical on SQLite, DuckDB, PostgreSQL and Spark.

>>> import leadgate
>>> run = leadgate.score("examples/classic.yaml", leads="leads.csv", events="events.csv")
>>> run.summary.mqls
"""

from leadgate.api import ScoreRun, compile_sql, read_inputs, score
from leadgate.definition.loader import load_definition
from leadgate.definition.model import Definition
from leadgate.errors import DefinitionError, InputError, LeadgateError
from leadgate.result import LeadScore

__version__ = "0.1.0"

__all__ = [
    "Definition",
    "DefinitionError",
    "InputError",
    "LeadScore",
    "LeadgateError",
    "ScoreRun",
    "compile_sql",
    "load_definition",
    "read_inputs",
    "score",
]
