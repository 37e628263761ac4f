"""The state store: idempotent, version-ordered apply and the detectors' snapshot, on both backends."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, select

from monitor.kafka.mapping import Change, fact_to_row
from monitor.simulation.moodle_source import raw
from monitor.store.apply import apply_changes
from monitor.store.moodle_settings import MoodleSettings
from monitor.store.schema import dirty_elp, fact_tables
from monitor.store.snapshot import load_facts

NOW = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
ELP = {
    "cod_elp": "RCAED334",
    "label": "Méthodologie",
    "cod_cmp": "12",
    "a_distance": False,
    "status": "open",
    "porteur": None,
    "has_teaching_load": True,
    "period": "S1",
    "year": 2026,
}


def _elp_change(ts: int, seq: int = 0, *, deleted: bool = False, **values: object) -> Change:
    return Change("elp", "RCAED334", ELP | values, source_ts=ts, source_seq=seq, deleted=deleted)


def _ip(cod_etu: str, ts: int, group: str | None = "RCAED334TD") -> Change:
    row = {
        "cod_etu": cod_etu,
        "cod_elp": "RCAED334",
        "group_id": group,
        "distant": False,
        "year": 2026,
    }
    return Change("ip", f"{cod_etu}\x1fRCAED334", row, source_ts=ts)


def _state(engine: Engine) -> list[tuple[object, ...]]:
    with engine.connect() as conn:
        rows = conn.execute(select(fact_tables["elp"]).order_by("key")).all()
    return [tuple(r)[:-1] for r in rows]  # without ingested_at


def test_applying_the_same_changes_twice_gives_the_same_state(store_engine: Engine) -> None:
    changes = [_elp_change(1000), _elp_change(2000, label="Méthodo 2"), _ip("21609846", 1500)]
    with store_engine.begin() as conn:
        first = apply_changes(conn, changes, NOW)
    state = _state(store_engine)
    with store_engine.begin() as conn:
        again = apply_changes(conn, changes, NOW)
    assert _state(store_engine) == state
    assert first.written == 2  # the two ELP changes collapse to the newest
    assert again.written == 2 and again.skipped_stale == 0  # same version rewrites identically


def test_an_older_event_never_overwrites_a_newer_one(store_engine: Engine) -> None:
    with store_engine.begin() as conn:
        apply_changes(conn, [_elp_change(2000, 5, label="récent")], NOW)
    with store_engine.begin() as conn:
        outcome = apply_changes(
            conn, [_elp_change(2000, 4, label="ancien"), _elp_change(1000)], NOW
        )
    assert outcome.skipped_stale == 1
    with store_engine.connect() as conn:
        label = conn.execute(select(fact_tables["elp"].c.label)).scalar_one()
    assert label == "récent"


def test_delete_keeps_a_tombstone_that_a_late_create_cannot_resurrect(store_engine: Engine) -> None:
    with store_engine.begin() as conn:
        apply_changes(conn, [_elp_change(1000), _elp_change(3000, deleted=True)], NOW)
        apply_changes(conn, [_elp_change(2000)], NOW)
    with store_engine.connect() as conn:
        facts = load_facts(conn)
    assert "RCAED334" not in facts.elps
    assert facts.deleted_elps["RCAED334"].as_of == datetime.fromtimestamp(3, tz=UTC)


def test_each_row_keeps_its_source_timestamp_and_marks_its_elp_dirty(store_engine: Engine) -> None:
    with store_engine.begin() as conn:
        batch = apply_changes(conn, [_ip("21609846", 1_764_489_600_000)], NOW)
    assert batch.dirty_elps == {"RCAED334"}
    with store_engine.connect() as conn:
        facts = load_facts(conn, ["RCAED334"])
        dirty = conn.execute(select(dirty_elp.c.cod_elp)).scalars().all()
    (ip,) = facts.ips
    assert ip.as_of == datetime(2025, 11, 30, 8, 0, tzinfo=UTC)
    assert dirty == ["RCAED334"]


def test_truncate_tombstones_every_older_row(store_engine: Engine) -> None:
    with store_engine.begin() as conn:
        apply_changes(conn, [_ip("1", 1000), _ip("2", 1000)], NOW)
        apply_changes(conn, [Change("ip", "*", {}, source_ts=2000, truncate=True)], NOW)
    with store_engine.connect() as conn:
        assert load_facts(conn).ips == ()


def _mdl(entity: str, ts: int, **columns: object) -> Change:
    """A change to a row of one of Moodle's own tables, as the ingest makes it."""
    fact = raw(entity, **columns)
    return Change(entity, str(fact.id), fact_to_row(fact), source_ts=ts)  # type: ignore[arg-type]


def _dirty_after(conn: Connection, changes: list[Change]) -> set[str]:
    conn.execute(dirty_elp.delete())
    return apply_changes(conn, changes, NOW).dirty_elps


def test_an_enrolment_change_marks_the_elp_of_its_course_dirty(store_engine: Engine) -> None:
    course = _mdl("mdl_course", 1, id=7, idnumber="RCAED334", shortname="R", visible=1, category=1)
    instance = _mdl("mdl_enrol", 1, id=70, courseid=7, enrol="database", roleid=5, status=0)
    with store_engine.begin() as conn:
        assert _dirty_after(conn, [course, instance]) == {"RCAED334"}
        enrolment = _mdl("mdl_user_enrolments", 2, id=5, enrolid=70, userid=3, status=0)
        assert _dirty_after(conn, [enrolment]) == {"RCAED334"}


def test_each_late_side_of_a_moodle_row_marks_the_elp_once_it_arrives(
    store_engine: Engine,
) -> None:
    """A membership before its group and user, an enrolment before its role and context."""
    with store_engine.begin() as conn:
        early = [
            _mdl("mdl_groups_members", 1, id=1, groupid=40, userid=3),
            _mdl("mdl_user_enrolments", 1, id=5, enrolid=70, userid=3, status=0),
            _mdl("mdl_role_assignments", 1, id=9, roleid=5, contextid=80, userid=3,
                 component="enrol_database", itemid=70),
        ]  # fmt: skip
        assert _dirty_after(conn, early) == set()  # no course known yet: nothing to look at
        course = _mdl("mdl_course", 2, id=7, idnumber="RCAED334", visible=1, category=1)
        assert _dirty_after(conn, [course]) == {"RCAED334"}
        late = {
            "group": _mdl("mdl_groups", 3, id=40, courseid=7, idnumber="RCAED334TD"),
            "instance": _mdl("mdl_enrol", 3, id=70, courseid=7, enrol="database", roleid=5),
            "context": _mdl("mdl_context", 3, id=80, contextlevel=50, instanceid=7),
            "user": _mdl("mdl_user", 3, id=3, username="jdupont"),
        }
        for side, change in late.items():
            assert _dirty_after(conn, [change]) == {"RCAED334"}, side
        facts = load_facts(conn)
    (enrolment,) = facts.enrolments
    assert enrolment.user == "jdupont" and enrolment.enrol_id == 70
    assert facts.enrol_instances[70].role == "student"
    (member,) = facts.group_members
    assert (member.course_id, member.group_idnumber, member.user) == (7, "RCAED334TD", "jdupont")


def test_a_teacher_of_the_one_database_instance_is_told_by_its_role_assignment(
    store_engine: Engine,
) -> None:
    rows = [
        _mdl("mdl_course", 1, id=7, idnumber="RCAED334", visible=1, category=999),
        _mdl("mdl_context", 1, id=80, contextlevel=50, instanceid=7),
        _mdl("mdl_enrol", 1, id=70, courseid=7, enrol="database", roleid=5, status=0),
        _mdl("mdl_user", 1, id=3, username="jdupont"),
        _mdl("mdl_user", 1, id=4, username="pmartin"),
        _mdl("mdl_user_enrolments", 1, id=5, enrolid=70, userid=3, status=0),
        _mdl("mdl_user_enrolments", 1, id=6, enrolid=70, userid=4, status=1),
        _mdl("mdl_role_assignments", 1, id=9, roleid=5, contextid=80, userid=3,
             component="enrol_database", itemid=70),
        _mdl("mdl_role_assignments", 1, id=10, roleid=3, contextid=80, userid=4,
             component="enrol_database", itemid=70),
        # A role given by hand is not the sync's.
        _mdl("mdl_role_assignments", 1, id=11, roleid=3, contextid=80, userid=3,
             component="", itemid=0),
    ]  # fmt: skip
    with store_engine.begin() as conn:
        apply_changes(conn, rows, NOW)
        facts = load_facts(conn, ["RCAED334"])
    roles = {(e.user, facts.enrol_instances[e.enrol_id].role, e.active) for e in facts.enrolments}
    assert roles == {("jdupont", "student", True), ("pmartin", "teacher", False)}
    assert facts.courses[7].archived  # category 999, the default archive


def test_enrolments_through_a_disabled_instance_are_not_active(store_engine: Engine) -> None:
    rows = [
        _mdl("mdl_course", 1, id=7, idnumber="RCAED334", visible=1, category=1),
        _mdl("mdl_context", 1, id=80, contextlevel=50, instanceid=7),
        _mdl("mdl_enrol", 1, id=71, courseid=7, enrol="self", roleid=5, status=1),
        _mdl("mdl_user", 1, id=3, username="jdupont"),
        _mdl("mdl_user_enrolments", 1, id=5, enrolid=71, userid=3, status=0),
        _mdl("mdl_role_assignments", 1, id=9, roleid=5, contextid=80, userid=3, component=""),
    ]
    with store_engine.begin() as conn:
        apply_changes(conn, rows, NOW)
        (enrolment,) = load_facts(conn, ["RCAED334"]).enrolments
    assert enrolment.user == "jdupont" and not enrolment.active


def test_users_by_idnumber_and_the_archive_by_category_path(store_engine: Engine) -> None:
    """A site whose enrol_database matches mdl_user.idnumber with the student number."""
    moodle = MoodleSettings(
        localuserfield="idnumber",
        account_fields=["cod_etu", "staff_id"],
        archive_category_ids=[],
        archive_category_paths=["/12/900"],
    )
    account = {"uid": "jdupont", "kind": "student", "cod_etu": "21500001", "staff_id": None,
               "last_name": "", "first_name": "", "email": None, "cod_cmp": None}  # fmt: skip
    rows = [
        Change("account", "jdupont", account, 1),
        _mdl("mdl_course_categories", 1, id=901, idnumber="ARCH-2025", path="/12/900/901"),
        _mdl("mdl_course", 1, id=7, idnumber="RCAED334", visible=1, category=901),
        _mdl("mdl_context", 1, id=80, contextlevel=50, instanceid=7),
        _mdl("mdl_enrol", 1, id=70, courseid=7, enrol="database", roleid=5, status=0),
        _mdl("mdl_user", 1, id=3, username="x-ldap-3", idnumber="21500001"),
        _mdl("mdl_user_enrolments", 1, id=5, enrolid=70, userid=3, status=0),
        _mdl("mdl_role_assignments", 1, id=9, roleid=5, contextid=80, userid=3,
             component="enrol_database", itemid=70),
    ]  # fmt: skip
    with store_engine.begin() as conn:
        apply_changes(conn, rows, NOW)
        facts = load_facts(conn, ["RCAED334"], moodle=moodle)
    (enrolment,) = facts.enrolments
    assert enrolment.user == "jdupont"  # the account's uid, found by its student number
    assert "jdupont" in facts.accounts
    assert facts.courses[7].archived  # under /12/900


def test_a_login_rewriting_mdl_user_sends_no_course_back_but_a_new_username_does(
    store_engine: Engine,
) -> None:
    user = {"id": 3, "username": "jdupont", "email": "j@univ.fr"}
    with store_engine.begin() as conn:
        apply_changes(conn, [
            _mdl("mdl_course", 1, id=7, idnumber="RCAED334", visible=1, category=1),
            _mdl("mdl_enrol", 1, id=70, courseid=7, enrol="database", roleid=5),
            _mdl("mdl_user_enrolments", 1, id=5, enrolid=70, userid=3, status=0),
            _mdl("mdl_user", 1, **user),
        ], NOW)  # fmt: skip
        # lastaccess and lastlogin changed: the columns the store keeps did not.
        assert _dirty_after(conn, [_mdl("mdl_user", 2, **user)]) == set()
        renamed = _mdl("mdl_user", 3, **(user | {"username": "jdupont2"}))
        assert _dirty_after(conn, [renamed]) == {"RCAED334"}
