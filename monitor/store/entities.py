"""The canonical entities of DOMAIN.md: their fact type and natural key.

One registry, read by the mapping (source rows -> facts), the state store
(one table per entity, columns derived from the fact's fields) and the
snapshot loader (rows -> facts).
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, get_args, get_origin

from detectors import facts
from monitor.store.moodle_rows import RAW_FACTS, RAW_INDEXED

EntityName = Literal[
    "elp",
    "group",
    "collection_link",
    "ip",
    "ia",
    "account",
    "ade_fiche",
    "ade_session",
    "moodle_course",
    "moodle_enrol",
    "moodle_enrolment",
    "moodle_group_member",
    "sync_run",
    # Moodle's own tables, stored raw (monitor.store.moodle_rows); the moodle_* entities above are
    # canonical views derived from them when facts are loaded (monitor.moodle_views).
    "mdl_user",
    "mdl_course",
    "mdl_course_categories",
    "mdl_enrol",
    "mdl_user_enrolments",
    "mdl_role_assignments",
    "mdl_context",
    "mdl_groups",
    "mdl_groups_members",
    "mdl_cohort",
    "mdl_cohort_members",
]

FieldKind = Literal["str", "int", "bool", "datetime", "list"]

KEY_SEPARATOR = "\x1f"


@dataclass(frozen=True)
class Entity:
    """A canonical entity: its name, its fact dataclass and the fields of its natural key."""

    name: EntityName
    fact: Any  # a frozen dataclass of detectors.facts
    key_fields: tuple[str, ...]
    # Fields the state store indexes because detectors select by them.
    indexed: tuple[str, ...] = ()
    # The ELP a row of this entity concerns, so a change marks that ELP dirty.
    elp_field: str | None = None
    # False for a canonical view derived from other rows: no store table, no topic maps to it.
    stored: bool = True

    @property
    def table_name(self) -> str:
        return f"fact_{self.name}"

    def fields(self) -> dict[str, FieldKind]:
        """Every field but ``as_of`` (kept as the row's source timestamp), with its storage kind."""
        return dict(_fields_of(self.fact))

    def key_of(self, row: dict[str, Any]) -> str:
        return KEY_SEPARATOR.join(str(row[name]) for name in self.key_fields)


@functools.cache
def _fields_of(fact: Any) -> tuple[tuple[str, FieldKind], ...]:
    # Resolving type hints is slow and decode calls this for every message: once per type.
    hints = typing.get_type_hints(fact)
    return tuple(
        (f.name, _field_kind(hints[f.name])) for f in dataclasses.fields(fact) if f.name != "as_of"
    )


def _field_kind(hint: Any) -> FieldKind:
    origin = get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        (inner,) = [a for a in get_args(hint) if a is not type(None)]
        return _field_kind(inner)
    if origin is Literal:
        return "str"
    if origin is tuple or hint is tuple:
        return "list"
    if hint is bool:
        return "bool"
    if hint is int:
        return "int"
    if hint is datetime:
        return "datetime"
    if hint is str:
        return "str"
    raise TypeError(f"no storage kind for field type {hint!r}")


ENTITIES: dict[EntityName, Entity] = {
    e.name: e
    for e in (
        Entity("elp", facts.Elp, ("cod_elp",), indexed=("cod_cmp", "porteur"), elp_field="cod_elp"),
        Entity("group", facts.Group, ("group_id",), indexed=("collection",)),
        Entity(
            "collection_link",
            facts.CollectionLink,
            ("collection", "cod_elp"),
            indexed=("cod_elp",),
            elp_field="cod_elp",
        ),
        Entity(
            "ip",
            facts.Ip,
            ("cod_etu", "cod_elp"),
            indexed=("cod_elp", "cod_etu"),
            elp_field="cod_elp",
        ),
        Entity("ia", facts.Ia, ("ia_id",), indexed=("cod_etu",)),
        Entity("account", facts.Account, ("uid",), indexed=("cod_etu",)),
        Entity(
            "ade_fiche", facts.AdeFiche, ("fiche_id",), indexed=("cod_elp",), elp_field="cod_elp"
        ),
        Entity("ade_session", facts.AdeSession, ("session_id",), indexed=("fiche_id",)),
        Entity(
            "moodle_course",
            facts.MoodleCourse,
            ("course_id",),
            indexed=("idnumber",),
            elp_field="idnumber",
            stored=False,
        ),
        Entity(
            "moodle_enrol",
            facts.MoodleEnrolInstance,
            ("enrol_id",),
            indexed=("course_id",),
            stored=False,
        ),
        Entity(
            "moodle_enrolment",
            facts.MoodleEnrolment,
            ("enrolment_id",),
            indexed=("enrol_id",),
            stored=False,
        ),
        Entity(
            "moodle_group_member",
            facts.MoodleGroupMember,
            ("course_id", "group_idnumber", "user"),
            indexed=("course_id",),
            stored=False,
        ),
        Entity("sync_run", facts.SyncRun, ("run_id",)),
        *(
            Entity(
                name,  # type: ignore[arg-type]
                fact,
                ("id",),
                indexed=RAW_INDEXED.get(name, ()),
                elp_field="idnumber" if name == "mdl_course" else None,
            )
            for name, fact in RAW_FACTS.items()
        ),
    )
}


def entity(name: str) -> Entity:
    """The entity called ``name``; a clear error for an unknown one."""
    try:
        return ENTITIES[name]  # type: ignore[index]
    except KeyError:
        raise KeyError(f"unknown entity {name!r}; known: {', '.join(ENTITIES)}") from None
