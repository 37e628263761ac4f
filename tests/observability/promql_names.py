"""Read the PromQL of the dashboards and rules: expressions, metric names, Grafana variables."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'')
_MATCHERS = re.compile(r"\{[^{}]*\}")
_RANGE = re.compile(r"\[[^\[\]]*\]")
_LABEL_LIST = re.compile(
    r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)", re.IGNORECASE
)
_IDENTIFIER = re.compile(r"(?<![\w:.$])([a-zA-Z_:][a-zA-Z0-9_:]*)(?![\w:])(\s*\()?")
_KEYWORDS = {
    "and",
    "or",
    "unless",
    "bool",
    "offset",
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "inf",
    "nan",
}


def metric_names(expr: str) -> set[str]:
    """The metric (and recording-rule) names ``expr`` selects; functions and keywords left out."""
    text = _STRING.sub('""', expr)
    text = _MATCHERS.sub("", text)
    text = _RANGE.sub("", text)
    text = _LABEL_LIST.sub(" ", text)
    names = set()
    for match in _IDENTIFIER.finditer(text):
        name, call = match.group(1), match.group(2)
        if call or name.lower() in _KEYWORDS:
            continue
        names.add(name)
    return names


def panels(dashboard: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every panel, rows' nested panels included."""
    for panel in dashboard["panels"]:
        yield panel
        yield from panel.get("panels", [])


def panel_exprs(dashboard: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(where, expr) for every query target of every panel."""
    for panel in panels(dashboard):
        for target in panel.get("targets", []):
            yield f"{dashboard['uid']} / {panel['title']} / {target['refId']}", target["expr"]


def variable_exprs(dashboard: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(where, label_values(metric, label)) for every query variable."""
    for variable in dashboard["templating"]["list"]:
        if variable["type"] == "query":
            yield f"{dashboard['uid']} / ${variable['name']}", variable["definition"]


_LABEL_VALUES = re.compile(r"^label_values\(\s*([a-zA-Z_:][\w:]*)\s*,\s*(\w+)\s*\)$")


def parse_label_values(definition: str) -> tuple[str, str]:
    """``label_values(metric, label)`` -> (metric, label)."""
    match = _LABEL_VALUES.match(definition.strip())
    if match is None:
        raise ValueError(f"not a label_values() query: {definition}")
    return match.group(1), match.group(2)


def substitute(expr: str, variables: dict[str, str]) -> str:
    """Replace Grafana's variables (``$name``, ``${name}``) as Grafana would before querying."""
    for name, value in sorted(variables.items(), key=lambda item: -len(item[0])):
        expr = expr.replace("${" + name + "}", value).replace("$" + name, value)
    return expr


GRAFANA_INTERVALS = {"__rate_interval": "1m", "__interval": "15s", "__range": "1h"}
