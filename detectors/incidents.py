"""One incident per course and root cause, whichever detectors see it.

The seed's "Élément suspendu" on M.1.MS03 is one problem, yet three detectors
see it: students not enrolled (before the night: "prévu"), teachers not
enrolled, enrolments lost (after it: "constaté"). Sent as three emails to
the same scolarité it reads as three problems. Findings sharing an incident
key (the ELP they are about and the model's cause) are folded into the
finding of the first detector of ``OWNERS`` present, whose fingerprint, and
so alert thread and history, is kept: the alert predicted before the night
becomes the alert observed in the morning, and the people of every folded
finding are in its table. Pure: reconciliation calls it before matching
fingerprints.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from detectors.findings import SEVERITY_ORDER, Evidence, Finding

# Detectors whose findings are about one ELP and one model cause, in the order
# that owns the incident (students first: the largest audience of the course).
OWNERS = ("students_not_enrolled", "teacher_missing", "enrolments_lost")
# Causes outside the model (nothing to merge on): each stays its own alert.
_OWN_CAUSES = frozenset({"missing_after_run", "unexplained", "exchange_contradiction"})
# Findings of other detectors that tell one of those incidents from another side: a course
# "ne sera pas créé" (R1) because the ELP has no group and no teaching load is the same
# problem as its students left without a pseudo-group (R3.3), with the same remedy.
_JOINS: dict[tuple[str, str], str] = {("course_archived", "course_not_created"): "no_pseudo_group"}


def _rank(finding: Finding) -> int:
    """Which finding of an incident owns it: the first of ``OWNERS``, then the joined ones."""
    return OWNERS.index(finding.detector) if finding.detector in OWNERS else len(OWNERS)


def incident_key(finding: Finding) -> tuple[str, str] | None:
    """``(ELP, cause)`` for findings that can share an incident, else None."""
    joined = _JOINS.get((finding.detector, finding.cause))
    if joined is not None:
        return (finding.subject, joined)
    if finding.detector not in OWNERS or finding.cause in _OWN_CAUSES:
        return None
    return (finding.subject, finding.cause)


def _fold(owner: Finding, other: Finding) -> Finding:
    """``owner`` told with ``other``'s facts: one summary, one table, the worst severity."""
    pending = owner.pending_until_next_run and other.pending_until_next_run
    # Seen by one detector after the night: the incident is observed, no longer predicted.
    observed = not pending or "occurred" in (owner.phase, other.phase)
    people = [e for e in (*owner.evidence, *other.evidence) if e.is_person]
    facts = [e for e in owner.evidence if not e.is_person]
    # The same fact said by both detectors (under R3.4 and R6) is said once.
    said = {(e.fact, e.as_of) for e in facts}
    facts += [e for e in other.evidence if not e.is_person and (e.fact, e.as_of) not in said]
    seen: set[tuple[str | None, str]] = set()
    rows: list[Evidence] = []
    for row in people:
        key = (row.who, row.fact)
        if key not in seen:
            seen.add(key)
            rows.append(row)
    if other.detector == "enrolments_lost":
        # The same people as the owner's, named by their Moodle account.
        affected = max(owner.affected_count, other.affected_count)
        summary = (
            f"{owner.summary} Constaté ce matin : {other.summary[:1].lower()}{other.summary[1:]}"
        )
    elif other.detector not in OWNERS:
        # A joined finding (the course not created) waits for the owner's own people.
        affected = max(owner.affected_count, other.affected_count)
        summary = f"{owner.summary} {other.summary}"
    else:
        affected = owner.affected_count + other.affected_count
        summary = f"{owner.summary} {other.summary}"
    severity = max(owner.severity, other.severity, key=SEVERITY_ORDER.__getitem__)
    return replace(
        owner,
        summary=summary,
        severity=severity,
        affected_count=affected,
        phase="occurred" if observed else owner.phase,
        pending_until_next_run=pending,
        evidence=(*facts, *rows),
    )


def merge_incidents(findings: Sequence[Finding]) -> list[Finding]:
    """The findings with those of one incident folded into its owner's, order kept."""
    owners: dict[tuple[str, str], int] = {}
    ranked = sorted(
        range(len(findings)),
        key=lambda i: _rank(findings[i]) if incident_key(findings[i]) else 0,
    )
    merged: dict[int, Finding] = {}
    folded: set[int] = set()
    for index in ranked:
        finding = findings[index]
        key = incident_key(finding)
        if key is None:
            continue
        if key in owners:
            owner = owners[key]
            merged[owner] = _fold(merged.get(owner, findings[owner]), finding)
            folded.add(index)
        else:
            owners[key] = index
    return [merged.get(i, f) for i, f in enumerate(findings) if i not in folded]
