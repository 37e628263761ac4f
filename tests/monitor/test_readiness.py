"""The readiness board: one log line when a dependency is lost, one when it is back."""

from __future__ import annotations

import logging

import pytest

from monitor.readiness import Conditions


def test_a_lost_dependency_is_logged_once_and_its_return_with_how_long(
    caplog: pytest.LogCaptureFixture,
) -> None:
    now = [100.0]
    board = Conditions(monotonic=lambda: now[0])
    caplog.set_level(logging.INFO, logger="monitor.readiness")

    board.back("broker")  # fine from the start: nothing to say
    for _ in range(5):  # every retry reports the loss; the log says it once
        board.lost("broker", "Kafka does not answer (KafkaTimeoutError)")
        now[0] += 6
    assert board.checks() == {"broker": False}
    assert board.reasons() == {"broker": "Kafka does not answer (KafkaTimeoutError)"}
    board.back("broker")
    board.back("broker")

    lines = [r.getMessage() for r in caplog.records]
    assert lines == [
        "broker unreachable: Kafka does not answer (KafkaTimeoutError); "
        "waiting for it, then resuming",
        "broker reachable again after 30 s",
    ]
    assert board.checks() == {"broker": True} and board.reasons() == {}
    assert board.is_ok("store")  # never reported: fine
