"""Load a ``FactSet`` (the detectors' read-only view) from the state store.

Either everything (after a sync run, daily passes) or the neighbourhood of a
few dirty ELPs (after an ingested batch): the ELPs themselves with their
porteur and portés, their groups, IPs, the IAs of those students, ADE fiches
and sessions, the courses whose idnumber is one of them with their
enrolments, and the sync runs. All ELPs are always loaded: R2's "code
changed" cause compares labels across the whole offer.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, Table, select

from detectors.facts import RunMessage
from detectors.state import FactSet
from monitor.entities import ENTITIES, EntityName
from monitor.store.schema import fact_tables

_CHUNK = 500


def _aware(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value is not None else None


def _row_converter(name: EntityName) -> Callable[[Any], Any]:
    spec = ENTITIES[name]
    kinds = spec.fields()
    dates = [f for f, k in kinds.items() if k == "datetime"]
    lists = [f for f, k in kinds.items() if k == "list"]
    fields = list(kinds)
    fact = spec.fact

    def convert(row: Any) -> Any:
        values = {f: row._mapping[f] for f in fields}
        for f in dates:
            values[f] = _aware(values[f])
        for f in lists:
            items = values[f] or []
            if name == "sync_run":
                values[f] = tuple(RunMessage(**item) for item in items)
            else:
                values[f] = tuple(items)
        values["as_of"] = datetime.fromtimestamp(row._mapping["source_ts"] / 1000, tz=UTC)
        return fact(**{k: v for k, v in values.items() if v is not None or k in dates})

    return convert


def _load(
    conn: Connection,
    name: EntityName,
    where: ColumnElement[bool] | None = None,
    *,
    tombstones: bool = False,
) -> list[Any]:
    table: Table = fact_tables[name]
    statement = select(table).where(table.c.tombstone == tombstones)
    if where is not None:
        statement = statement.where(where)
    convert = _row_converter(name)
    return [convert(row) for row in conn.execute(statement)]


def _load_in(conn: Connection, name: EntityName, column: str, values: Iterable[Any]) -> list[Any]:
    wanted = sorted(set(values))
    found: list[Any] = []
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        found.extend(_load(conn, name, fact_tables[name].c[column].in_(chunk)))
    return found


def load_facts(
    conn: Connection,
    cod_elps: Collection[str] | None = None,
    *,
    deleted_since: datetime | None = None,
) -> FactSet:
    """The whole state (``cod_elps`` None) or the neighbourhood of the given ELPs.

    ``deleted_since`` also loads the Moodle enrolments deleted since then
    (``enrolments_lost`` compares them with the model).
    """
    elps = _load(conn, "elp")
    deleted_elps = _load(conn, "elp", tombstones=True)
    runs = _load(conn, "sync_run")
    deleted_enrolments: list[Any] = []
    if deleted_since is not None:
        since_ms = int(deleted_since.timestamp() * 1000)
        table = fact_tables["moodle_enrolment"]
        deleted_enrolments = _load(
            conn, "moodle_enrolment", table.c.source_ts >= since_ms, tombstones=True
        )
    if cod_elps is None:
        return FactSet.build(
            elps=elps,
            deleted_elps=deleted_elps,
            groups=_load(conn, "group"),
            collection_links=_load(conn, "collection_link"),
            ips=_load(conn, "ip"),
            ias=_load(conn, "ia"),
            accounts=_load(conn, "account"),
            fiches=_load(conn, "ade_fiche"),
            sessions=_load(conn, "ade_session"),
            courses=_load(conn, "moodle_course"),
            enrol_instances=_load(conn, "moodle_enrol"),
            enrolments=_load(conn, "moodle_enrolment"),
            group_members=_load(conn, "moodle_group_member"),
            runs=runs,
            deleted_enrolments=deleted_enrolments,
        )
    scope = _neighbourhood(cod_elps, elps)
    links = _load_in(conn, "collection_link", "cod_elp", scope)
    collections = {link.collection for link in links}
    ips = _load_in(conn, "ip", "cod_elp", scope)
    fiches = _load_in(conn, "ade_fiche", "cod_elp", scope)
    sessions = _load_in(conn, "ade_session", "fiche_id", (f.fiche_id for f in fiches))
    # Pseudo-groups belong to no collection: reach them through the IPs and sessions naming them.
    named = {ip.group_id for ip in ips if ip.group_id} | {g for s in sessions for g in s.group_ids}
    groups = {g.group_id: g for g in _load_in(conn, "group", "collection", collections)}
    groups.update((g.group_id, g) for g in _load_in(conn, "group", "group_id", named - set(groups)))
    courses = _load_in(conn, "moodle_course", "idnumber", scope)
    instances = _load_in(conn, "moodle_enrol", "course_id", (c.course_id for c in courses))
    enrolments = _load_in(conn, "moodle_enrolment", "enrol_id", (i.enrol_id for i in instances))
    # Who is who: Moodle users are account uids; students carry cod_etu, teachers staff_id.
    accounts = {a.uid: a for a in _load_in(conn, "account", "uid", (e.user for e in enrolments))}
    for column, wanted in (
        ("cod_etu", {ip.cod_etu for ip in ips}),
        (
            "staff_id",
            {t for s in sessions for t in s.teachers} | {t for f in fiches for t in f.teachers},
        ),
    ):
        accounts.update((a.uid, a) for a in _load_in(conn, "account", column, wanted))
    return FactSet.build(
        elps=elps,
        deleted_elps=deleted_elps,
        groups=groups.values(),
        collection_links=links,
        ips=ips,
        ias=_load_in(conn, "ia", "cod_etu", (ip.cod_etu for ip in ips)),
        fiches=fiches,
        sessions=sessions,
        courses=courses,
        enrol_instances=instances,
        enrolments=enrolments,
        accounts=accounts.values(),
        deleted_enrolments=[
            e for e in deleted_enrolments if e.enrol_id in {i.enrol_id for i in instances}
        ],
        group_members=_load_in(
            conn, "moodle_group_member", "course_id", (c.course_id for c in courses)
        ),
        runs=runs,
    )


def _neighbourhood(cod_elps: Collection[str], elps: Sequence[Any]) -> set[str]:
    """The ELPs plus their porteur and the portés of any of them (R5 ties them together)."""
    scope = set(cod_elps)
    by_code = {e.cod_elp: e for e in elps}
    for code in list(scope):
        elp = by_code.get(code)
        if elp is not None and elp.porteur:
            scope.add(elp.porteur)
    scope |= {e.cod_elp for e in elps if e.porteur in scope}
    return scope


def load_health_facts(conn: Connection) -> FactSet:
    """The light view ``continuous`` detectors read: every sync run and, per entity,
    only its newest row (live or deleted): enough to know when each source last spoke.
    """
    newest: dict[EntityName, list[Any]] = {}
    deleted_elps: list[Any] = []
    for name, table in fact_tables.items():
        if name == "sync_run":
            continue
        row = conn.execute(select(table).order_by(table.c.source_ts.desc()).limit(1)).first()
        if row is None:
            continue
        fact = _row_converter(name)(row)
        if name == "elp" and row._mapping["tombstone"]:
            deleted_elps.append(fact)
        else:
            newest[name] = [fact]
    return FactSet.build(
        elps=newest.get("elp", []),
        deleted_elps=deleted_elps,
        groups=newest.get("group", []),
        collection_links=newest.get("collection_link", []),
        ips=newest.get("ip", []),
        ias=newest.get("ia", []),
        accounts=newest.get("account", []),
        fiches=newest.get("ade_fiche", []),
        sessions=newest.get("ade_session", []),
        courses=newest.get("moodle_course", []),
        enrol_instances=newest.get("moodle_enrol", []),
        enrolments=newest.get("moodle_enrolment", []),
        group_members=newest.get("moodle_group_member", []),
        runs=_load(conn, "sync_run"),
    )
