"""What tonight's lmsjonction run decides, as a plain procedure over REFER, ADE and Moodle rows.

Independent of ``detectors.model`` (see ``night_rules``): it reads the rows the
simulator holds (``elps``, ``groups``, ``links``, ``ips``, ``ias``, ``fiches``,
``sessions``, ``courses`` mappings) and returns a ``NightPlan``. In the order
the seed tells it:

1. Courses ("Cours archivé", "Manque inscription jusqu'au groupe", "Relation
   porteur porté"): a current element (in REFER, not porté) gets a hidden empty
   course if it has a group, a real one or the pseudo-group ``ELP_…`` made "à
   condition qu'il y ait bien des charges d'enseignement"; a course whose code
   "n'existe plus en l'état dans Apogee" (gone, changed, become porté) is
   archived; a code that comes back is unarchived.
2. Students, one IP row at a time (``night_rules``): group down to the group,
   porté collections, the FOAD table, suspension, Erasmus, cancelled IAs.
3. Teachers ("Planification ADE non compatible"): planned in a session of a
   fiche of a current element; sessions on the pseudo-group are masked by real groups.
4. The report lines per element and student: ``Insc. BDD``, ``w9``, "groupe existe déjà".
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from monitor.simulation.night_rules import (
    FOAD_ROWS,
    PSEUDO_PREFIX,
    Registration,
    RunSwitches,
    Years,
    group_is_foad,
    is_pseudo,
    student_blocked,
)

Line = tuple[str, str, str, str | None, str | None]  # level, code, text, cod_elp, cod_etu


@dataclass(slots=True)
class CoursePlan:
    """One course tonight: students (with their groups), teachers, suspended or not."""

    idnumber: str
    course_id: int | None
    suspended: bool = False
    students: dict[str, set[str]] = field(default_factory=dict)
    teachers: set[str] = field(default_factory=set)  # planned, and whole teams (quirk)
    planned: set[str] = field(default_factory=set)
    portes: tuple[str, ...] = ()


@dataclass(slots=True)
class NightPlan:
    """Course actions (``create`` idnumber, ``archive``/``unarchive`` course id), courses, lines."""

    actions: list[tuple[str, str, int | None]] = field(default_factory=list)
    courses: dict[str, CoursePlan] = field(default_factory=dict)
    lines: list[Line] = field(default_factory=list)


class _Refer:
    """The rows, indexed the way the run walks them."""

    def __init__(self, uni: Any) -> None:
        self.elps: dict[str, Any] = uni.elps
        self.groups: dict[str, Any] = uni.groups
        self.by_collection: dict[str, list[str]] = defaultdict(list)
        for group in self.groups.values():
            if group.collection is not None:
                self.by_collection[group.collection].append(group.group_id)
        self.links: dict[str, set[str]] = defaultdict(set)  # cod_elp -> collections
        for link in uni.links.values():
            self.links[link.cod_elp].add(link.collection)
        self.ips: dict[str, list[Any]] = defaultdict(list)
        for ip in uni.ips.values():
            self.ips[ip.cod_elp].append(ip)
        self.ias: dict[str, list[Any]] = defaultdict(list)
        for ia in uni.ias.values():
            self.ias[ia.cod_etu].append(ia)
        self.portes: dict[str, list[str]] = defaultdict(list)
        for code, elp in self.elps.items():
            if elp.porteur is not None:
                self.portes[elp.porteur].append(code)
        self.sessions: dict[str, list[Any]] = defaultdict(list)
        for session in uni.sessions.values():
            self.sessions[session.fiche_id].append(session)
        self.fiches: list[Any] = sorted(uni.fiches.values(), key=lambda f: f.fiche_id)
        self._pseudo: dict[str, list[str]] | None = None

    def pseudo_groups(self, code: str) -> list[str]:
        """REFER's pseudo-groups ``ELP_<code>_…`` of an element, indexed once."""
        if self._pseudo is None:
            self._pseudo = defaultdict(list)
            for group_id in sorted(self.groups):
                if is_pseudo(group_id):
                    rest = group_id[len(PSEUDO_PREFIX) :]
                    for cut, char in enumerate(rest):
                        if char == "_" and cut > 0:
                            self._pseudo[rest[:cut]].append(group_id)
        return self._pseudo.get(code, [])

    def current(self, code: str) -> bool:
        elp = self.elps.get(code)
        return elp is not None and elp.porteur is None

    def real_groups(self, code: str) -> set[str]:
        return {
            group_id
            for collection in self.links.get(code, ())
            for group_id in self.by_collection.get(collection, ())
            if not is_pseudo(group_id)
        }


def _course_actions(refer: _Refer, uni: Any, real: dict[str, set[str]]) -> NightPlan:
    plan = NightPlan()
    by_code: dict[str, list[Any]] = defaultdict(list)
    for course in uni.courses.values():
        if course.idnumber:  # a course without idnumber is not lmsjonction's
            by_code[course.idnumber].append(course)
    for code in sorted(set(by_code) | set(refer.elps)):
        courses = sorted(by_code.get(code, []), key=lambda c: c.course_id)
        live = [c for c in courses if not c.archived]
        if refer.current(code):
            elp = refer.elps[code]
            if live:
                plan.courses[code] = CoursePlan(code, live[-1].course_id)
            elif courses:
                plan.actions.append(("unarchive", code, courses[-1].course_id))
                plan.courses[code] = CoursePlan(code, courses[-1].course_id)
            elif real[code] or elp.has_teaching_load:
                plan.actions.append(("create", code, None))
                plan.courses[code] = CoursePlan(code, None)
            if code in plan.courses:
                plan.courses[code].suspended = elp.status == "suspended"
                plan.courses[code].portes = tuple(sorted(refer.portes.get(code, ())))
        else:
            plan.actions.extend(("archive", code, c.course_id) for c in live)
    return plan


def _register(refer: _Refer, ip: Any, real: dict[str, set[str]], sw: RunSwitches) -> Registration:
    """One IP row: which course and group it gives, and what lmsjonction reports about it."""
    elp = refer.elps.get(ip.cod_elp)
    if elp is None:  # gone from REFER: nothing to synchronise
        return Registration(None, False, None)
    course = elp.porteur or ip.cod_elp
    if not refer.current(course):
        return Registration(None, False, None)
    porteur = refer.elps[course]
    group_id: str | None = ip.group_id
    if elp.porteur is not None:
        # "il faut : que ces étudiants soient inscrits dans un groupe ; que ce ou ces groupes
        # soi(en)t dans une collection de groupe ; que la collection ... soit associée à tous
        # les éléments pédagogiques concernés, porteur et portés"
        if group_id is None:
            return Registration(course, False, None)
        group = refer.groups.get(group_id)
        sharing = [course, *refer.portes.get(course, ())]
        if group is None or not all(group.collection in refer.links.get(c, ()) for c in sharing):
            text = (
                f"Impossible de créer le groupe {group_id} dans le cours {course} : "
                "il existe déjà dans un autre cours"
            )
            return Registration(course, False, None, (("alert", "group_exists", text),))
    elif real[ip.cod_elp]:
        # "Quand il existe des groupes dans APOGÉE, l'inscription pédagogique doit être faite
        # jusqu'au groupe. Sinon l'inscription des étudiants ... n'a pas lieu."
        if group_id is None or is_pseudo(group_id):
            return Registration(course, False, None)
    elif not elp.has_teaching_load:
        return Registration(course, False, None)  # no pseudo-group without teaching load
    elif group_id is None or not (
        group_id == f"{PSEUDO_PREFIX}{ip.cod_elp}"
        or group_id.startswith(f"{PSEUDO_PREFIX}{ip.cod_elp}_")
    ):
        named = refer.pseudo_groups(ip.cod_elp)
        group_id = named[0] if named else f"{PSEUDO_PREFIX}{ip.cod_elp}"
    assert group_id is not None
    row = (int(group_is_foad(refer.groups.get(group_id))), int(elp.a_distance), int(ip.distant))
    _situation, insc_bdd, update_groups, not_enrolled, no_group = FOAD_ROWS[row]
    lines: list[tuple[str, str, str]] = []
    if insc_bdd:
        text = f"Insc. BDD : {ip.cod_etu} non inscrit au cours {course}"
        lines.append(("error", "Insc. BDD", text))
    if update_groups:
        text = f"w9, mise à jour des groupes : {ip.cod_etu} sans groupe dans {course}"
        lines.append(("warning", update_groups, text))
    suspended = elp.status == "suspended" or porteur.status == "suspended"
    blocked = student_blocked(refer.ias.get(ip.cod_etu, []), ip.year, elp.period, sw)
    enrolled = not (not_enrolled or suspended or blocked)
    group = None if no_group or not enrolled else group_id
    return Registration(course, enrolled, group, tuple(lines), suspended)


def _teachers(refer: _Refer, plan: NightPlan, real: dict[str, set[str]], years: Years) -> None:
    """ "L'inscription automatique d'un enseignant ... lorsqu'une planification ADE valide existe"."""
    for fiche in refer.fiches:
        code = fiche.cod_elp
        if code is None or not refer.current(code) or code not in plan.courses:
            continue  # ADE-only fiche, obsolete or porté element
        for session in refer.sessions.get(fiche.fiche_id, ()):
            masked = (
                bool(real[code])
                and bool(session.group_ids)
                and all(is_pseudo(g) for g in session.group_ids)
            )
            if not masked and years.session_counts(session.start):
                plan.courses[code].teachers.update(session.teachers)
                plan.courses[code].planned.update(session.teachers)


def plan_night(
    uni: Any, now: datetime, switches: RunSwitches, team_fiches: frozenset[str] = frozenset()
) -> NightPlan:
    """The whole night at ``now``; ``team_fiches``: fiches whose whole team is enrolled (quirk)."""
    refer = _Refer(uni)
    years = Years(now, switches)
    real = defaultdict(set, {code: refer.real_groups(code) for code in refer.elps})
    plan = _course_actions(refer, uni, real)
    reported: set[tuple[str, str, str | None]] = set()
    for code in sorted(refer.ips):
        for ip in sorted(refer.ips[code], key=lambda i: (i.cod_etu, i.group_id or "")):
            if not years.counts(ip.year):
                continue
            reg = _register(refer, ip, real, switches)
            for level, kind, text in reg.lines:
                who = None if kind == "group_exists" else ip.cod_etu
                if (kind, code, who or ip.group_id) not in reported:
                    reported.add((kind, code, who or ip.group_id))
                    plan.lines.append((level, kind, text, code, who))
            course = plan.courses.get(reg.course or "")
            if course is not None and reg.enrolled and not course.suspended:
                groups = course.students.setdefault(ip.cod_etu, set())
                if reg.group is not None:
                    groups.add(reg.group)
    _teachers(refer, plan, real, years)
    for fiche in refer.fiches:
        elp = refer.elps.get(fiche.cod_elp or "")
        if fiche.fiche_id in team_fiches and elp is not None:
            course = plan.courses.get(elp.porteur or elp.cod_elp)
            if course is not None:
                course.teachers.update(fiche.teachers)
    return plan
