"""Every cause of every detector has a French label and a French 'what to do', and renders.

The causes are collected from the detectors themselves (their remediation
tables and cause constants), so a new cause without a label fails here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest

from alerts.notify.causes import cause_label
from alerts.notify.digest_compose import CauseGroup, CourseGroup, Digest, DigestItem
from alerts.notify.render import render_alert
from alerts.notify.render_digest import render_digest
from alerts.repository import AlertRecord
from detectors import (
    account_missing_email,
    course_archived,
    course_ended_early,
    course_hidden,
    course_idnumber_changed,
    enrolments_lost,
    exchange_hint,
    forgotten_cohort_sync,
    group_missing,
    run_lines,
    students_not_enrolled,
    sync_run_health,
    teacher_missing,
    too_many_teachers,
)
from detectors.cause_labels import FIXERS, LABELS, fixer_of, is_labelled
from detectors.diagnose_text import REMEDY
from detectors.model import CAUSES

_TABLES = (
    course_archived.REMEDIATION,
    enrolments_lost.REMEDIATION,
    forgotten_cohort_sync.REMEDIATION,
    group_missing.REMEDIATION,
    students_not_enrolled.REMEDIATION,
    sync_run_health.REMEDIATION,
    teacher_missing.REMEDIATION,
    too_many_teachers.REMEDIATION,
)
_SINGLE = {
    account_missing_email.CAUSE: account_missing_email.REMEDIATION,
    course_ended_early.CAUSE: course_ended_early.REMEDIATION,
    course_hidden.CAUSE: course_hidden.REMEDIATION,
    course_idnumber_changed.CAUSE: course_idnumber_changed.REMEDIATION,
    exchange_hint.CAUSE: exchange_hint.REMEDIATION,
    run_lines.CAUSE: run_lines.REMEDIATION,
}


def _detector_causes() -> Iterator[tuple[str, str]]:
    for table in _TABLES:
        for cause, text in table.items():
            yield str(cause), text
    yield from _SINGLE.items()


DETECTOR_CAUSES = dict(_detector_causes())
ALL_CAUSES = sorted({*DETECTOR_CAUSES, *(str(c) for c in CAUSES)})
_RAW_CODE = re.compile(r"\b[a-z]+(?:_[a-z]+)+\b")


@pytest.mark.parametrize("cause", ALL_CAUSES)
def test_every_cause_has_a_french_label_and_someone_to_act(cause: str) -> None:
    assert is_labelled(cause), f"cause {cause} has no French label in detectors.cause_labels"
    label = cause_label(cause)
    assert not _RAW_CODE.search(label) and "(s)" not in label
    assert label[:1].isupper()
    assert fixer_of(cause) in FIXERS


@pytest.mark.parametrize("cause", sorted(DETECTOR_CAUSES))
def test_every_detector_cause_says_what_to_do_in_french(cause: str) -> None:
    text = DETECTOR_CAUSES[cause]
    assert len(text) > 60 and "(s)" not in text
    words = re.sub(r"\{\w+\}", "", text).replace("ELP_", "")  # placeholders filled later
    assert not _RAW_CODE.search(words), text


@pytest.mark.parametrize("cause", sorted(str(c) for c in CAUSES))
def test_every_model_cause_has_a_diagnosis_remedy(cause: str) -> None:
    who, how = REMEDY[cause]
    assert who in FIXERS and how and "(s)" not in how


def test_no_label_is_left_without_a_cause() -> None:
    assert set(ALL_CAUSES) <= set(LABELS)


@pytest.mark.parametrize("cause", ALL_CAUSES)
def test_every_cause_renders_in_an_email_and_a_digest_without_its_code(
    cause: str, make_alert: Callable[..., AlertRecord]
) -> None:
    alert = make_alert(cause=cause, remediation=DETECTOR_CAUSES.get(cause, "Rien à faire."))
    email = render_alert(alert, rule="new-open", public_url="https://m.example", contact="c@x")
    assert cause not in email.text and cause not in email.html
    now = datetime(2026, 12, 1, 6, 30, tzinfo=UTC)
    item = DigestItem(alert, "new")
    group = CauseGroup(cause, cause_label(cause), (item,))
    course = CourseGroup(alert.cod_elp, alert.cod_cmp, (group,))
    digest = Digest("scolarite.hss@example.org", now.date(), now, now, (course,))
    rendered = render_digest(
        digest, public_url="https://m.example", contact="c@x", composante_name=lambda _: None
    )
    assert f"Cause : {cause_label(cause)}" in rendered.text
    assert f"Cause : {cause}\n" not in rendered.text
