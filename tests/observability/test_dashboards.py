"""The dashboards, the catalogue and the rules agree with each other and with the code.

No Prometheus here: ``test_prometheus.py`` evaluates every expression on a real one.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from scripts.dashboards import DASHBOARDS
from scripts.make_grafana import DASHBOARD_DIR, catalogue, expected_files, rules
from tests.observability.promql_names import (
    metric_names,
    panel_exprs,
    panels,
    parse_label_values,
    variable_exprs,
)

# Series Prometheus itself makes.
PROMETHEUS_SERIES = {"up", "ALERTS"}
# Catalogue metrics no dashboard or rule needs to show, and why.
NOT_SHOWN = {
    "ecampus_monitor_alerts": "superseded by ecampus_monitor_composante_alerts (composante, phase)",
    "ecampus_monitor_newest_fact_timestamp_seconds": "per process; dashboards use the store's age",
}
# Labels that would carry personal data.
PERSONAL_LABELS = {"cod_etu", "student", "user", "uid", "name", "email", "mail", "login", "subject"}


def _dashboards() -> dict[str, dict[str, Any]]:
    return {
        path.name: json.loads(path.read_text(encoding="utf-8"))
        for path in sorted(DASHBOARD_DIR.glob("*.json"))
    }


def _known_series() -> set[str]:
    names = {sample for entry in catalogue() for sample in entry.sample_names}
    return names | recorded_names() | PROMETHEUS_SERIES


def recorded_names() -> set[str]:
    return {rule["record"] for rule in rules() if "record" in rule}


def _all_exprs() -> list[tuple[str, str]]:
    exprs = [item for board in _dashboards().values() for item in panel_exprs(board)]
    exprs += [(rule.get("record") or rule["alert"], rule["expr"]) for rule in rules()]
    return exprs


def test_generated_files_are_up_to_date() -> None:
    stale = [
        str(path.relative_to(DASHBOARD_DIR.parent.parent))
        for path, content in expected_files().items()
        if not path.exists() or path.read_text(encoding="utf-8") != content
    ]
    assert not stale, f"run `python -m scripts.make_grafana`: {stale} out of date"


def test_the_three_dashboards_are_valid_json_with_unique_uids() -> None:
    boards = _dashboards()
    assert set(boards) == set(DASHBOARDS)
    assert len({board["uid"] for board in boards.values()}) == len(boards)
    for board in boards.values():
        assert board.get("id") is None, "a provisioned dashboard has no id"
        assert board["title"] and board["panels"]


@pytest.mark.parametrize("file_name", sorted(DASHBOARDS))
def test_every_panel_has_a_title_a_datasource_and_queries(file_name: str) -> None:
    board = _dashboards()[file_name]
    ids = [panel["id"] for panel in panels(board)]
    assert len(ids) == len(set(ids))
    for panel in panels(board):
        assert panel["title"], panel
        grid = panel["gridPos"]
        assert grid["x"] >= 0 and grid["x"] + grid["w"] <= 24, panel["title"]
        if panel["type"] == "row":
            continue
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, panel["title"]
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert target["expr"].strip() and target["refId"], panel["title"]
            assert target["datasource"] == panel["datasource"]


def test_the_datasource_variable_is_on_every_dashboard() -> None:
    for board in _dashboards().values():
        names = [variable["name"] for variable in board["templating"]["list"]]
        assert names[0] == "datasource"


def test_the_composante_view_is_chosen_by_a_variable_from_the_catalogue() -> None:
    board = _dashboards()["composante.json"]
    ((_where, definition),) = variable_exprs(board)
    metric, label = parse_label_values(definition)
    entry = next(e for e in catalogue() if e.name == metric)
    assert label == "composante" and label in entry.labels
    for where, expr in panel_exprs(board):
        assert '"$composante"' in expr, f"{where} ignores the composante chosen"


def test_dashboards_and_rules_use_only_metrics_of_the_catalogue() -> None:
    known = _known_series()
    unknown = {(where, name) for where, expr in _all_exprs() for name in metric_names(expr) - known}
    assert not unknown, f"names neither in the catalogue nor recorded: {sorted(unknown)}"
    for board in _dashboards().values():
        for _where, definition in variable_exprs(board):
            assert parse_label_values(definition)[0] in known


def test_every_metric_of_the_catalogue_is_shown_or_alerted_on() -> None:
    used = {name for _where, expr in _all_exprs() for name in metric_names(expr)}
    missing = [
        entry.name
        for entry in catalogue()
        if not used & set(entry.sample_names) and entry.name not in NOT_SHOWN
    ]
    assert not missing, f"no dashboard or rule uses {missing}"


def test_recording_rules_follow_the_level_metric_operation_convention() -> None:
    for name in recorded_names():
        level, metric, operation = name.split(":")
        assert metric.startswith("ecampus_monitor") or level == "ecampus_monitor", name
        assert operation, name


def test_catalogue_names_follow_prometheus_conventions() -> None:
    entries = catalogue()
    assert len({entry.name for entry in entries}) == len(entries)
    for entry in entries:
        assert entry.name.startswith("ecampus_monitor_"), entry.name
        assert entry.help.strip(), entry.name
        if entry.kind == "counter":
            assert not entry.name.endswith("_total"), "the client adds _total"
        if "seconds" in entry.name or "timestamp" in entry.name:
            assert entry.name.endswith(("_seconds", "_seconds_total")), entry.name
        assert not any(bad in entry.name for bad in ("_ms", "milliseconds", "_minutes")), entry.name


def test_no_label_can_carry_personal_data() -> None:
    for entry in catalogue():
        assert not set(entry.labels) & PERSONAL_LABELS, entry.name


@pytest.mark.parametrize(
    ("expr", "names"),
    [
        (
            'sum by (topic) (rate(ecampus_monitor_events_consumed_total{topic=~"a.b"}[5m]))',
            {"ecampus_monitor_events_consumed_total"},
        ),
        ("ecampus_monitor:x:sum > 2 * 3600 and on () (hour() >= 7)", {"ecampus_monitor:x:sum"}),
        ('label_replace(m{t!~".*"}, "source", "$1", "topic", "([^.]+)[.].*")', {"m"}),
        (
            "histogram_quantile(0.5, sum by (le) (rate(h_bucket[$__rate_interval]))) or vector(0)",
            {"h_bucket"},
        ),
        ('count(ALERTS{alertstate="firing"}) or up offset 1h', {"ALERTS", "up"}),
    ],
)
def test_metric_names_are_read_from_promql(expr: str, names: set[str]) -> None:
    assert metric_names(expr) == names


def test_provisioning_points_at_the_dashboards() -> None:
    import yaml

    root = Path(DASHBOARD_DIR).parent
    provider = yaml.safe_load((root / "provisioning/dashboards/ecampus-monitor.yaml").read_text())
    assert provider["providers"][0]["type"] == "file"
    datasource = yaml.safe_load((root / "provisioning/datasources/prometheus.yaml").read_text())
    assert datasource["datasources"][0]["type"] == "prometheus"
