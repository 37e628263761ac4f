"""Generate a clean synthetic university, deterministic for a seed.

``generate_university(scale, seed, at)`` draws everything from one
``random.Random(seed)`` in a fixed order (never the global generator), so the
same seed gives the same rows. "Clean" means consistent with the sync-rule
model: no refusal but the deliberate ones (outgoing exchange students), and
Moodle exactly as lmsjonction would leave it.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime

from detectors.model import DEFAULT_CONFIG, ModelConfig
from monitor.simulation.academic import AcademicCalendar
from monitor.simulation.generate_ade import generate_ade
from monitor.simulation.generate_moodle import generate_moodle
from monitor.simulation.generate_offer import generate_offer, make_groups
from monitor.simulation.generate_people import (
    assign_groups,
    generate_staff,
    generate_students,
    ip_counts,
)
from monitor.simulation.scale import Scale, scale_named
from monitor.simulation.seed_cases import add_seed_cases
from monitor.simulation.university import University

GENERATION_STEPS = ("offer", "students", "groups", "staff", "ade", "seed cases", "moodle")

StepCallback = Callable[[str], None]


def generate_university(
    scale: Scale | str,
    seed: int,
    at: datetime,
    config: ModelConfig = DEFAULT_CONFIG,
    on_step: StepCallback | None = None,
) -> University:
    """A clean university as of ``at`` (timezone-aware); ``on_step`` is told each finished step."""
    if isinstance(scale, str):
        scale = scale_named(scale)
    if at.tzinfo is None:
        raise ValueError("the generation time must be timezone-aware")
    rng = random.Random(seed)
    cal = AcademicCalendar.around(at, config)
    uni = University(seed, scale.name)

    def done(step: str) -> None:
        if on_step is not None:
            on_step(step)

    generate_offer(uni, scale, rng, cal, at)
    done("offer")
    registrations = generate_students(uni, scale, rng, cal, at)
    done("students")
    presential, distant = ip_counts(registrations, uni)
    make_groups(uni, at, presential, distant, scale.students_per_group)
    assign_groups(uni, registrations, at)
    del registrations
    done("groups")
    generate_staff(uni, scale, rng, at)
    done("staff")
    generate_ade(uni, scale, rng, cal, at)
    done("ade")
    add_seed_cases(uni, cal, at)
    done("seed cases")
    generate_moodle(uni, scale, rng, cal, at, config)
    done("moodle")
    return uni
