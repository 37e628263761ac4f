"""Every detector of DOMAIN.md's table that exists, in one place."""

from __future__ import annotations

from detectors import course_archived
from detectors.base import Detector, Moment

DETECTORS: tuple[Detector, ...] = (course_archived.DETECTOR,)


def detectors_for(moment: Moment) -> tuple[Detector, ...]:
    return tuple(d for d in DETECTORS if moment in d.moments)
