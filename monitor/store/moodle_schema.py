"""Moodle's own tables, as Moodle's ``lib/db/install.xml`` declares them (the columns we rely on).

Moodle is read as Moodle is: these are the source tables, not the canonical
views of DOMAIN.md (``monitor.moodle_views`` derives those). A source poller
can select from them as they are; the monitor stores the same columns
(``monitor.store.moodle_rows``). Types follow XMLDB: ``int`` LENGTH 10 is BIGINT,
``char`` is VARCHAR of its LENGTH,. Dates are epoch seconds,
``0`` meaning "none". Only the columns listed here are ingested; the other
columns of these tables are ignored wherever they arrive.

The table names carry Moodle's default prefix ``mdl_``; ``moodle_tables(prefix)``
gives them with another prefix.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, Column, MetaData, SmallInteger, String, Table
from sqlalchemy.types import TypeEngine

MOODLE_PREFIX = "mdl_"

# Context levels of ``mdl_context`` (lib/accesslib.php): a course's context is 50.
CONTEXT_COURSE = 50
# ``mdl_user_enrolments.status``: ENROL_USER_ACTIVE 0, ENROL_USER_SUSPENDED 1.
ENROL_USER_ACTIVE = 0
# ``mdl_enrol.status``: ENROL_INSTANCE_ENABLED 0, ENROL_INSTANCE_DISABLED 1.
ENROL_INSTANCE_ENABLED = 0

# Column lists, by table name without prefix: (name, type). The order is Moodle's.
COLUMNS: dict[str, tuple[tuple[str, TypeEngine[Any]], ...]] = {
    "user": (
        ("id", BigInteger()),
        ("auth", String(20)),
        ("deleted", SmallInteger()),
        ("suspended", SmallInteger()),
        ("username", String(100)),
        ("idnumber", String(255)),
        ("firstname", String(100)),
        ("lastname", String(100)),
        ("email", String(100)),
        ("timecreated", BigInteger()),
        ("timemodified", BigInteger()),
    ),
    "course": (
        ("id", BigInteger()),
        ("category", BigInteger()),
        ("fullname", String(254)),
        ("shortname", String(255)),
        ("idnumber", String(100)),
        ("startdate", BigInteger()),
        ("enddate", BigInteger()),
        ("visible", SmallInteger()),
        ("timecreated", BigInteger()),
        ("timemodified", BigInteger()),
    ),
    "course_categories": (
        ("id", BigInteger()),
        ("name", String(255)),
        ("idnumber", String(100)),
        ("parent", BigInteger()),
        ("visible", SmallInteger()),
        ("depth", BigInteger()),
        ("path", String(255)),
    ),
    "enrol": (
        ("id", BigInteger()),
        ("enrol", String(20)),
        ("status", BigInteger()),
        ("courseid", BigInteger()),
        ("roleid", BigInteger()),
        ("customint1", BigInteger()),
        ("timecreated", BigInteger()),
        ("timemodified", BigInteger()),
    ),
    "user_enrolments": (
        ("id", BigInteger()),
        ("status", BigInteger()),
        ("enrolid", BigInteger()),
        ("userid", BigInteger()),
        ("timestart", BigInteger()),
        ("timeend", BigInteger()),
        ("timecreated", BigInteger()),
        ("timemodified", BigInteger()),
    ),
    "role_assignments": (
        ("id", BigInteger()),
        ("roleid", BigInteger()),
        ("contextid", BigInteger()),
        ("userid", BigInteger()),
        ("timemodified", BigInteger()),
        ("component", String(100)),
        ("itemid", BigInteger()),
    ),
    "context": (
        ("id", BigInteger()),
        ("contextlevel", BigInteger()),
        ("instanceid", BigInteger()),
        ("path", String(255)),
        ("depth", SmallInteger()),
    ),
    "groups": (
        ("id", BigInteger()),
        ("courseid", BigInteger()),
        ("idnumber", String(100)),
        ("name", String(254)),
        ("timecreated", BigInteger()),
        ("timemodified", BigInteger()),
    ),
    "groups_members": (
        ("id", BigInteger()),
        ("groupid", BigInteger()),
        ("userid", BigInteger()),
        ("timeadded", BigInteger()),
        ("component", String(100)),
        ("itemid", BigInteger()),
    ),
    "cohort": (
        ("id", BigInteger()),
        ("contextid", BigInteger()),
        ("name", String(254)),
        ("idnumber", String(100)),
        ("visible", SmallInteger()),
        ("component", String(100)),
        ("timecreated", BigInteger()),
        ("timemodified", BigInteger()),
    ),
    "cohort_members": (
        ("id", BigInteger()),
        ("cohortid", BigInteger()),
        ("userid", BigInteger()),
        ("timeadded", BigInteger()),
    ),
}

MOODLE_TABLES = tuple(COLUMNS)

# Flags: XMLDB ``int`` LENGTH 1, TINYINT(1) on MySQL, which Debezium's tinyint1 converter
# (TinyIntOneToBooleanConverter) sends as a boolean; read as 0/1 (mapping ``flag_columns``).
FLAG_COLUMNS: dict[str, tuple[str, ...]] = {
    "user": ("deleted", "suspended"),
    "course": ("visible",),
    "course_categories": ("visible",),
    "cohort": ("visible",),
}


def moodle_tables(
    prefix: str = MOODLE_PREFIX, metadata: MetaData | None = None
) -> dict[str, Table]:
    """SQLAlchemy tables of Moodle's schema (for reading a Moodle database), by unprefixed name.

    Their own metadata by default: these are Moodle's tables, never the store's.
    """
    metadata = metadata if metadata is not None else MetaData()
    return {
        name: Table(
            f"{prefix}{name}",
            metadata,
            *(
                Column(column, kind, primary_key=column == "id", autoincrement=column == "id")
                for column, kind in columns
            ),
        )
        for name, columns in COLUMNS.items()
    }


def topic_of(table: str, prefix: str = "moodle.moodle.", table_prefix: str = MOODLE_PREFIX) -> str:
    """The Debezium topic of a Moodle table: ``<server>.<database>.<prefix><table>``."""
    return f"{prefix}{table_prefix}{table}"
