"""The canonical Moodle views, resolved from Moodle's own rows when facts are loaded.

The store keeps Moodle's tables as they arrive (``monitor.store.moodle_rows``);
detectors read courses, enrolment instances, enrolments and group members
named as DOMAIN.md names them. Resolving at load time means a row that
arrived before the row it points to (a membership before its group or user,
an enrolment before its role assignment) simply resolves on the next load
once the other side is there; ``apply`` marks the ELP concerned dirty then.

- a user is named by ``moodle.localuserfield`` (``username`` by default),
  matched against the REFER account fields ``moodle.account_fields`` (the
  account's ``uid`` is the name); a user matching no account keeps the raw
  value, so detectors still count it as someone nobody expects;
- a user's role in a course is read from ``mdl_role_assignments`` in the
  course's context (``mdl_context`` level 50): rows of the enrol plugin
  (``component`` ``enrol_<method>``, ``itemid`` the instance) for synced
  methods, rows without component for manual and self enrolments;
- a Moodle instance serves several roles (enrol_database has one instance per
  course): the canonical instance ``enrol_id`` is the Moodle id for the
  instance's default role (``mdl_enrol.roleid``) and its negation for the
  other role; enrolments likewise (``id``, ``-id``);
- a course is archived when its category is one of ``moodle.archive_*``;
- an enrolment is active when it is (``status`` 0) and so is its instance.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, get_args

from sqlalchemy import Connection, Table, select

from detectors.facts import (
    EnrolMethod,
    MoodleCourse,
    MoodleEnrolInstance,
    MoodleEnrolment,
    MoodleGroupMember,
    Role,
)
from monitor.store.moodle_schema import CONTEXT_COURSE, ENROL_INSTANCE_ENABLED, ENROL_USER_ACTIVE
from monitor.store.moodle_settings import MoodleSettings
from monitor.store.rows import as_of_ms
from monitor.store.schema import fact_tables

_CHUNK = 500
_METHODS = frozenset(get_args(EnrolMethod))
# Enrol plugins that assign roles without a component (their assignments are the user's own).
_PLAIN_ROLE_METHODS = frozenset({"manual", "self"})
# roleid, component, itemid, source_ts, deleted
_Assignment = tuple[int, str, int, int, bool]


@dataclass
class MoodleView:
    """The canonical Moodle facts of a scope, and the users they name."""

    courses: list[MoodleCourse] = field(default_factory=list)
    instances: list[MoodleEnrolInstance] = field(default_factory=list)
    enrolments: list[MoodleEnrolment] = field(default_factory=list)
    deleted_enrolments: list[MoodleEnrolment] = field(default_factory=list)
    deleted_courses: list[MoodleCourse] = field(default_factory=list)
    group_members: list[MoodleGroupMember] = field(default_factory=list)

    @property
    def users(self) -> set[str]:
        return {e.user for e in self.enrolments} | {m.user for m in self.group_members}


def _seconds(value: int | None) -> datetime | None:
    return datetime.fromtimestamp(value, tz=UTC) if value else None  # 0: Moodle's "no date"


def _select(
    conn: Connection,
    name: str,
    columns: tuple[str, ...],
    where: tuple[str, Iterable[Any]] | None = None,
    *,
    tombstones: bool | None = False,
    since_ms: int | None = None,
) -> list[Any]:
    """Rows of a raw Moodle table (live, tombstones, or both when None), optionally by a column."""
    table: Table = fact_tables[name]  # type: ignore[index]
    statement = select(*(table.c[c] for c in columns), table.c.source_ts)
    if tombstones is not None:
        statement = statement.where(table.c.tombstone == tombstones)
    if since_ms is not None:
        statement = statement.where(table.c.source_ts >= since_ms)
    if where is None:
        return list(conn.execute(statement).all())
    column, values = where
    wanted = sorted({v for v in values if v is not None})
    found: list[Any] = []
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        found.extend(conn.execute(statement.where(table.c[column].in_(chunk))).all())
    return found


def archive_categories(conn: Connection, settings: MoodleSettings) -> set[int]:
    """Ids of the categories whose courses are archived."""
    archived = set(settings.archive_category_ids)
    if settings.archive_category_idnumbers or settings.archive_category_paths:
        for cid, idnumber, path, _ in _select(
            conn, "mdl_course_categories", ("id", "idnumber", "path")
        ):
            path = path or ""
            if (idnumber and idnumber in settings.archive_category_idnumbers) or any(
                path == prefix or path.startswith(prefix.rstrip("/") + "/")
                for prefix in settings.archive_category_paths
            ):
                archived.add(cid)
    return archived


class _Users:
    """Moodle user id -> the person's name in the canonical facts (an account uid)."""

    def __init__(self, conn: Connection, settings: MoodleSettings, ids: Iterable[int]) -> None:
        column = settings.localuserfield
        rows = _select(conn, "mdl_user", ("id", column), ("id", set(ids)))
        self.value = {uid: str(value) for uid, value, _ in rows if value}
        self.account: dict[str, str] = {}
        if settings.account_fields != ["uid"]:
            self._match_accounts(conn, settings, set(self.value.values()))

    def _match_accounts(self, conn: Connection, settings: MoodleSettings, values: set[str]) -> None:
        table = fact_tables["account"]
        for account_field in reversed(settings.account_fields):  # the first field wins
            statement = select(table.c[account_field], table.c.uid).where(~table.c.tombstone)
            wanted = sorted(values)
            for start in range(0, len(wanted), _CHUNK):
                chunk = wanted[start : start + _CHUNK]
                for value, uid in conn.execute(statement.where(table.c[account_field].in_(chunk))):
                    self.account[str(value)] = uid

    def name(self, userid: int | None) -> str | None:
        value = self.value.get(userid) if userid is not None else None
        if value is None:
            return None  # the user has not arrived (yet): resolved when it does
        return self.account.get(value, value)


def load_moodle_view(
    conn: Connection,
    settings: MoodleSettings,
    idnumbers: Collection[str] | None = None,
    *,
    deleted_since_ms: int | None = None,
) -> MoodleView:
    """The canonical Moodle facts of the courses whose idnumber is one of ``idnumbers`` (or all)."""
    where = None if idnumbers is None else ("idnumber", idnumbers)
    course_rows = _select(
        conn,
        "mdl_course",
        ("id", "idnumber", "shortname", "fullname", "visible", "category", "startdate", "enddate"),
        where,
    )
    archived = archive_categories(conn, settings)
    view = MoodleView()
    # R2's last stage: courses Moodle deleted (lmsjonction deletes archived ones), last row.
    gone_rows = _select(conn, "mdl_course", ("id", "idnumber", "category"), where, tombstones=True)
    for cid, idnumber, category, ts in gone_rows:
        view.deleted_courses.append(
            MoodleCourse(
                cid, idnumber or "", category=category or 0, archived=category in archived,
                as_of=as_of_ms(ts),
            )
        )  # fmt: skip
    for cid, idnumber, short, full, visible, category, start, end, ts in course_rows:
        view.courses.append(
            MoodleCourse(
                cid,
                idnumber or "",
                short or "",
                full or "",
                bool(visible),
                category or 0,
                category in archived,
                _seconds(start),
                _seconds(end),
                as_of_ms(ts),
            )
        )
    course_ids = [c.course_id for c in view.courses]
    by_course = None if idnumbers is None else course_ids

    def scoped(column: str, values: Iterable[Any] | None) -> tuple[str, Iterable[Any]] | None:
        return None if values is None else (column, values)

    context_of: dict[int, int] = {}
    for ctx, level, instance, _ in _select(
        conn, "mdl_context", ("id", "contextlevel", "instanceid"), scoped("instanceid", by_course)
    ):
        if level == CONTEXT_COURSE:
            context_of[instance] = ctx
    known_courses = set(course_ids)
    enrols = [
        r
        for r in _select(
            conn,
            "mdl_enrol",
            ("id", "courseid", "enrol", "roleid", "customint1", "timecreated", "status"),
            scoped("courseid", by_course),
        )
        if r[1] in known_courses and r[2] in _METHODS
    ]
    enrol_ids = None if idnumbers is None else [r[0] for r in enrols]
    ue_columns = ("id", "enrolid", "userid", "timestart", "timeend", "status")
    ues = _select(conn, "mdl_user_enrolments", ue_columns, scoped("enrolid", enrol_ids))
    deleted_ues = (
        []
        if deleted_since_ms is None
        else _select(
            conn,
            "mdl_user_enrolments",
            ue_columns,
            scoped("enrolid", enrol_ids),
            tombstones=True,
            since_ms=deleted_since_ms,
        )
    )
    contexts = None if idnumbers is None else list(context_of.values())
    roles: dict[tuple[int, int], list[_Assignment]] = defaultdict(list)
    for ctx, userid, roleid, component, itemid, tombstone, ts in _select(
        conn,
        "mdl_role_assignments",
        ("contextid", "userid", "roleid", "component", "itemid", "tombstone"),
        scoped("contextid", contexts),
        # A deleted enrolment's role assignment is usually deleted with it: read both then.
        tombstones=None if deleted_ues else False,
    ):
        roles[(ctx, userid)].append((roleid, component or "", itemid or 0, ts, bool(tombstone)))
    groups = {
        gid: (course, idnumber or "", ts)
        for gid, course, idnumber, ts in _select(
            conn, "mdl_groups", ("id", "courseid", "idnumber"), scoped("courseid", by_course)
        )
        if course in known_courses
    }
    members = _select(
        conn,
        "mdl_groups_members",
        ("groupid", "userid"),
        scoped("groupid", None if idnumbers is None else list(groups)),
    )
    users = _Users(
        conn,
        settings,
        {r[2] for r in ues} | {r[2] for r in deleted_ues} | {m[1] for m in members},
    )
    resolver = _Resolver(settings, context_of, roles, users)
    for row in enrols:
        resolver.add_instance(*row)
    view.enrolments = [e for row in ues for e in resolver.enrolments(row, deleted=False)]
    view.deleted_enrolments = [e for row in deleted_ues for e in resolver.enrolments(row, True)]
    view.instances = list(resolver.instances.values())
    seen: set[tuple[int, str, str]] = set()
    for gid, userid, ts in members:
        group = groups.get(gid)
        user = users.name(userid)
        if group is None or user is None:
            continue  # the group or the user has not arrived (yet)
        course, idnumber, group_ts = group
        if (course, idnumber, user) not in seen:
            seen.add((course, idnumber, user))
            as_of = max(ts, group_ts)
            view.group_members.append(MoodleGroupMember(course, idnumber, user, as_of_ms(as_of)))
    return view


class _Resolver:
    """Enrolment instances and enrolments with their roles, as the detectors expect them."""

    def __init__(
        self,
        settings: MoodleSettings,
        context_of: dict[int, int],
        roles: dict[tuple[int, int], list[_Assignment]],
        users: _Users,
    ) -> None:
        self.settings = settings
        self.context_of = context_of
        self.roles = roles
        self.users = users
        self.moodle: dict[int, tuple[int, EnrolMethod, Role, int | None, datetime | None, int]] = {}
        self.disabled: set[int] = set()
        self.instances: dict[int, MoodleEnrolInstance] = {}

    def add_instance(
        self,
        enrol_id: int,
        course_id: int,
        method: EnrolMethod,
        roleid: int | None,
        cohort: int | None,
        created: int | None,
        status: int | None,
        ts: int,
    ) -> None:
        if status not in (None, ENROL_INSTANCE_ENABLED):
            self.disabled.add(enrol_id)  # its enrolments give no access: not active
        role = self.settings.role_of(roleid) or "student"
        cohort_id = cohort if method == "cohort" else None
        self.moodle[enrol_id] = (course_id, method, role, cohort_id, _seconds(created), ts)
        self._instance(enrol_id, role)

    def _instance(self, enrol_id: int, role: Role) -> int:
        course_id, method, primary, cohort_id, created, ts = self.moodle[enrol_id]
        canonical = enrol_id if role == primary else -enrol_id
        if canonical not in self.instances:
            self.instances[canonical] = MoodleEnrolInstance(
                canonical, course_id, method, role, cohort_id, created, as_of_ms(ts)
            )
        return canonical

    def _roles_of(self, enrol_id: int, userid: int, deleted: bool) -> dict[Role, int]:
        course_id, method, _, _, _, _ = self.moodle[enrol_id]
        ctx = self.context_of.get(course_id)
        found: dict[Role, int] = {}
        if ctx is None:
            return found  # the course's context has not arrived (yet)
        component = "" if method in _PLAIN_ROLE_METHODS else f"enrol_{method}"
        for roleid, ra_component, itemid, ts, gone in self.roles.get((ctx, userid), ()):
            if (gone and not deleted) or ra_component != component:
                continue
            if component and itemid != enrol_id:
                continue
            role = self.settings.role_of(roleid)
            if role is not None:
                found[role] = max(found.get(role, 0), ts)
        return found

    def enrolments(self, row: Any, deleted: bool) -> list[MoodleEnrolment]:
        ue_id, enrol_id, userid, start, end, status, ts = row
        if enrol_id not in self.moodle:
            return []  # the instance has not arrived (yet), or is of another method
        user = self.users.name(userid)
        if user is None:
            return []
        roles = self._roles_of(enrol_id, userid, deleted)
        if deleted and not roles:
            roles = {self.moodle[enrol_id][2]: ts}  # its role assignment went with it
        primary = self.moodle[enrol_id][2]
        return [
            MoodleEnrolment(
                ue_id if role == primary else -ue_id,
                self._instance(enrol_id, role),
                user,
                _seconds(start),
                _seconds(end),
                status == ENROL_USER_ACTIVE and enrol_id not in self.disabled,
                # Not the user's date: Moodle rewrites mdl_user at every login.
                as_of_ms(ts if deleted else max(ts, role_ts)),
            )
            for role, role_ts in sorted(roles.items())
        ]
