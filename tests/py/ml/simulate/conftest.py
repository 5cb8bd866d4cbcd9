from __future__ import annotations

from pathlib import Path

import pytest

from slotoptim.ml.simulate.durations import DurationShape, default_duration_file, load_service_minutes


@pytest.fixture(scope="session")
def hangu_file() -> Path:
    path = default_duration_file()
    if not path.exists():
        pytest.skip(f"shared data not found at {path}; set SLOTOPTIM_SHARED_DATA")
    return path


@pytest.fixture(scope="session")
def hangu_shape(hangu_file: Path) -> DurationShape:
    return DurationShape.from_minutes(load_service_minutes(hangu_file))
