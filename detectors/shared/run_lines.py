"""lmsjonction's own words: its report lines as evidence, and cross-checked against the model.

The seed's FOAD table has "Détectabilité" columns (``warning update_oof``,
``Erreur Insc. BDD``, ``warning update_groups`` w9) and the porteur/porté
section says "lmsjonction génère une alerte indiquant qu'il n'arrive pas à
créer un groupe car celui-ci existe déjà": these lines are what a CEMU engineer
reads. They arrive with the run report (``SyncRun.messages``, stored in
``fact_sync_run.messages``) and are:

- shown on the findings about the same element (``lines_about``);
- compared with what the model predicts (``divergences``): a line saying a
  student was refused (``Insc. BDD``), left without group (``w9``), enrolled
  (``enrol``) or unenrolled (``unenrol``), or that a group already exists in
  another course (``group_exists``), where the model expects otherwise, is a
  finding to CEMU, cause ``model_run_divergence``, giving both versions. Lines
  about facts changed since the run started are not judged (R9: the run saw
  other data).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime

from detectors.base import DetectorConfig
from detectors.causes import DeclaredCause
from detectors.facts import Ip, RunMessage, SyncRun
from detectors.findings import Evidence, Finding
from detectors.model import CAUSES, ExpectedCourse
from detectors.model.describe import capitalised
from detectors.model.portes import gone_porteurs, porteur_column
from detectors.shared.model_bridge import ModelPass, model_pass
from detectors.state import FactSet

CAUSE = "model_run_divergence"
OWN_CAUSES = (DeclaredCause(CAUSE, "Le modèle et lmsjonction divergent", "cemu"),)
SHOWN_LEVELS = frozenset({"warning", "error", "alert"})
JUDGED = frozenset({"Insc. BDD", "w9", "enrol", "unenrol", "group_exists"})
REMEDIATION = (
    "Le rapport de lmsjonction et le modèle du suivi ne disent pas la même chose pour ces "
    "personnes : comparez les lignes du rapport aux données de REFER (inscription pédagogique, "
    "groupe, statut à distance, élément porteur). Si lmsjonction a raison, la règle du modèle "
    "est à corriger (et la décision notée avec les mots de la page du CEMU) et ses alertes sur cet élément sont à relire ; sinon, "
    "signalez l'écart à la DSI, qui exploite lmsjonction."
)


def last_run(facts: FactSet, now: datetime) -> SyncRun | None:
    """The last successful run that finished before ``now`` (its lines are tonight's truth)."""
    runs = [r for r in facts.runs if r.completed and r.status == "success" and r.started_at <= now]
    return runs[-1] if runs else None


def lines_about(
    facts: FactSet, cod_elp: str | None, now: datetime, limit: int = 5
) -> list[Evidence]:
    """The last run's warnings, errors and alerts about ``cod_elp``, as evidence rows."""
    run = last_run(facts, now) if cod_elp is not None else None
    if run is None:
        return []
    found = [m for m in run.messages if m.cod_elp == cod_elp and m.level in SHOWN_LEVELS]
    return [
        Evidence("R9", f"rapport de lmsjonction {run.run_id} : {m.text or m.code}", run.as_of)
        for m in found[:limit]
    ]


def _group_of(message: RunMessage) -> str | None:
    words = message.text.split()
    return words[words.index("groupe") + 1] if "groupe" in words[:-1] else None


def _changed_since(facts: FactSet, message: RunMessage, course: str, since: datetime) -> bool:
    """R9: a fact the line is about changed after the run started."""
    codes = {course, message.cod_elp or ""}
    rows: list[object] = [facts.elps.get(c) for c in codes]
    if message.cod_etu is not None:
        rows += facts.ips_of_student(message.cod_etu)
        rows += facts.ias_of_student(message.cod_etu)
    return any(getattr(row, "as_of", since) >= since for row in rows if row is not None)


def _model_version(
    model: ModelPass, message: RunMessage, course: ExpectedCourse | None
) -> str | None:
    """What the model says where the line says otherwise; None when they agree."""
    who, code = message.cod_etu, message.code
    if course is None:
        return "aucun espace de cours actuel pour cet élément"
    refusals = [r for r in course.refusals if r.who == who and r.cod_elp == message.cod_elp]
    enrolled = who in course.students
    if code == "enrol":
        return (
            None
            if enrolled
            else "non inscrit ("
            + ", ".join(capitalised(CAUSES[r.cause].title) for r in refusals)
            + ")"
        )
    if code == "unenrol":
        return "inscrit" if enrolled else None
    if code == "Insc. BDD":
        foad = [r for r in refusals if r.foad is not None and r.foad.consequences.error_insc_bdd]
        return None if foad else ("inscrit" if enrolled else "pas d'erreur Insc. BDD attendue")
    if code == "w9":
        foad = [
            r for r in refusals if r.foad is not None and r.foad.consequences.warning_update_groups
        ]
        return None if foad else "pas d'avertissement w9 attendu"
    group = _group_of(message)
    shared = [
        r
        for r in course.refusals
        if r.cause == "porte_collection_not_shared"
        and r.cod_elp == message.cod_elp
        and any(isinstance(f, Ip) and f.group_id == group for f in r.facts)
    ]
    return None if shared else f"la collection du groupe {group} est partagée avec le porteur"


def _course_of(model: ModelPass, message: RunMessage) -> tuple[str, ExpectedCourse | None]:
    """The course the line's element goes to: its own, or its porteur's (R5, either signal)."""
    code = message.cod_elp or ""
    elp = model.facts.elps.get(code)
    if elp is not None:
        porteur = porteur_column(elp, model.config)
    else:
        porteur = gone_porteurs(model.facts, model.config).get(code)
    code = porteur or code
    return code, model.course(code)


def divergences(
    facts: FactSet, now: datetime, config: DetectorConfig, detector: str
) -> list[Finding]:
    """One CEMU finding per element whose report lines contradict the model."""
    run = last_run(facts, now)
    if run is None:
        return []
    model = model_pass(facts, now, config)
    by_course: dict[str, list[Evidence]] = {}
    for message in run.messages:
        if message.code not in JUDGED or message.cod_elp is None:
            continue
        code, course = _course_of(model, message)
        if _changed_since(facts, message, code, run.started_at):
            continue
        theirs = _model_version(model, message, course)
        if theirs is not None:
            fact = f"lmsjonction : « {message.text or message.code} » ; modèle : {theirs}"
            by_course.setdefault(code, []).append(
                Evidence("R9", fact, run.as_of, who=message.cod_etu)
            )
    return [_finding(facts, run, code, rows, detector) for code, rows in sorted(by_course.items())]


def _finding(
    facts: FactSet, run: SyncRun, code: str, rows: Sequence[Evidence], detector: str
) -> Finding:
    count = len(rows)
    lines = "ligne" if count == 1 else "lignes"
    title = (
        f"Le modèle et lmsjonction divergent sur {code} ({count} {lines} du rapport {run.run_id})"
    )
    elp = facts.elps.get(code)
    return Finding(
        detector=detector,
        subject=f"divergence:{code}",
        cause=CAUSE,
        title=title,
        summary=title + ".",
        remediation=REMEDIATION,
        severity="warning",
        audience="cemu",
        cod_cmp=elp.cod_cmp if elp is not None else None,
        cod_elp=code,
        affected_count=count,
        evidence=tuple(rows),
    )


def with_lines(findings: Iterable[Finding], facts: FactSet, now: datetime) -> list[Finding]:
    """``findings`` with the last run's lines about their element appended to their evidence."""
    out = []
    for finding in findings:
        extra = lines_about(facts, finding.cod_elp, now)
        out.append(replace(finding, evidence=(*finding.evidence, *extra)) if extra else finding)
    return out
