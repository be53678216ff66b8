"""leadgate: MQL definitions compiled to SQL, identical on SQLite, DuckDB, PostgreSQL and Spark."""

__version__ = "0.1.0"
