"""Shared simulations for the simulator's tests: built once per session, they take seconds.

The files using them are one xdist group (tests/fixtures/groups.py, "simulation"),
so one worker builds each.
"""

from __future__ import annotations

import pytest
from simulation_fixtures import SNAPSHOT, PlayedSimulation

from monitor.simulation import FaultConfig, Simulation, University, generate_university


@pytest.fixture(scope="session")
def clean_small() -> University:
    """The ``small`` university, seed 7, no fault: only read it."""
    return generate_university("small", 7, SNAPSHOT)


@pytest.fixture(scope="session")
def clean_tiny() -> University:
    """The ``tiny`` university, seed 7, no fault: only read it."""
    return generate_university("tiny", 7, SNAPSHOT)


@pytest.fixture(scope="session")
def every_fault_tiny() -> PlayedSimulation:
    """``tiny``, seed 3, one of every fault kind (run faults included), over 8 nights."""
    return PlayedSimulation(Simulation("tiny", seed=3, nights=8, faults=FaultConfig.every_kind(1)))


@pytest.fixture(scope="session")
def clean_nights_tiny() -> PlayedSimulation:
    """``tiny``, seed 5, no fault, 4 nights of ordinary traffic."""
    return PlayedSimulation(Simulation("tiny", seed=5, nights=4, faults=FaultConfig.none()))
