"""Input files (CSV, JSON Lines, Parquet, Segment JSON) → normalized Dataset."""
