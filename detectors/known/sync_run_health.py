"""``sync_run_health``: is the nightly sync running, and are the sources still talking? (R9, R10)

Everything else relies on R9 (a change reaches Ecampus with the next nightly
lmsjonction run), so the CEMU on-call must know at once when that breaks:

- ``run_missing``: no run of the night (started between noon the day before
  and noon, local time) by the run deadline (07:00 Europe/Paris). Only
  when a run was recorded before that night: without history nothing is judged.
- ``run_late``: no run of the night succeeded by the deadline, and one
  finished after it or still runs (a failure before it is ``run_failed``).
- ``run_failed``: the latest run has status ``failed``. A failed run settles
  nothing (``SyncRun.completed``): every difference it would have propagated
  stays pending, so this one alert stands for them all, naming the last
  successful run that still bounds R9. R10, seed "Erreur
  database connexion failed": the Moodle database is optimised every Sunday
  09:00-11:00 and may refuse connections; a run failing on a database
  connection error inside that window, or within its allowed overrun (30
  minutes), is expected and raises nothing.
- ``warnings_spike`` / ``errors_spike``: in the latest completed run, a
  message code counted above ``max(factor × median, median + margin)`` of the
  same code over the previous finished runs, failed ones included (default: the 7 previous, factor
  3, margin 50; at least 3 previous runs needed). The margin keeps a code
  usually near zero from firing on a handful of messages.
- ``source_silent``: no change from REFER, ADE or Moodle (the newest ``as_of``
  of their facts) for more than a threshold counted in working-day hours
  (Mon-Fri); raised only on a working day, and never for Moodle inside R10's
  window. A source with no dated fact at all is not judged.

Thresholds: ``DetectorConfig.run_health`` (settings ``thresholds.sync_run``),
the window: ``DetectorConfig.model`` (settings ``rules.maintenance_*``). Runs after each run report, daily, and periodically on the
whole state (scope None); a pass scoped to dirty ELPs returns nothing. One
finding per problem, the subject naming the night, the run or the source.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from collections.abc import Collection, Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal

from detectors.base import Detector, DetectorConfig
from detectors.causes import DeclaredCause
from detectors.facts import EPOCH, SyncRun
from detectors.findings import Evidence, Finding, Severity
from detectors.model.config import ModelConfig
from detectors.model.timing import failure_expected
from detectors.shared.model_bridge import model_config
from detectors.state import FactSet

NAME = "sync_run_health"

Cause = Literal[
    "run_missing", "run_late", "run_failed", "warnings_spike", "errors_spike", "source_silent"
]
OWN_CAUSES: tuple[DeclaredCause, ...] = (
    DeclaredCause("run_missing", "Synchronisation de la nuit absente", "oncall"),
    DeclaredCause("run_late", "Synchronisation de la nuit en retard", "oncall"),
    DeclaredCause("run_failed", "Synchronisation de la nuit en échec", "oncall"),
    DeclaredCause("warnings_spike", "Pic d'avertissements de lmsjonction", "oncall"),
    DeclaredCause("errors_spike", "Pic d'erreurs de lmsjonction", "oncall"),
    DeclaredCause("source_silent", "Source de données silencieuse", "oncall"),
)
Source = Literal["refer", "ade", "moodle"]

_MIN_BASELINE = 3
_SPIKES: tuple[tuple[str, Cause, str], ...] = (
    ("warning", "warnings_spike", "avertissements"),
    ("error", "errors_spike", "erreurs"),
)
_DB_CONNECTION = re.compile(r"database connection|connexion .{0,20}base|db[_ ]connection", re.I)
_SOURCE_LABEL: dict[Source, str] = {
    "refer": "REFER (APOGÉE)",
    "ade": "ADE",
    "moodle": "Moodle (Ecampus)",
}

_AFTERWARDS = (
    " Tant que la synchronisation n'a pas tourné, les modifications faites dans APOGÉE et ADE "
    "ne sont pas propagées sur Ecampus : les écarts restent « en attente »."
)
REMEDIATION: dict[Cause, str] = {
    "run_missing": "Aucune exécution de lmsjonction n'a eu lieu cette nuit : vérifiez son "
    "ordonnanceur et ses journaux, puis relancez-la." + _AFTERWARDS,
    "run_late": "L'exécution de lmsjonction s'est terminée (ou tourne encore) après l'heure "
    "limite : vérifiez la charge de REFER et de la base Moodle, et le journal de l'exécution.",
    "run_failed": "L'exécution de lmsjonction a échoué : consultez son rapport, corrigez la cause "
    "puis relancez-la. Une erreur « Database connection failed » hors de la fenêtre "
    "d'optimisation du dimanche (9h-11h) signale une base Moodle inaccessible." + _AFTERWARDS,
    "warnings_spike": "Le rapport de lmsjonction contient bien plus d'avertissements que "
    "d'habitude : une modification massive dans APOGÉE ou ADE en est probablement la cause "
    "(voir les codes ci-dessous, et les alertes des autres détecteurs).",
    "errors_spike": "Le rapport de lmsjonction contient bien plus d'erreurs que d'habitude "
    "(voir les codes ci-dessous) : vérifiez les tables intermédiaires de REFER et la base Moodle.",
    "source_silent": "Aucun changement n'est parvenu de cette source depuis longtemps un jour "
    "ouvré : vérifiez le connecteur de capture de changements (Debezium) et sa base source.",
}
_SEVERITY: dict[Cause, Severity] = {
    "run_missing": "critical",
    "run_failed": "critical",
    "run_late": "warning",
    "warnings_spike": "warning",
    "errors_spike": "warning",
    "source_silent": "warning",
}


def _finding(cause: Cause, subject: str, title: str, evidence: Iterable[Evidence]) -> Finding:
    return Finding(
        detector=NAME,
        subject=subject,
        cause=cause,
        title=title,
        summary=title + ".",
        remediation=REMEDIATION[cause],
        severity=_SEVERITY[cause],
        audience="oncall",
        evidence=tuple(evidence),
    )


def _shown(moment: datetime, model: ModelConfig) -> str:
    return f"{moment.astimezone(model.zone):%d/%m/%Y %H:%M}"


def _run_fact(run: SyncRun, model: ModelConfig) -> Evidence:
    end = f", fin {_shown(run.finished_at, model)}" if run.finished_at else ", pas terminée"
    text = f"exécution {run.run_id} : début {_shown(run.started_at, model)}{end}, {run.status}"
    return Evidence("R9", text, run.as_of if run.as_of != EPOCH else None)


def _still_pending(facts: FactSet, now: datetime, model: ModelConfig) -> list[Evidence]:
    """R9's bound while runs fail or miss: the last successful run, after which all waits."""
    last = facts.last_completed_run(before=now)
    if last is None:
        text = "aucune exécution réussie connue : tous les écarts restent en attente"
    else:
        text = (
            f"dernière exécution réussie : {last.run_id} (début {_shown(last.started_at, model)}) ;"
            " les modifications postérieures restent en attente"
        )
    return [Evidence("R9", text)]


def _night_checks(facts: FactSet, now: datetime, config: DetectorConfig) -> list[Finding]:
    model = model_config(config)
    limit = config.run_health.deadline
    local = now.astimezone(model.zone)
    night = local.date() if local.time() >= limit else local.date() - timedelta(1)
    deadline = datetime.combine(night, limit, tzinfo=model.zone)
    opens = datetime.combine(night - timedelta(1), time(12), tzinfo=model.zone)
    closes = datetime.combine(night, time(12), tzinfo=model.zone)
    tonight = [r for r in facts.runs if opens <= r.started_at < closes and r.started_at <= now]
    findings: list[Finding] = []
    # Judged only with history from before the night: a store whose first run came after
    # it (a monitor started, or a replay begun, that night) cannot tell it was missed.
    if not tonight and facts.runs and min(r.started_at for r in facts.runs) < opens:
        title = (
            f"Aucune exécution de lmsjonction la nuit du {night:%d/%m/%Y} avant {deadline:%H:%M}"
        )
        rule = Evidence("R9", f"dernière exécution : {facts.runs[-1].run_id}")
        evidence = [rule, *_still_pending(facts, now, model)]
        findings.append(_finding("run_missing", f"night:{night.isoformat()}", title, evidence))
    on_time = any(
        r.status == "success" and r.finished_at is not None and r.finished_at <= deadline
        for r in tonight
    )
    # Late: no success by the deadline, and a run that ended after it or still runs.
    late = [r for r in tonight if (r.finished_at or now) > deadline]
    if tonight and not on_time and late:
        run = late[0]
        state = f"terminée à {_shown(run.finished_at, model)}" if run.finished_at else "en cours"
        title = (
            f"Exécution {run.run_id} de lmsjonction en retard ({state}, limite {deadline:%H:%M})"
        )
        findings.append(_finding("run_late", run.run_id, title, [_run_fact(run, model)]))
    return findings


def _failure(facts: FactSet, now: datetime, config: DetectorConfig) -> list[Finding]:
    runs = [r for r in facts.runs if r.started_at <= now]
    if not runs or runs[-1].status != "failed":
        return []
    run = runs[-1]
    model = model_config(config)
    db_errors = [
        m
        for m in run.messages
        if m.level in ("error", "alert") and _DB_CONNECTION.search(f"{m.code} {m.text}")
    ]
    failed_at = run.finished_at or now
    if db_errors and failure_expected(failed_at, model):
        return []  # R10: expected during the Sunday optimisation
    errors = [m for m in run.messages if m.level in ("error", "alert")]
    evidence = [_run_fact(run, model), *_still_pending(facts, now, model)]
    evidence += [
        Evidence("R10" if m in db_errors else "R9", f"{m.level} {m.code} : {m.text}")
        for m in errors[:3]
    ]
    title = f"Exécution {run.run_id} de lmsjonction en échec ({_shown(failed_at, model)})"
    return [_finding("run_failed", run.run_id, title, evidence)]


def _spikes(facts: FactSet, now: datetime, config: DetectorConfig) -> list[Finding]:
    run = facts.last_completed_run(before=now)
    if run is None:
        return []
    keep = config.run_health.baseline_runs
    # The baseline counts failed runs' reports too: they settle nothing, but their
    # messages are the run's usual noise up to its failure.
    baseline = [r for r in facts.runs if r.finished and r.started_at < run.started_at][-keep:]
    if len(baseline) < _MIN_BASELINE:
        return []
    factor = config.run_health.spike_factor
    margin = config.run_health.spike_margin
    findings: list[Finding] = []
    for level, cause, word in _SPIKES:
        counts = Counter(m.code for m in run.messages if m.level == level)
        history = [Counter(m.code for m in r.messages if m.level == level) for r in baseline]
        evidence = []
        for code, count in sorted(counts.items()):
            usual = statistics.median(h[code] for h in history)
            if count > max(factor * usual, usual + margin):
                text = (
                    f"{count} × {code} (médiane des {len(baseline)} exécutions "
                    f"précédentes : {usual:g})"
                )
                evidence.append(Evidence("R9", text, run.as_of if run.as_of != EPOCH else None))
        if evidence:
            title = f"Exécution {run.run_id} de lmsjonction : {word} bien au-delà de l'habitude"
            findings.append(_finding(cause, run.run_id, title, evidence))
    return findings


def newest_by_source(facts: FactSet) -> dict[Source, datetime]:
    """The newest source timestamp of each source's facts (EPOCH when none is dated)."""
    groups: dict[Source, tuple[Iterable[object], ...]] = {
        "refer": (facts.elps.values(), facts.deleted_elps.values(), facts.groups.values(),
                  facts.collection_links, facts.ips, facts.ias, facts.accounts.values()),
        "ade": (facts.fiches.values(), facts.sessions),
        "moodle": (facts.courses.values(), facts.enrol_instances.values(), facts.enrolments,
                   facts.group_members),
    }  # fmt: skip
    return {
        source: max((getattr(f, "as_of", EPOCH) for rows in tables for f in rows), default=EPOCH)
        for source, tables in groups.items()
    }


def working_hours_between(
    start: datetime, end: datetime, days: Collection[int], model: ModelConfig
) -> float:
    """Hours of ``[start, end)`` that fall on working days, in local time."""
    total = 0.0
    day: date = start.astimezone(model.zone).date()
    while day <= end.astimezone(model.zone).date():
        if day.weekday() in days:
            opens = datetime.combine(day, time(0), tzinfo=model.zone)
            closes = datetime.combine(day + timedelta(1), time(0), tzinfo=model.zone)
            overlap = min(end, closes) - max(start, opens)
            total += max(overlap.total_seconds(), 0.0) / 3600
        day += timedelta(1)
    return total


def _silences(facts: FactSet, now: datetime, config: DetectorConfig) -> list[Finding]:
    model = model_config(config)
    days = config.run_health.working_days
    if now.astimezone(model.zone).weekday() not in days:
        return []
    findings: list[Finding] = []
    for source, newest in newest_by_source(facts).items():
        if newest == EPOCH or (source == "moodle" and failure_expected(now, model)):
            continue
        limit = config.run_health.silence_hours(source)
        silent = working_hours_between(newest, now, days, model)
        if silent > limit:
            label = _SOURCE_LABEL[source]
            title = f"Aucun changement de {label} depuis le {_shown(newest, model)}"
            fact = Evidence(
                "R9",
                f"dernier changement reçu de {label} ({silent:.0f} h ouvrées, seuil {limit:g} h)",
                newest,
            )
            findings.append(_finding("source_silent", f"source:{source}", title, [fact]))
    return findings


def detect(
    facts: FactSet,
    *,
    now: datetime,
    scope: Collection[str] | None,
    config: DetectorConfig,
) -> list[Finding]:
    """Missing, late, failed or noisy runs, and silent sources (whole state only)."""
    if scope is not None:
        return []
    now = now.astimezone(UTC)
    return [
        *_night_checks(facts, now, config),
        *_failure(facts, now, config),
        *_spikes(facts, now, config),
        *_silences(facts, now, config),
    ]


DETECTOR = Detector(
    name=NAME,
    moments=frozenset({"after_run", "daily", "continuous"}),
    detect=detect,
    causes=OWN_CAUSES,
)
