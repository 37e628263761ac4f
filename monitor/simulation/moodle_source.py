"""The simulated Moodle written as Moodle is: canonical Moodle facts -> rows of Moodle's tables.

The simulator thinks in the canonical views (courses, enrolment instances with
a role, enrolments naming an account uid, group members by group idnumber);
a real Moodle holds numeric ids instead. This translation is the inverse of
``monitor.store.moodle_views``, written independently: it gives users, course
contexts, groups and cohorts Moodle ids on first use (and writes their rows
then), keeps one ``database`` instance per course as enrol_database does, and
writes each enrolment as a ``mdl_user_enrolments`` row plus the role
assignment its plugin makes (component ``enrol_<method>`` and the instance as
``itemid``; none for manual and self enrolments).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from detectors.facts import (
    MoodleCourse,
    MoodleEnrolInstance,
    MoodleEnrolment,
    MoodleGroupMember,
    Role,
)
from monitor.kafka.mapping import Change, fact_to_row
from monitor.store.moodle_rows import RAW_FACTS
from monitor.store.moodle_schema import CONTEXT_COURSE

Op = Literal["r", "c", "u", "d"]
ROLE_IDS: dict[Role, int] = {"student": 5, "teacher": 3}  # Moodle's student, editingteacher
_FIRST_USER_ID = 100  # below: Moodle's guest (1), admin (2) and friends
_PLAIN_ROLE_METHODS = frozenset({"manual", "self"})


@dataclass(frozen=True, slots=True)
class RawEdit:
    """One change to a row of a Moodle table (``mdl_<table>``)."""

    entity: str
    op: Op
    row: Any
    before: Any = None


def _seconds(value: datetime | None) -> int:
    return int(value.timestamp()) if value is not None else 0  # Moodle's "no date"


def raw(entity: str, **columns: Any) -> Any:
    """A row of a Moodle table (the store's raw fact), e.g. ``raw("mdl_user", id=3, ...)``."""
    return RAW_FACTS[entity](**columns)


class MoodleSource:
    """Moodle's numeric ids for the simulated Moodle, and the rows of each canonical change."""

    def __init__(self) -> None:
        self._ids = itertools.count(1_000_000)
        self._users: dict[str, int] = {}
        self._user_ids = itertools.count(_FIRST_USER_ID)
        self._contexts: dict[int, int] = {}
        self._categories: set[int] = set()
        self._cohorts: set[int] = set()
        self._cohort_members: dict[tuple[int, int], int] = {}
        self._groups: dict[tuple[int, str], int] = {}
        self._members: dict[tuple[int, int], int] = {}
        self._database: dict[int, int] = {}  # course -> its one database instance
        # canonical instance -> (Moodle instance, course, method, cohort, role)
        self._instances: dict[int, tuple[int, int, str, int | None, Role]] = {}

    def edits(self, fact: Any, op: Op, before: Any = None) -> list[RawEdit]:
        """The Moodle rows a canonical change writes (new users, contexts… first)."""
        new: Op = "r" if op == "r" else "c"
        if isinstance(fact, MoodleCourse):
            return self._course(fact, op, before, new)
        if isinstance(fact, MoodleEnrolInstance):
            return self._instance(fact, op, new)
        if isinstance(fact, MoodleEnrolment):
            return self._enrolment(fact, op, before, new)
        if isinstance(fact, MoodleGroupMember):
            return self._member(fact, op, new)
        raise TypeError(f"not a canonical Moodle fact: {type(fact).__name__}")

    def user(self, uid: str, out: list[RawEdit], new: Op) -> int:
        known = self._users.get(uid)
        if known is None:
            known = self._users[uid] = next(self._user_ids)
            row = raw(
                "mdl_user",
                id=known,
                auth="cas",
                deleted=0,
                suspended=0,
                username=uid,
                idnumber="",
                email=f"{uid}@example.org",
            )
            out.append(RawEdit("mdl_user", new, row))
        return known

    def _course_row(self, course: MoodleCourse) -> Any:
        return raw(
            "mdl_course",
            id=course.course_id,
            category=course.category,
            fullname=course.fullname,
            shortname=course.shortname,
            idnumber=course.idnumber,
            startdate=_seconds(course.startdate),
            enddate=_seconds(course.enddate),
            visible=1 if course.visible else 0,
        )

    def _course(self, course: MoodleCourse, op: Op, before: Any, new: Op) -> list[RawEdit]:
        out: list[RawEdit] = []
        if course.category not in self._categories:
            self._categories.add(course.category)
            out.append(
                RawEdit(
                    "mdl_course_categories",
                    new,
                    raw(
                        "mdl_course_categories",
                        id=course.category,
                        name=f"Catégorie {course.category}",
                        idnumber=f"CAT{course.category}",
                        parent=0,
                        visible=1,
                        depth=1,
                        path=f"/{course.category}",
                    ),
                )
            )
        old = self._course_row(before) if before is not None else None
        out.append(RawEdit("mdl_course", op, self._course_row(course), old))
        if course.course_id not in self._contexts and op != "d":
            ctx = self._contexts[course.course_id] = next(self._ids)
            row = raw(
                "mdl_context",
                id=ctx,
                contextlevel=CONTEXT_COURSE,
                instanceid=course.course_id,
                path=f"/1/{ctx}",
                depth=3,
            )
            out.append(RawEdit("mdl_context", new, row))
        return out

    def _instance(self, instance: MoodleEnrolInstance, op: Op, new: Op) -> list[RawEdit]:
        course, method = instance.course_id, instance.method
        if method == "database" and course in self._database:
            # enrol_database keeps one instance per course, whatever the role.
            moodle_id = self._database[course]
            self._instances[instance.enrol_id] = (moodle_id, course, method, None, instance.role)
            return []
        moodle_id = instance.enrol_id
        if method == "database":
            self._database[course] = moodle_id
        cohort = instance.cohort_id if method == "cohort" else None
        self._instances[instance.enrol_id] = (moodle_id, course, method, cohort, instance.role)
        out: list[RawEdit] = []
        if cohort is not None and cohort not in self._cohorts:
            self._cohorts.add(cohort)
            row = raw("mdl_cohort", id=cohort, contextid=1, name=f"Cohorte {cohort}", visible=1)
            out.append(RawEdit("mdl_cohort", new, row))
        role = "student" if method == "database" else instance.role
        row = raw(
            "mdl_enrol",
            id=moodle_id,
            enrol=method,
            status=0,
            courseid=course,
            roleid=ROLE_IDS[role],
            customint1=cohort,
            timecreated=_seconds(instance.created),
        )
        out.append(RawEdit("mdl_enrol", op, row))
        return out

    def _enrolment(self, enrolment: MoodleEnrolment, op: Op, before: Any, new: Op) -> list[RawEdit]:
        out: list[RawEdit] = []
        moodle_id, course, method, cohort, role_name = self._instances[enrolment.enrol_id]
        userid = self.user(enrolment.user, out, new)

        def ue(e: MoodleEnrolment) -> Any:
            return raw(
                "mdl_user_enrolments",
                id=e.enrolment_id,
                status=0 if e.active else 1,
                enrolid=moodle_id,
                userid=userid,
                timestart=_seconds(e.timestart),
                timeend=_seconds(e.timeend),
            )

        out.append(
            RawEdit("mdl_user_enrolments", op, ue(enrolment), ue(before) if before else None)
        )
        if op != "u":
            plain = method in _PLAIN_ROLE_METHODS
            role = raw(
                "mdl_role_assignments",
                id=enrolment.enrolment_id,
                roleid=ROLE_IDS[role_name],
                contextid=self._contexts[course],
                userid=userid,
                component="" if plain else f"enrol_{method}",
                itemid=0 if plain else moodle_id,
            )
            out.append(RawEdit("mdl_role_assignments", op, role))
        if cohort is not None and op != "u":
            slot = (cohort, userid)
            member = self._cohort_members.get(slot)
            if member is None and op != "d":
                member = self._cohort_members[slot] = next(self._ids)
                row = raw("mdl_cohort_members", id=member, cohortid=cohort, userid=userid)
                out.append(RawEdit("mdl_cohort_members", op, row))
        return out

    def _member(self, member: MoodleGroupMember, op: Op, new: Op) -> list[RawEdit]:
        out: list[RawEdit] = []
        userid = self.user(member.user, out, new)
        slot = (member.course_id, member.group_idnumber)
        gid = self._groups.get(slot)
        if gid is None:
            gid = self._groups[slot] = next(self._ids)
            row = raw(
                "mdl_groups",
                id=gid,
                courseid=member.course_id,
                idnumber=member.group_idnumber,
                name=member.group_idnumber,
            )
            out.append(RawEdit("mdl_groups", new, row))
        mid = self._members.get((gid, userid))
        if mid is None:
            mid = self._members[(gid, userid)] = next(self._ids)
        row = raw("mdl_groups_members", id=mid, groupid=gid, userid=userid, component="", itemid=0)
        out.append(RawEdit("mdl_groups_members", op, row))
        return out


def store_changes(source: MoodleSource, fact: Any, source_ts: int) -> list[Change]:
    """The store changes of a canonical Moodle fact written as Moodle rows (for tests and tools)."""
    return [
        Change(
            edit.entity,  # type: ignore[arg-type]
            str(edit.row.id),
            fact_to_row(edit.row),
            source_ts,
            deleted=edit.op == "d",
        )
        for edit in source.edits(fact, "r")
    ]
