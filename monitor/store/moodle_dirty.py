"""The Moodle courses concerned by changed raw Moodle rows, so their ELPs are looked at again.

Every side of a resolution counts: a row that arrives late (a user after its
enrolments, a group after its members, a role assignment or a course context
after the enrolment) changes what the views resolve to, so it marks the
courses it touches. Tombstones still point where they did: they are read too.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, select

from monitor.kafka.mapping import Change
from monitor.store.entities import ENTITIES, EntityName
from monitor.store.moodle_schema import CONTEXT_COURSE
from monitor.store.schema import fact_tables

_CHUNK = 500


class Lookup:
    """Values of a column in rows found by another: from the batch's rows first, then the store.

    ``written`` holds the rows the batch wrote, by entity and key: looking a row up
    by its key (``by`` the entity's one key field) reads it there, as the store would
    answer after the batch, without a query; every other value is queried.

    >>> find = Lookup(conn, {"mdl_enrol": {"7": {"id": 7, "courseid": 2}}})  # doctest: +SKIP
    >>> find("mdl_enrol", "courseid", "id", {7})
    {2}
    """

    def __init__(self, conn: Connection, written: dict[EntityName, dict[str, dict[str, Any]]]):
        self.conn = conn
        self.written = written

    def __call__(
        self,
        name: EntityName,
        wanted: str,
        by: str,
        values: Iterable[Any],
        extra: tuple[str, Any] | None = None,
    ) -> set[Any]:
        """Values of ``wanted`` in rows of ``name`` whose ``by`` is one of ``values``.

        ``extra``: (column, value) the rows must also hold.
        """
        table = fact_tables[name]
        ordered = sorted({v for v in values if v is not None})
        found: set[Any] = set()
        rows = self.written.get(name)
        by_key = ENTITIES[name].key_fields == (by,)
        if rows and by_key:
            left = []
            for value in ordered:
                row = rows.get(str(value))
                if row is None:
                    left.append(value)
                elif extra is None or row.get(extra[0]) == extra[1]:
                    found.add(row.get(wanted))
            ordered = left
        column = table.c.key if by_key else table.c[by]  # the key: the primary key's index
        if by_key:
            ordered = sorted({str(v) for v in ordered})
        for start in range(0, len(ordered), _CHUNK):
            statement = select(table.c[wanted]).where(column.in_(ordered[start : start + _CHUNK]))
            if extra is not None:
                statement = statement.where(table.c[extra[0]] == extra[1])
            found |= set(self.conn.execute(statement).scalars())
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


def courses_behind(
    conn: Connection, dirty: dict[EntityName, set[str]], find: Lookup | None = None
) -> set[int]:
    """Ids of the courses whose canonical views may have changed with the ``dirty`` raw rows."""
    lookup = find or Lookup(conn, {})

    def ids(name: EntityName) -> set[int]:
        return {int(k) for k in dirty.get(name, set())}

    courses = ids("mdl_course")
    enrols = ids("mdl_enrol") | lookup(
        "mdl_user_enrolments", "enrolid", "id", ids("mdl_user_enrolments")
    )
    contexts = ids("mdl_context") | lookup(
        "mdl_role_assignments", "contextid", "id", ids("mdl_role_assignments")
    )
    groups = ids("mdl_groups") | lookup(
        "mdl_groups_members", "groupid", "id", ids("mdl_groups_members")
    )
    if users := ids("mdl_user"):
        enrols |= lookup("mdl_user_enrolments", "enrolid", "userid", users)
        groups |= lookup("mdl_groups_members", "groupid", "userid", users)
    if cohorts := lookup("mdl_cohort_members", "cohortid", "id", ids("mdl_cohort_members")):
        enrols |= lookup("mdl_enrol", "id", "customint1", cohorts)
    if categories := ids("mdl_course_categories"):
        courses |= lookup("mdl_course", "id", "category", categories)
    courses |= lookup("mdl_enrol", "courseid", "id", enrols)
    courses |= lookup("mdl_context", "instanceid", "id", contexts, ("contextlevel", CONTEXT_COURSE))
    courses |= lookup("mdl_groups", "courseid", "id", groups)
    return courses
