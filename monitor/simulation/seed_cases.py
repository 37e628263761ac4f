"""The seed's own examples, under the seed's names, in every synthetic university.

- ``RCAED334`` (section "Mauvaise gestion statut à distance", the REFER queries): a
  presential ELP (``A_DISTANCE`` N) without group but with a teaching load, its
  students in the pseudo-group ``ELP_RCAED334_CM``. Fault: one registration put
  in télé-enseignement (``DISTANT``), FOAD case a: not enrolled.
- ``IRAN-15``: a distance ELP, its CEMU group, and student ``21609846`` whose IA is in
  télé-enseignement, the seed's example of the three flags declared right: never an alert.
- ``M.1.MS03`` "Théories chang. social" (section "Élément suspendu", 12 UFR HSS, S1).
  Fault: suspended in APOGÉE.
- ``2HR5C`` porté by ``M.1HRP9C`` (section "Mauvaise gestion de la relation
  porteur/porté"): the collection ``M.1HRP9CTD`` (groups ``M.1HRP9CEM`` and
  ``M.1HRP9CTD``) attached to both. Fault: the collection no longer shared with
  the porté, whose students vanish from the porteur's course.

``add_seed_cases`` builds them clean, before Moodle exists, so the initial run
gives them courses like any other ELP; the students come from étapes of the
right kind. The ELPs are in no étape's list and ``reserve`` keeps the day-to-day
traffic and the random faults away from them; the ``seed_cases`` faults of
``FaultConfig`` break them on a day, with their ground truth.
"""

from __future__ import annotations

import random
from datetime import datetime

from detectors.facts import Account, AdeFiche, CollectionLink, Elp, Group, Ip, Period
from monitor.simulation.academic import AcademicCalendar
from monitor.simulation.generate_ade import add_session, fiche_id
from monitor.simulation.generate_people import make_ia
from monitor.simulation.inject_students import lost_access, suspend, unshare_collection
from monitor.simulation.injection import Injection, SimState
from monitor.simulation.organisation import ElpKind, Etape, EtapeKind
from monitor.simulation.university import University
from monitor.simulation.words import STUDENT_DOMAIN

RCAED334 = "RCAED334"
IRAN15 = "IRAN-15"
MS03 = "M.1.MS03"
PORTEUR = "M.1HRP9C"
PORTE = "2HR5C"
COLLECTION = "M.1HRP9CTD"
DISTANCE_STUDENT = "21609846"
SEED_ELPS = frozenset({RCAED334, IRAN15, MS03, PORTEUR, PORTE})

HSS, LAW = "12", "05"  # the seed's "12 UFR HSS"; RCAED334's composante is not given
STUDENTS = 24
SESSIONS = 12


def _etape(uni: University, kind: EtapeKind, cod_cmp: str, skip: int = 0) -> Etape:
    """An étape of ``kind`` with students, of the composante if it has one (else any)."""
    found = [e for e in uni.etapes.values() if e.kind == kind and e.students]
    own = [e for e in found if e.cod_cmp == cod_cmp] or found
    return own[skip % len(own)]


def _students(uni: University, etape: Etape, count: int, skip: int = 0) -> list[str]:
    """Students of the étape with an active IA and no exchange programme."""
    fit = []
    for cod_etu in etape.students:
        ia = uni.active_ia(cod_etu)
        if ia is not None and ia.exchange_programme is None and ia.replaces is None:
            fit.append(cod_etu)
    return fit[skip : skip + count]


class _Builder:
    """Writes the seed's rows as snapshot rows (``load``), as the generator does."""

    def __init__(self, uni: University, cal: AcademicCalendar, at: datetime) -> None:
        self.uni, self.cal, self.at = uni, cal, at
        self.rng = random.Random(f"seed-cases-{uni.seed}")

    def elp(
        self,
        code: str,
        label: str,
        cod_cmp: str,
        etape: Etape,
        kind: ElpKind,
        *,
        period: Period = "S1",
        a_distance: bool = False,
        porteur: str | None = None,
    ) -> Elp:
        elp = Elp(
            code,
            label,
            cod_cmp,
            a_distance=a_distance,
            porteur=porteur,
            period=period,
            year=self.cal.year,
            as_of=self.at,
        )
        self.uni.load(elp)
        self.uni.elp_kind[code] = kind
        self.uni.elp_etape[code] = etape.cod_etp
        return elp

    def groups(self, collection: str | None, groups: dict[str, str], *elps: str) -> None:
        for group_id, label in groups.items():
            self.uni.load(Group(group_id, label, collection, self.at))
        if collection is not None:
            for code in elps:
                self.uni.load(CollectionLink(collection, code, self.at))

    def ips(self, code: str, students: list[str], groups: list[str], distant: bool) -> None:
        for index, cod_etu in enumerate(students):
            group = groups[index % len(groups)]
            self.uni.load(Ip(cod_etu, code, group, distant, self.cal.year, self.at))

    def planning(self, elp: Elp, groups: list[str]) -> None:
        """A lecture fiche (whole team associated, lecturer planned) and a tutorial fiche."""
        pool = self.uni.teachers_by_cmp[elp.cod_cmp]
        lecturer, *tutors = self.rng.sample(pool, k=min(len(pool), 3))
        tutors = tutors or [lecturer]
        lecture = AdeFiche(fiche_id(self.uni.new_id("fiche")), elp.cod_elp, (lecturer, *tutors))
        tutorial = AdeFiche(fiche_id(self.uni.new_id("fiche")), elp.cod_elp, tuple(tutors))
        for fiche in (lecture, tutorial):
            self.uni.load(AdeFiche(fiche.fiche_id, fiche.cod_elp, fiche.teachers, self.at))
        for number in range(SESSIONS):
            fiche, teacher, on = (
                (lecture, lecturer, tuple(groups))
                if number % 3 == 0
                else (tutorial, tutors[number % len(tutors)], (groups[number % len(groups)],))
            )
            add_session(
                self.uni, self.rng, self.cal, fiche.fiche_id, elp.period, on, (teacher,), self.at
            )


def add_seed_cases(uni: University, cal: AcademicCalendar, at: datetime) -> None:
    """The seed's ELPs, groups, registrations and plannings, all consistent (no fault yet)."""
    build = _Builder(uni, cal, at)
    law, hss = _etape(uni, "presential", LAW), _etape(uni, "presential", HSS)
    hss_other = _etape(uni, "presential", HSS, skip=1)

    rcaed = build.elp(RCAED334, "Droit civil : méthodologie", LAW, law, "pseudo")
    pseudo = f"ELP_{RCAED334}_CM"
    build.groups(None, {pseudo: "CM Droit civil : méthodologie"})
    build.ips(RCAED334, _students(uni, law, STUDENTS), [pseudo], distant=False)
    lecturer = build.rng.choice(uni.teachers_by_cmp[rcaed.cod_cmp])
    fiche = AdeFiche(fiche_id(uni.new_id("fiche")), RCAED334, (lecturer,), at)
    uni.load(fiche)
    for _ in range(SESSIONS):
        add_session(uni, build.rng, cal, fiche.fiche_id, "S1", (pseudo,), (lecturer,), at)

    distance = _etape(uni, "distance", HSS)
    build.elp(IRAN15, "Langue persane 1", distance.cod_cmp, distance, "real", a_distance=True)
    build.groups(f"{IRAN15}TD", {f"{IRAN15}EM": "Groupe CEMU 1"}, IRAN15)
    first, last = build.rng.choice(("Camille", "Léa")), build.rng.choice(("Moreau", "Lefèvre"))
    uni.load(
        Account(
            DISTANCE_STUDENT,
            "student",
            DISTANCE_STUDENT,
            None,
            last,
            first,
            f"{first.lower()}.{last.lower()}.09846@{STUDENT_DOMAIN}".replace("è", "e"),
            distance.cod_cmp,
            at,
        )
    )
    uni.load(make_ia(DISTANCE_STUDENT, distance, cal.year, at, tele=True, programme=None))
    distant = [DISTANCE_STUDENT, *_students(uni, distance, STUDENTS // 2)]
    build.ips(IRAN15, distant, [f"{IRAN15}EM"], distant=True)

    ms03 = build.elp(MS03, "Théories chang. social", HSS, hss, "real")
    td = {f"{MS03}TD1": "TD 1", f"{MS03}TD2": "TD 2"}
    build.groups(f"{MS03}TD", td, MS03)
    build.ips(MS03, _students(uni, hss, STUDENTS, skip=STUDENTS), list(td), distant=False)
    build.planning(ms03, list(td))

    porteur = build.elp(PORTEUR, "Histoire des relations internationales", HSS, hss, "real")
    build.elp(PORTE, "Relations internationales", HSS, hss_other, "porte", porteur=PORTEUR)
    both = {f"{PORTEUR}EM": "Groupe EM", COLLECTION: "Groupe TD"}
    build.groups(COLLECTION, both, PORTEUR, PORTE)
    build.ips(PORTEUR, _students(uni, hss, STUDENTS, skip=2 * STUDENTS), [COLLECTION], False)
    build.ips(PORTE, _students(uni, hss_other, STUDENTS // 2), [f"{PORTEUR}EM"], False)
    build.planning(porteur, list(both))


def reserve(state: SimState) -> None:
    """Keep the traffic and the random faults off the seed's ELPs, courses and students."""
    uni, used = state.uni, state.used
    for code in SEED_ELPS & uni.elps.keys():
        used.elps.add(code)
        used.students.update(uni.ips_by_elp.get(code, ()))
        course = uni.live_course(code)
        if course is not None:
            used.courses.add(course.course_id)


def _seed_elp(inj: Injection, code: str) -> Elp:
    elp = inj.uni.elps.get(code)
    if elp is None:
        raise RuntimeError(f"{inj.fault}: the university has no {code} (made by add_seed_cases)")
    return elp


def rcaed334_foad_case_a(inj: Injection) -> None:
    """One RCAED334 registration in télé-enseignement, in the pseudo-group: FOAD case a."""
    elp = _seed_elp(inj, RCAED334)
    course = inj.uni.live_course(RCAED334)
    assert course is not None
    cod_etu = sorted(inj.uni.ips_by_elp[RCAED334])[0]
    ip = inj.uni.ips[(cod_etu, RCAED334)]
    inj.uni.write(Ip(cod_etu, RCAED334, ip.group_id, True, ip.year), inj.at)
    lost_access(inj, "foad_case_a", elp, course.course_id, cod_etu=cod_etu)


def ms03_suspended(inj: Injection) -> None:
    """M.1.MS03 suspended in APOGÉE: its course's database enrolments are suspended."""
    elp = _seed_elp(inj, MS03)
    course = inj.uni.live_course(MS03)
    assert course is not None
    suspend(inj, elp, course)


def hr5c_collection_not_shared(inj: Injection) -> None:
    """M.1HRP9CTD detached from 2HR5C: its students vanish from M.1HRP9C's course."""
    porte = _seed_elp(inj, PORTE)
    course = inj.uni.live_course(PORTEUR)
    assert course is not None
    unshare_collection(inj, porte, COLLECTION, course)
