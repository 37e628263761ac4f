"""Compare the simulated lmsjonction's plan (``night_plan``) with the detectors' model.

Both read the same rows at the same time; every difference is one line of
``disagreements``: what, where, and each side's version. The tests assert
there is none; ``docs/DECISIONS.md`` ("Two implementations of the nightly run")
records the ones found and who was fixed.
"""

from __future__ import annotations

from datetime import datetime

from detectors.facts import Ip
from detectors.model import ModelConfig, expected_state
from monitor.simulation.night_plan import plan_night
from monitor.simulation.university import University


def _model_lines(state_refusals: list[object]) -> set[tuple[str, str | None, str | None]]:
    lines: set[tuple[str, str | None, str | None]] = set()
    for refusal in state_refusals:
        foad = getattr(refusal, "foad", None)
        where = getattr(refusal, "cod_elp", None)
        if foad is not None:
            if foad.consequences.error_insc_bdd:
                lines.add(("Insc. BDD", where, refusal.who))  # type: ignore[attr-defined]
            if foad.consequences.warning_update_groups:
                lines.add((foad.consequences.warning_update_groups, where, refusal.who))  # type: ignore[attr-defined]
        elif refusal.cause == "porte_collection_not_shared":  # type: ignore[attr-defined]
            ip = next(f for f in refusal.facts if isinstance(f, Ip))  # type: ignore[attr-defined]
            lines.add(("group_exists", where, ip.group_id))
    return lines


def disagreements(uni: University, now: datetime, config: ModelConfig) -> list[str]:
    """Every difference between the run's plan and the model at ``now`` (empty: they agree)."""
    state = expected_state(uni.fact_set(), now, config)
    plan = plan_night(uni, now, config)
    found: list[str] = []
    model_actions = {(a.action, a.idnumber, a.course_id) for a in state.course_actions}
    run_actions = set(plan.actions)
    for action in sorted(model_actions ^ run_actions, key=str):
        side = "modèle seul" if action in model_actions else "lmsjonction seule"
        found.append(f"action {action}: {side}")
    for code in sorted(set(state.courses) | set(plan.courses)):
        model = state.courses.get(code)
        run = plan.courses.get(code)
        if model is None or run is None:
            if model is not None and (model.course_id is not None or model.students):
                found.append(f"cours {code}: prévu par le modèle seul")
            elif run is not None:
                found.append(f"cours {code}: prévu par lmsjonction seule")
            continue
        if model.suspended != run.suspended:
            found.append(f"cours {code}: suspendu modèle={model.suspended} run={run.suspended}")
        model_students = {etu: set(s.group_ids) for etu, s in model.students.items()}
        for etu in sorted(set(model_students) | set(run.students)):
            mine, theirs = model_students.get(etu), run.students.get(etu)
            if mine != theirs:
                found.append(f"cours {code} étudiant {etu}: modèle={mine} run={theirs}")
        # A suspended course's teachers are suspended by the run, refused by the model.
        planned = set() if run.suspended and config.suspension_covers_teachers else run.planned
        if set(model.teachers) != planned:
            found.append(
                f"cours {code} enseignants: modèle seul {sorted(set(model.teachers) - planned)}"
                f", run seul {sorted(planned - set(model.teachers))}"
            )
    model_lines = _model_lines(list(state.refusals()))
    run_lines = {
        (code, elp, etu if code != "group_exists" else _group_of(text))
        for _level, code, text, elp, etu in plan.lines
    }
    for line in sorted(model_lines ^ run_lines, key=str):
        side = "modèle seul" if line in model_lines else "lmsjonction seule"
        found.append(f"ligne de rapport {line}: {side}")
    return found


def _group_of(text: str) -> str:
    return text.split("groupe ", 1)[1].split(" ", 1)[0]
