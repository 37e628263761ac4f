"""The Moodle courses concerned by changed raw Moodle rows, so their ELPs are looked at again.

Every side of a resolution counts: a row that arrives late (a user after its
enrolments, a group after its members, a role assignment or a course context
after the enrolment) changes what the views resolve to, so it marks the
courses it touches. Tombstones still point where they did: they are read too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import ColumnElement, Connection, select

from monitor.entities import ENTITIES, EntityName
from monitor.mapping import Change
from monitor.moodle_schema import CONTEXT_COURSE
from monitor.store.schema import fact_tables

_CHUNK = 500


def _lookup(
    conn: Connection,
    name: EntityName,
    wanted: str,
    by: str,
    values: Iterable[Any],
    extra: Callable[[Any], ColumnElement[bool]] | None = None,
) -> set[Any]:
    """Values of ``wanted`` in rows of ``name`` whose ``by`` is one of ``values``."""
    table = fact_tables[name]
    ordered = sorted({v for v in values if v is not None})
    found: set[Any] = set()
    for start in range(0, len(ordered), _CHUNK):
        statement = select(table.c[wanted]).where(table.c[by].in_(ordered[start : start + _CHUNK]))
        if extra is not None:
            statement = statement.where(extra(table))
        found |= set(conn.execute(statement).scalars())
    return found - {None}


def unchanged_users(conn: Connection, changes: Iterable[Change]) -> set[str]:
    """Keys of ``mdl_user`` changes that leave the stored columns as they are.

    Moodle rewrites ``mdl_user`` at every login (``lastaccess``, ``lastlogin``,
    columns not stored): such an update changes nothing the views resolve, and
    must not send every course of the user back to the detectors.
    """
    wanted = {c.key: c for c in changes if not c.deleted and not c.truncate}
    table = fact_tables["mdl_user"]
    columns = [table.c[name] for name in ENTITIES["mdl_user"].fields()]
    same: set[str] = set()
    keys = sorted(wanted)
    for start in range(0, len(keys), _CHUNK):
        statement = select(table.c.key, table.c.tombstone, *columns).where(
            table.c.key.in_(keys[start : start + _CHUNK])
        )
        for key, tombstone, *values in conn.execute(statement):
            row = wanted[key].row
            if not tombstone and all(
                row.get(c.name) == v for c, v in zip(columns, values, strict=True)
            ):
                same.add(key)
    return same


def courses_behind(conn: Connection, dirty: dict[EntityName, set[str]]) -> set[int]:
    """Ids of the courses whose canonical views may have changed with the ``dirty`` raw rows."""

    def ids(name: EntityName) -> set[int]:
        return {int(k) for k in dirty.get(name, set())}

    def course_level(table: Any) -> ColumnElement[bool]:
        return table.c.contextlevel == CONTEXT_COURSE  # type: ignore[no-any-return]

    courses = ids("mdl_course")
    enrols = ids("mdl_enrol") | _lookup(
        conn, "mdl_user_enrolments", "enrolid", "id", ids("mdl_user_enrolments")
    )
    contexts = ids("mdl_context") | _lookup(
        conn, "mdl_role_assignments", "contextid", "id", ids("mdl_role_assignments")
    )
    groups = ids("mdl_groups") | _lookup(
        conn, "mdl_groups_members", "groupid", "id", ids("mdl_groups_members")
    )
    if users := ids("mdl_user"):
        enrols |= _lookup(conn, "mdl_user_enrolments", "enrolid", "userid", users)
        groups |= _lookup(conn, "mdl_groups_members", "groupid", "userid", users)
    if cohorts := _lookup(conn, "mdl_cohort_members", "cohortid", "id", ids("mdl_cohort_members")):
        enrols |= _lookup(conn, "mdl_enrol", "id", "customint1", cohorts)
    if categories := ids("mdl_course_categories"):
        courses |= _lookup(conn, "mdl_course", "id", "category", categories)
    courses |= _lookup(conn, "mdl_enrol", "courseid", "id", enrols)
    courses |= _lookup(conn, "mdl_context", "instanceid", "id", contexts, course_level)
    courses |= _lookup(conn, "mdl_groups", "courseid", "id", groups)
    return courses
