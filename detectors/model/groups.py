"""Moodle group memberships against the groups APOGÉE implies (R3.2, R4, R5).

Seed, FAQ "Je ne suis pas affecté dans le bon groupe dans le cours, pourquoi ?"
and "Mauvaise gestion statut à distance" ("un étudiant n'est pas inscrit dans
l'espace de cours ou bien dans le mauvais groupe"). The model says which course
groups each enrolled student belongs to (``ExpectedStudent.group_ids``: the
group of the IP, the pseudo-group ``ELP_…``, or none in FOAD cases c, d, f);
lmsjonction puts them there. This compares one course's expectation with the
memberships Moodle holds:

- ``wrong_group``: the student is in a group lmsjonction manages that the
  model does not give them (expected TD1, placed in TD2);
- ``group_membership_missing``: the student is enrolled but misses a group the
  model gives them, and is in no wrong one.

Only groups lmsjonction manages count (``managed``: APOGÉE groups and
pseudo-groups); groups teachers make in their course are theirs. Students the
model puts in no group (FOAD c, d, f: ``group_missing``), and students not
enrolled in Moodle (``students_not_enrolled``) are not compared here. Pure.
"""

from __future__ import annotations

from collections.abc import Collection, Container, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from detectors.model.expected import ExpectedCourse

GapKind = Literal["wrong_group", "group_membership_missing"]

_NONE: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class GroupGap:
    """One enrolled student whose Moodle groups differ from the model's.

    ``expected``: the groups the model gives; ``placed``: the managed groups
    Moodle has them in; ``as_of``: since when the model gives them (R9).
    """

    cod_etu: str
    kind: GapKind
    expected: frozenset[str]
    placed: frozenset[str]
    as_of: datetime

    @property
    def missing(self) -> frozenset[str]:
        return self.expected - self.placed

    @property
    def extra(self) -> frozenset[str]:
        return self.placed - self.expected


def group_gaps(
    course: ExpectedCourse,
    placed: Mapping[str, frozenset[str]],
    enrolled: Collection[str],
    managed: Container[str],
) -> list[GroupGap]:
    """The students of ``course`` enrolled in Moodle whose managed groups differ from the model's.

    ``placed``: ``cod_etu`` -> group idnumbers of the Moodle course they are
    members of; ``enrolled``: ``cod_etu`` enrolled in it (database method);
    ``managed``: the group idnumbers lmsjonction manages. Sorted by student.
    """
    gaps: list[GroupGap] = []
    for cod_etu in sorted(course.students):
        student = course.students[cod_etu]
        if not student.group_ids or cod_etu not in enrolled:
            continue
        actual = frozenset(g for g in placed.get(cod_etu, _NONE) if g in managed)
        if actual == student.group_ids:
            continue
        if actual - student.group_ids:
            kind: GapKind = "wrong_group"
        else:
            kind = "group_membership_missing"
        gaps.append(GroupGap(cod_etu, kind, student.group_ids, actual, student.as_of))
    return gaps
