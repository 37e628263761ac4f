"""R6: which teachers an ADE fiche enrols, and why the others are not.

Seed section "Planification ADE non compatible": a teacher is enrolled only if
planned in a session ("CHOISIR n Enseignant(s)"; association alone is not
enough), on a fiche linked to an APOGÉE ELP, and that ELP is current. When the
ELP has real groups, sessions planned only on pseudo-groups ``ELP_…`` are
ignored: a group created later without planning masks them. R7: sessions of a
closed academic year no longer count; R3.4: suspension also stops teachers'
database enrolments (configurable).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from detectors.facts import PSEUDO_GROUP_PREFIX, AdeFiche, AdeSession
from detectors.model.causes import Cause, Fact, Refusal, refuse
from detectors.model.context import ElpView, ModelContext
from detectors.model.timing import academic_year


@dataclass(frozen=True, slots=True)
class ExpectedTeacher:
    """A teacher the model enrols, with the fiches that plan them.

    ``as_of``: the oldest granting path (a session with its fiche and ELP),
    the one the last run may already have applied (R9).
    """

    teacher: str
    fiche_ids: frozenset[str]
    as_of: datetime
    overlap_only: bool = False


@dataclass(frozen=True, slots=True)
class FicheVerdict:
    """What one fiche gives: teachers enrolled in ``course_idnumber``, and refusals.

    ``planned``: teachers this fiche plans in a session of an active year, whether
    the planning enrols them or is masked or suspended; "associated, not planned"
    on another fiche of the course says nothing true about them.
    """

    fiche: AdeFiche
    course_idnumber: str | None
    teachers: Mapping[str, ExpectedTeacher]
    refusals: tuple[Refusal, ...]
    planned: frozenset[str] = frozenset()


def _masked(view: ElpView, session: AdeSession) -> bool:
    return (
        view.has_real_groups
        and bool(session.group_ids)
        and all(g.startswith(PSEUDO_GROUP_PREFIX) for g in session.group_ids)
    )


def _session_year(ctx: ModelContext, session: AdeSession) -> int | None:
    return academic_year(session.start, ctx.config) if session.start is not None else None


SessionKind = Literal["counting", "masked", "closed"]


def session_kind(ctx: ModelContext, view: ElpView, session: AdeSession) -> SessionKind:
    """Whether a session of a current ELP's fiche enrols its teachers (R6 masking, R7).

    Sessions of a later year (planned ahead) count; earlier ones only while active.
    """
    if _masked(view, session):
        return "masked"
    year = _session_year(ctx, session)
    closed = year is not None and year < ctx.current_year and year not in ctx.years
    return "closed" if closed else "counting"


def evaluate_fiche(ctx: ModelContext, fiche: AdeFiche) -> FicheVerdict:
    """Apply R6 (with R7 and R3.4) to every teacher associated or planned on one fiche."""
    view = ctx.elp(fiche.cod_elp) if fiche.cod_elp is not None else None
    course = view.course_idnumber if view is not None else None
    base: tuple[Fact, ...] = (fiche,) if view is None or view.elp is None else (fiche, view.elp)
    refusals: list[Refusal] = []

    def refuse_teacher(teacher: str, cause: Cause, detail: str, shown: list[AdeSession]) -> None:
        refusals.append(
            refuse(
                cause,
                "teacher",
                teacher,
                cod_elp=fiche.cod_elp,
                course_idnumber=course,
                detail=detail,
                facts=(*base, *shown[:3]),
            )
        )

    planned: dict[str, list[AdeSession]] = {}
    for session in ctx.facts.sessions_of_fiche(fiche.fiche_id):
        for teacher in session.teachers:
            planned.setdefault(teacher, []).append(session)
    intended = sorted({*fiche.teachers, *planned})

    if view is None or view.standing != "current" or view.elp is None:
        cause, detail = _unreachable(fiche, view)
        for teacher in intended:
            refuse_teacher(teacher, cause, detail, planned.get(teacher, []))
        return FicheVerdict(fiche, course, {}, tuple(refusals))

    suspended = view.elp.status == "suspended" and ctx.config.suspension_covers_teachers
    teachers: dict[str, ExpectedTeacher] = {}
    in_active_year: set[str] = set()
    kinds = {
        s.session_id: session_kind(ctx, view, s)
        for s in ctx.facts.sessions_of_fiche(fiche.fiche_id)
    }
    for teacher in intended:
        sessions = planned.get(teacher, [])
        masked = [s for s in sessions if kinds[s.session_id] == "masked"]
        closed = [s for s in sessions if kinds[s.session_id] == "closed"]
        counting = [s for s in sessions if kinds[s.session_id] == "counting"]
        if counting or masked:
            in_active_year.add(teacher)
        if counting and suspended:
            # Word for word the students' fact (``students.py``): one line in a folded incident.
            detail = (
                f"l'élément {view.cod_elp} est suspendu dans APOGÉE : les inscriptions par "
                f"base de données du cours {course} sont suspendues"
            )
            refuse_teacher(teacher, "elp_suspended", detail, counting)
        elif counting:
            fiche_as_of = max(f.as_of for f in base)
            as_of = min(max(s.as_of, fiche_as_of) for s in counting)
            overlap = all(ctx.overlap_only(_session_year(ctx, s)) for s in counting)
            ids = frozenset({fiche.fiche_id})
            teachers[teacher] = ExpectedTeacher(teacher, ids, as_of, overlap)
        elif masked:
            pseudo = ", ".join(sorted({g for s in masked for g in s.group_ids}))
            real = ", ".join(sorted(view.real_groups))
            detail = (
                f"planification masquée : séances planifiées sur {pseudo}, aucune sur le groupe "
                f"{real} créé ensuite dans APOGÉE"
            )
            refuse_teacher(teacher, "masked_by_new_group", detail, masked)
        elif closed:
            detail = (
                f"enseignant {teacher} planifié sur la fiche {fiche.fiche_id} seulement pendant "
                "une année universitaire close"
            )
            refuse_teacher(teacher, "year_inactive", detail, closed)
        else:
            detail = (
                f"enseignant {teacher} associé à la fiche {fiche.fiche_id} de {fiche.cod_elp} "
                "mais planifié dans aucune séance"
            )
            refuse_teacher(teacher, "teacher_associated_not_planned", detail, [])
    return FicheVerdict(fiche, course, teachers, tuple(refusals), frozenset(in_active_year))


def _unreachable(fiche: AdeFiche, view: ElpView | None) -> tuple[Cause, str]:
    if view is None:
        return "fiche_not_linked", (
            f"fiche {fiche.fiche_id} créée uniquement dans ADE, liée à aucun élément APOGÉE"
        )
    if view.standing in ("porte", "porteur_not_current"):
        porteur = view.elp.porteur if view.elp is not None else None
        return "fiche_on_porte_elp", (
            f"fiche {fiche.fiche_id} de {view.cod_elp}, porté par {porteur} : seules les fiches "
            "du porteur inscrivent les enseignants"
        )
    gone = "supprimé de REFER" if view.elp is not None else "inconnu de REFER"
    return "elp_obsolete", f"fiche {fiche.fiche_id} de {view.cod_elp} : l'élément est {gone}"
