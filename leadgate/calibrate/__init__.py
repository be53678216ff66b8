"""Definitions that learn from outcomes: calibration (a proposed definition with integer points and a
threshold, measured on held-out leads) and predictive scores.  See docs/calibration.md."""

from leadgate.calibrate.current import Current
from leadgate.calibrate.outcomes import Outcomes, read_outcomes
from leadgate.calibrate.pipeline import Calibration, Settings, calibrate

__all__ = ["Calibration", "Current", "Outcomes", "Settings", "calibrate", "read_outcomes"]
