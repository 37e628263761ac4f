"""A read-only, indexed view of the state that detectors and the rule model read.

``monitor`` builds it from the state store (all of it, or the part around a
set of dirty keys); tests and the simulator build it from lists of facts.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from detectors.facts import (
    PSEUDO_GROUP_PREFIX,
    Account,
    AdeFiche,
    AdeSession,
    CollectionLink,
    Elp,
    Group,
    Ia,
    Ip,
    MoodleCourse,
    MoodleEnrolInstance,
    MoodleEnrolment,
    MoodleGroupMember,
    SyncRun,
)


@dataclass(frozen=True, slots=True)
class CourseEnrolment:
    """A Moodle enrolment joined with its instance: who is in which course, how and as what."""

    course_id: int
    user: str
    method: str
    role: str
    enrolment: MoodleEnrolment
    instance: MoodleEnrolInstance


K = TypeVar("K")
V = TypeVar("V")
T = TypeVar("T")


def _group_by(items: Iterable[V], key: Callable[[V], K]) -> dict[K, list[V]]:
    grouped: dict[K, list[V]] = defaultdict(list)
    for item in items:
        grouped[key(item)].append(item)
    return dict(grouped)


@dataclass(frozen=True)
class FactSet:
    """Every fact the detectors may read, with the indexes they need.

    ``deleted_elps`` holds ELPs that disappeared from REFER (their last known
    row, with ``as_of`` = the time of the deletion): R2 archives their course.
    ``deleted_enrolments`` holds Moodle enrolments deleted lately (tombstones:
    last known row, ``as_of`` = the time of the deletion): ``enrolments_lost``
    compares them with the sync runs' windows. ``deleted_courses`` holds Moodle
    courses deleted (last known row, ``as_of`` = the deletion): R2's last stage.
    """

    elps: Mapping[str, Elp] = field(default_factory=dict)
    deleted_elps: Mapping[str, Elp] = field(default_factory=dict)
    groups: Mapping[str, Group] = field(default_factory=dict)
    collection_links: tuple[CollectionLink, ...] = ()
    ips: tuple[Ip, ...] = ()
    ias: tuple[Ia, ...] = ()
    accounts: Mapping[str, Account] = field(default_factory=dict)
    fiches: Mapping[str, AdeFiche] = field(default_factory=dict)
    sessions: tuple[AdeSession, ...] = ()
    courses: Mapping[int, MoodleCourse] = field(default_factory=dict)
    enrol_instances: Mapping[int, MoodleEnrolInstance] = field(default_factory=dict)
    enrolments: tuple[MoodleEnrolment, ...] = ()
    deleted_enrolments: tuple[MoodleEnrolment, ...] = ()
    deleted_courses: tuple[MoodleCourse, ...] = ()
    group_members: tuple[MoodleGroupMember, ...] = ()
    runs: tuple[SyncRun, ...] = ()

    @classmethod
    def build(
        cls,
        *,
        elps: Iterable[Elp] = (),
        deleted_elps: Iterable[Elp] = (),
        groups: Iterable[Group] = (),
        collection_links: Iterable[CollectionLink] = (),
        ips: Iterable[Ip] = (),
        ias: Iterable[Ia] = (),
        accounts: Iterable[Account] = (),
        fiches: Iterable[AdeFiche] = (),
        sessions: Iterable[AdeSession] = (),
        courses: Iterable[MoodleCourse] = (),
        enrol_instances: Iterable[MoodleEnrolInstance] = (),
        enrolments: Iterable[MoodleEnrolment] = (),
        deleted_enrolments: Iterable[MoodleEnrolment] = (),
        group_members: Iterable[MoodleGroupMember] = (),
        runs: Iterable[SyncRun] = (),
        deleted_courses: Iterable[MoodleCourse] = (),
    ) -> FactSet:
        return cls(
            elps={e.cod_elp: e for e in elps},
            deleted_elps={e.cod_elp: e for e in deleted_elps},
            groups={g.group_id: g for g in groups},
            collection_links=tuple(collection_links),
            ips=tuple(ips),
            ias=tuple(ias),
            accounts={a.uid: a for a in accounts},
            fiches={f.fiche_id: f for f in fiches},
            sessions=tuple(sessions),
            courses={c.course_id: c for c in courses},
            enrol_instances={i.enrol_id: i for i in enrol_instances},
            enrolments=tuple(enrolments),
            deleted_enrolments=tuple(deleted_enrolments),
            deleted_courses=tuple(deleted_courses),
            group_members=tuple(group_members),
            runs=tuple(sorted(runs, key=lambda r: r.started_at)),
        )

    # Indexes are computed once per FactSet, on first use.
    def __post_init__(self) -> None:
        object.__setattr__(self, "_cache", {})

    def _index(self, name: str, compute: Callable[[], T]) -> T:
        cache: dict[str, object] = self._cache  # type: ignore[attr-defined]
        if name not in cache:
            cache[name] = compute()
        return cache[name]  # type: ignore[return-value]

    def memo(self, name: str, compute: Callable[[], T]) -> T:
        """A value derived from these facts, computed once and kept as long as they live.

        Detectors of one pass share the model's evaluation this way; ``name``
        must say everything the value depends on besides the facts.
        """
        return self._index(f"memo:{name}", compute)

    def ips_of_elp(self, cod_elp: str) -> list[Ip]:
        index: dict[str, list[Ip]] = self._index(
            "ips_by_elp", lambda: _group_by(self.ips, lambda ip: ip.cod_elp)
        )
        return index.get(cod_elp, [])

    def ips_of_student(self, cod_etu: str) -> list[Ip]:
        index: dict[str, list[Ip]] = self._index(
            "ips_by_etu", lambda: _group_by(self.ips, lambda ip: ip.cod_etu)
        )
        return index.get(cod_etu, [])

    def ias_of_student(self, cod_etu: str) -> list[Ia]:
        index: dict[str, list[Ia]] = self._index(
            "ias_by_etu", lambda: _group_by(self.ias, lambda ia: ia.cod_etu)
        )
        return index.get(cod_etu, [])

    def collections_of_elp(self, cod_elp: str) -> set[str]:
        index: dict[str, list[CollectionLink]] = self._index(
            "links_by_elp", lambda: _group_by(self.collection_links, lambda link: link.cod_elp)
        )
        return {link.collection for link in index.get(cod_elp, [])}

    def groups_of_elp(self, cod_elp: str) -> list[Group]:
        """Groups whose collection is attached to the ELP, plus its pseudo-groups."""
        by_collection: dict[str | None, list[Group]] = self._index(
            "groups_by_collection", lambda: _group_by(self.groups.values(), lambda g: g.collection)
        )
        found: list[Group] = []
        for collection in sorted(self.collections_of_elp(cod_elp)):
            found.extend(by_collection.get(collection, []))
        found.extend(self.pseudo_groups_of_elp(cod_elp))
        return found

    def pseudo_groups_of_elp(self, cod_elp: str) -> list[Group]:
        """Pseudo-groups ``ELP_<cod_elp>_…`` (indexed: a scan per ELP would be quadratic)."""

        def compute() -> dict[str, list[Group]]:
            index: dict[str, list[Group]] = defaultdict(list)
            for group in self.groups.values():
                if not group.is_pseudo:
                    continue
                rest = group.group_id[len(PSEUDO_GROUP_PREFIX) :]
                # A code may itself hold "_": file the group under every candidate code.
                for cut, char in enumerate(rest):
                    if char == "_" and cut > 0:
                        index[rest[:cut]].append(group)
            return dict(index)

        index: dict[str, list[Group]] = self._index("pseudo_groups_by_elp", compute)
        return index.get(cod_elp, [])

    def portes_of(self, porteur: str) -> list[Elp]:
        index: dict[str | None, list[Elp]] = self._index(
            "portes", lambda: _group_by(self.elps.values(), lambda e: e.porteur)
        )
        return index.get(porteur, [])

    def sessions_of_fiche(self, fiche_id: str) -> list[AdeSession]:
        index: dict[str, list[AdeSession]] = self._index(
            "sessions_by_fiche", lambda: _group_by(self.sessions, lambda s: s.fiche_id)
        )
        return index.get(fiche_id, [])

    def fiches_of_elp(self, cod_elp: str) -> list[AdeFiche]:
        index: dict[str | None, list[AdeFiche]] = self._index(
            "fiches_by_elp", lambda: _group_by(self.fiches.values(), lambda f: f.cod_elp)
        )
        return index.get(cod_elp, [])

    def courses_by_idnumber(self, idnumber: str) -> list[MoodleCourse]:
        index: dict[str, list[MoodleCourse]] = self._index(
            "courses_by_idnumber", lambda: _group_by(self.courses.values(), lambda c: c.idnumber)
        )
        return index.get(idnumber, [])

    def course_enrolments(self, course_id: int) -> list[CourseEnrolment]:
        def compute() -> dict[int, list[CourseEnrolment]]:
            joined: dict[int, list[CourseEnrolment]] = defaultdict(list)
            for enrolment in self.enrolments:
                instance = self.enrol_instances.get(enrolment.enrol_id)
                if instance is None:
                    continue
                joined[instance.course_id].append(
                    CourseEnrolment(
                        course_id=instance.course_id,
                        user=enrolment.user,
                        method=instance.method,
                        role=instance.role,
                        enrolment=enrolment,
                        instance=instance,
                    )
                )
            return dict(joined)

        index: dict[int, list[CourseEnrolment]] = self._index("enrolments_by_course", compute)
        return index.get(course_id, [])

    def last_completed_run(self, before: datetime | None = None) -> SyncRun | None:
        """The latest run that succeeded (by ``before``): R9 measures "pending" against its start.

        A failed run is not one (see ``SyncRun.completed``): what it would have
        propagated is still pending.
        """
        for run in reversed(self.runs):
            ended = run.finished_at or run.started_at
            if run.completed and (before is None or ended <= before):
                return run
        return None

    def last_finished_run(self, before: datetime | None = None) -> SyncRun | None:
        """The latest run that ended, successful or failed (by ``before``)."""
        for run in reversed(self.runs):
            ended = run.finished_at or run.started_at
            if run.finished and (before is None or ended <= before):
                return run
        return None

    def previous_completed_run(self, run: SyncRun) -> SyncRun | None:
        earlier = [r for r in self.runs if r.completed and r.started_at < run.started_at]
        return earlier[-1] if earlier else None
