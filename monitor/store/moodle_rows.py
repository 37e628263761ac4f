"""Moodle's rows as the state store keeps them: one raw fact per table of ``moodle_schema``.

The store keeps Moodle's columns as they are (numeric ids, epoch seconds,
``0`` for "no date") and resolves them into the canonical views only when
facts are loaded (``monitor.moodle_views``): a row may arrive before the row
it points to, and nothing is lost or wrong in the meantime.

Each fact is a frozen dataclass named after the table (``mdl_user`` ->
``MdlUser``), with the table's columns as optional fields, ``id`` the key,
and ``as_of`` last, as the store's row conversion expects.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

from sqlalchemy import String

from detectors.facts import EPOCH
from monitor.store.moodle_schema import COLUMNS, MOODLE_PREFIX


def _fact_class(table: str) -> Any:
    fields: list[tuple[str, Any, Any]] = [("id", int, dataclasses.field())]
    for column, kind in COLUMNS[table]:
        if column == "id":
            continue
        python = str if isinstance(kind, String) else int
        fields.append((column, python | None, dataclasses.field(default=None)))
    fields.append(("as_of", datetime, dataclasses.field(default=EPOCH)))
    name = "Mdl" + "".join(part.title() for part in table.split("_"))
    return dataclasses.make_dataclass(
        name, fields, frozen=True, slots=True, namespace={"__module__": __name__}
    )


# The raw fact class of each Moodle table, by store entity name (``mdl_<table>``).
RAW_FACTS: dict[str, Any] = {f"{MOODLE_PREFIX}{table}": _fact_class(table) for table in COLUMNS}

# Columns the store indexes because resolution selects by them.
RAW_INDEXED: dict[str, tuple[str, ...]] = {
    "mdl_user": ("username", "idnumber", "email"),
    "mdl_course": ("idnumber",),
    "mdl_enrol": ("courseid", "customint1"),
    "mdl_user_enrolments": ("enrolid", "userid"),
    "mdl_role_assignments": ("contextid", "userid"),
    "mdl_context": ("instanceid",),
    "mdl_groups": ("courseid",),
    "mdl_groups_members": ("groupid", "userid"),
    "mdl_cohort_members": ("cohortid", "userid"),
}
