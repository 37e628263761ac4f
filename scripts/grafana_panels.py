"""Small builders for Grafana dashboard JSON (schema 39): panels, targets, variables, layout.

Each builder returns the plain dict Grafana stores, so a dashboard is data:

    board = Board("ecm-pipeline", "eCampus monitor: pipeline")
    board.row("Throughput")
    board.add(timeseries("Events / s", [query("sum(rate(x_total[5m]))")]), width=12)
    board.to_json()
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Json = dict[str, Any]

DATASOURCE: Json = {"type": "prometheus", "uid": "${datasource}"}
GRID_WIDTH = 24
TREND_RANGE = "8w"


def query(expr: str, legend: str = "", *, instant: bool = False, table: bool = False) -> Json:
    """One PromQL target (``refId`` is set when the panel is built)."""
    target: Json = {
        "datasource": DATASOURCE,
        "expr": expr,
        "legendFormat": legend or "__auto",
        "range": not instant,
        "instant": instant,
    }
    if table:
        target["format"] = "table"
    return target


def _panel(kind: str, title: str, targets: list[Json], description: str, unit: str) -> Json:
    for index, target in enumerate(targets):
        target["refId"] = chr(ord("A") + index)
    return {
        "type": kind,
        "title": title,
        "description": description,
        "datasource": DATASOURCE,
        "targets": targets,
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "options": {},
    }


def _thresholds(steps: list[tuple[float | None, str]]) -> Json:
    return {
        "mode": "absolute",
        "steps": [{"value": value, "color": color} for value, color in steps],
    }


def stat(
    title: str,
    targets: list[Json],
    *,
    description: str = "",
    unit: str = "short",
    steps: list[tuple[float | None, str]] | None = None,
    mappings: list[Json] | None = None,
) -> Json:
    """The last value, big; ``steps`` colour it ((None, base colour) first)."""
    panel = _panel("stat", title, targets, description, unit)
    panel["fieldConfig"]["defaults"]["thresholds"] = _thresholds(steps or [(None, "green")])
    panel["fieldConfig"]["defaults"]["mappings"] = mappings or []
    panel["options"] = {
        "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
        "colorMode": "value",
        "graphMode": "none",
        "textMode": "auto",
        "justifyMode": "auto",
        "orientation": "auto",
    }
    return panel


def value_mapping(value: int, text: str, color: str) -> Json:
    return {"type": "value", "options": {str(value): {"text": text, "color": color, "index": 0}}}


def timeseries(
    title: str,
    targets: list[Json],
    *,
    description: str = "",
    unit: str = "short",
    trend: bool = False,
    bars: bool = False,
    stacked: bool = False,
) -> Json:
    """A graph; ``trend`` shows the last weeks whatever the dashboard's range."""
    panel = _panel("timeseries", title, targets, description, unit)
    panel["fieldConfig"]["defaults"]["custom"] = {
        "drawStyle": "bars" if bars else "line",
        "fillOpacity": 60 if bars else 10,
        "lineWidth": 1,
        "showPoints": "never",
        "spanNulls": True,
        "stacking": {"mode": "normal" if stacked or bars else "none", "group": "A"},
    }
    panel["options"] = {
        "legend": {"displayMode": "table", "placement": "right", "calcs": ["lastNotNull", "max"]},
        "tooltip": {"mode": "multi", "sort": "desc"},
    }
    if trend:
        panel["timeFrom"] = TREND_RANGE
        panel["interval"] = "1h"
    return panel


def bargauge(
    title: str, targets: list[Json], *, description: str = "", unit: str = "short"
) -> Json:
    """One horizontal bar per series, sorted by Grafana as returned (use sort_desc)."""
    panel = _panel("bargauge", title, targets, description, unit)
    panel["fieldConfig"]["defaults"]["thresholds"] = _thresholds([(None, "blue")])
    panel["fieldConfig"]["defaults"]["min"] = 0
    panel["options"] = {
        "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
        "orientation": "horizontal",
        "displayMode": "gradient",
        "showUnfilled": True,
    }
    return panel


def table(
    title: str, expr: str, *, description: str = "", hidden: tuple[str, ...] = ("Time",)
) -> Json:
    """An instant query shown as a table, one column per label and ``Value``."""
    panel = _panel("table", title, [query(expr, instant=True, table=True)], description, "short")
    panel["transformations"] = [
        {
            "id": "organize",
            "options": {"excludeByName": dict.fromkeys(hidden, True)},
        }
    ]
    panel["options"] = {"showHeader": True, "sortBy": [{"displayName": "Value", "desc": True}]}
    return panel


def datasource_variable() -> Json:
    return {
        "name": "datasource",
        "label": "Prometheus",
        "type": "datasource",
        "query": "prometheus",
        "current": {},
        "hide": 0,
        "refresh": 1,
        "regex": "",
        "includeAll": False,
        "multi": False,
        "options": [],
    }


def label_variable(name: str, label: str, metric: str) -> Json:
    """A variable listing the values of label ``name`` on ``metric``."""
    definition = f"label_values({metric}, {name})"
    return {
        "name": name,
        "label": label,
        "type": "query",
        "datasource": DATASOURCE,
        "definition": definition,
        "query": {"query": definition, "refId": f"{name}-values"},
        "current": {},
        "hide": 0,
        "refresh": 2,
        "sort": 1,
        "regex": "",
        "includeAll": False,
        "multi": False,
        "options": [],
    }


@dataclass
class Board:
    """A dashboard being laid out left to right, top to bottom, on Grafana's 24-column grid."""

    uid: str
    title: str
    description: str = ""
    variables: list[Json] = field(default_factory=list)
    time_from: str = "now-24h"
    panels: list[Json] = field(default_factory=list)
    _x: int = 0
    _y: int = 0
    _row_height: int = 0

    def _next_line(self) -> None:
        self._y += self._row_height
        self._x, self._row_height = 0, 0

    def row(self, title: str) -> None:
        if self._x:
            self._next_line()
        self.panels.append(
            {
                "type": "row",
                "title": title,
                "collapsed": False,
                "panels": [],
                "gridPos": {"h": 1, "w": GRID_WIDTH, "x": 0, "y": self._y},
            }
        )
        self._y += 1

    def add(self, panel: Json, *, width: int = 6, height: int = 8) -> None:
        if self._x + width > GRID_WIDTH:
            self._next_line()
        panel["gridPos"] = {"h": height, "w": width, "x": self._x, "y": self._y}
        self.panels.append(panel)
        self._x += width
        self._row_height = max(self._row_height, height)

    def to_json(self) -> Json:
        for number, panel in enumerate(self.panels, start=1):
            panel["id"] = number
        return {
            "uid": self.uid,
            "title": self.title,
            "description": self.description,
            "tags": ["ecampus-monitor"],
            "editable": False,
            "graphTooltip": 1,
            "refresh": "1m",
            "schemaVersion": 39,
            "version": 1,
            "time": {"from": self.time_from, "to": "now"},
            "timepicker": {},
            "timezone": "browser",
            "annotations": {"list": []},
            "links": [
                {
                    "type": "dashboards",
                    "title": "eCampus monitor",
                    "tags": ["ecampus-monitor"],
                    "asDropdown": True,
                    "includeVars": False,
                    "keepTime": True,
                }
            ],
            "templating": {"list": [datasource_variable(), *self.variables]},
            "panels": self.panels,
        }
