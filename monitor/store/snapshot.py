"""Load a ``FactSet`` (the detectors' read-only view) from the state store.

Either everything (after a sync run, daily passes) or the neighbourhood of a
few dirty ELPs (after an ingested batch): the ELPs themselves with their
porteur and portés, their groups, IPs, the IAs of those students, ADE fiches
and sessions, the courses whose idnumber is one of them with their
enrolments, and the sync runs. All ELPs are always loaded: R2's "code
changed" cause compares labels across the whole offer (``ElpOffer`` keeps
them between neighbourhood loads).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, func, select

from detectors.facts import EPOCH, MoodleCourse
from detectors.state import FactSet
from monitor.store.entities import EntityName
from monitor.store.moodle_settings import MoodleSettings
from monitor.store.moodle_views import load_moodle_view
from monitor.store.offer import ElpOffer
from monitor.store.rows import load_rows, load_rows_in, row_converter
from monitor.store.schema import fact_tables


def load_facts(
    conn: Connection,
    cod_elps: Collection[str] | None = None,
    *,
    deleted_since: datetime | None = None,
    offer: ElpOffer | None = None,
    moodle: MoodleSettings | None = None,
) -> FactSet:
    """The whole state (``cod_elps`` None) or the neighbourhood of the given ELPs.

    ``deleted_since`` also loads the Moodle enrolments deleted since then
    (``enrolments_lost`` compares them with the model). ``offer`` keeps the ELPs
    between neighbourhood loads of one store. ``moodle`` says how Moodle's rows
    resolve into the canonical views (``monitor.store.moodle_views``).
    """
    moodle = moodle or MoodleSettings()
    if cod_elps is not None and offer is not None:
        elps, deleted_elps = offer.read(conn)
    else:
        elps, deleted_elps = load_rows(conn, "elp"), load_rows(conn, "elp", tombstones=True)
    runs = load_rows(conn, "sync_run")
    since_ms = None if deleted_since is None else int(deleted_since.timestamp() * 1000)
    if cod_elps is None:
        view = load_moodle_view(conn, moodle, deleted_since_ms=since_ms)
        return FactSet.build(
            elps=elps,
            deleted_elps=deleted_elps,
            groups=load_rows(conn, "group"),
            collection_links=load_rows(conn, "collection_link"),
            ips=load_rows(conn, "ip"),
            ias=load_rows(conn, "ia"),
            accounts=load_rows(conn, "account"),
            fiches=load_rows(conn, "ade_fiche"),
            sessions=load_rows(conn, "ade_session"),
            courses=view.courses,
            enrol_instances=view.instances,
            enrolments=view.enrolments,
            group_members=view.group_members,
            runs=runs,
            deleted_enrolments=view.deleted_enrolments,
            deleted_courses=view.deleted_courses,
        )
    scope = _neighbourhood(cod_elps, elps)
    links = load_rows_in(conn, "collection_link", "cod_elp", scope)
    collections = {link.collection for link in links}
    ips = load_rows_in(conn, "ip", "cod_elp", scope)
    fiches = load_rows_in(conn, "ade_fiche", "cod_elp", scope)
    sessions = load_rows_in(conn, "ade_session", "fiche_id", (f.fiche_id for f in fiches))
    # Pseudo-groups belong to no collection: reach them through the IPs and sessions naming them.
    named = {ip.group_id for ip in ips if ip.group_id} | {g for s in sessions for g in s.group_ids}
    groups = {g.group_id: g for g in load_rows_in(conn, "group", "collection", collections)}
    groups.update(
        (g.group_id, g) for g in load_rows_in(conn, "group", "group_id", named - set(groups))
    )
    view = load_moodle_view(conn, moodle, scope, deleted_since_ms=since_ms)
    # Who is who: Moodle users are account uids; students carry cod_etu, teachers staff_id.
    accounts = {a.uid: a for a in load_rows_in(conn, "account", "uid", view.users)}
    for column, wanted in (
        ("cod_etu", {ip.cod_etu for ip in ips}),
        (
            "staff_id",
            {t for s in sessions for t in s.teachers} | {t for f in fiches for t in f.teachers},
        ),
    ):
        accounts.update((a.uid, a) for a in load_rows_in(conn, "account", column, wanted))
    return FactSet.build(
        elps=elps,
        deleted_elps=deleted_elps,
        groups=groups.values(),
        collection_links=links,
        ips=ips,
        ias=load_rows_in(conn, "ia", "cod_etu", (ip.cod_etu for ip in ips)),
        fiches=fiches,
        sessions=sessions,
        courses=view.courses,
        enrol_instances=view.instances,
        enrolments=view.enrolments,
        accounts=accounts.values(),
        deleted_enrolments=view.deleted_enrolments,
        deleted_courses=view.deleted_courses,
        group_members=view.group_members,
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
    moodle_as_of = EPOCH
    for name, table in fact_tables.items():
        if name == "sync_run":
            continue
        if name.startswith("mdl_"):
            # Moodle's raw rows: only when Moodle last spoke matters here.
            last = conn.execute(select(func.max(table.c.source_ts))).scalar()
            if last is not None:
                moodle_as_of = max(moodle_as_of, datetime.fromtimestamp(last / 1000, tz=UTC))
            continue
        columns, convert = row_converter(name)
        newest_first = select(*columns, table.c.tombstone).order_by(table.c.source_ts.desc())
        row = conn.execute(newest_first.limit(1)).first()
        if row is None:
            continue
        *values, tombstone = row
        fact = convert(values)
        if name == "elp" and tombstone:
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
        # A stand-in course dated when Moodle last spoke (``newest_by_source``).
        courses=[MoodleCourse(0, as_of=moodle_as_of)] if moodle_as_of != EPOCH else [],
        runs=load_rows(conn, "sync_run"),
    )
