"""Shared samples: simulated runs of every mode, made once per test session."""

import pytest

from curvebench.simulator import SCENARIOS, simulate_many

RUNS_PER_MODE = 16


@pytest.fixture(scope="session")
def runs_by_mode():
    """``mode -> RunSet`` of ``RUNS_PER_MODE`` runs, 800 steps each, severities drawn."""
    return {
        mode: simulate_many(RUNS_PER_MODE, labels=[s.label], modes=[mode], seed=2024, steps=800)
        for mode, s in SCENARIOS.items()
    }
