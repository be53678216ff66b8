"""Generated data for calibration tests (never real data): the simulation's latent fit and intent are
what calibration should recover.  Calibrations are run once per session and shared."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from leadgate.calibrate import Calibration, Current, Settings, calibrate, read_outcomes
from leadgate.calibrate.outcomes import Outcomes, outcomes_from_table
from leadgate.generate import Simulation, generate, simulate
from leadgate.inputs.dataset import Dataset
from leadgate.inputs.readers import read_dataset
from tests.conftest import EXAMPLES

LEADS = 8000
SEED = 11
CLASSIC = EXAMPLES / "classic.yaml"
END = 1793491200.0  # 2026-11-01T00:00:00Z, the generator's default end


@dataclass
class World:
    folder: Path
    sim: Simulation
    current: Current
    data: Dataset

    def outcomes(self, outcome: str = "sql") -> Outcomes:
        return read_outcomes(self.folder / "outcomes.parquet", outcome)


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    folder = tmp_path_factory.mktemp("calibration_world")
    generate(folder, leads=LEADS, seed=SEED, fmt="parquet")
    current = Current.load(CLASSIC)
    data = read_dataset(
        folder / "leads.parquet",
        folder / "events.parquet",
        folder / "accounts.parquet",
        field_types=current.definition.field_types(),
        all_columns=True,
    )
    return World(folder, simulate(leads=LEADS, seed=SEED), current, data)


@pytest.fixture(scope="session")
def timed(world: World) -> Calibration:
    """Honest timing: features as of 90 days before the end, SQLs in the 90 days after; 20 MQLs a week."""
    return calibrate(world.current, world.data, world.outcomes(), Settings(horizon=90 * 86400.0, capacity=20))


@pytest.fixture(scope="session")
def untimed(world: World) -> Calibration:
    """Outcomes without times (whether each lead ever became an SQL), features as of the end."""
    flags = outcomes_from_table(world.sim.outcomes.select(["lead_id", "became_sql"]), "sql")
    return calibrate(world.current, world.data, flags, Settings(as_of=END))
