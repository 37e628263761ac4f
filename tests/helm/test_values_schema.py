"""The chart's values.schema.json is the settings' schema, up to date, and Helm enforces it."""

from __future__ import annotations

from typing import Any

import pytest

from scripts.make_values_schema import SCHEMA, rendered
from tests.helm.test_helm_chart_render import (  # noqa: F401  (the helm fixture)
    SECRET_VALUES,
    Helm,
    RenderFailed,
    _values,
    helm,
)


def test_values_schema_is_up_to_date() -> None:
    assert SCHEMA.read_text(encoding="utf-8") == rendered(), (
        "run `python -m scripts.make_values_schema`"
    )


def _with_config(**config: Any) -> dict[str, Any]:
    values = _values("minimal-values.yaml")
    values["secrets"] = dict(SECRET_VALUES)
    values["config"] = {**values.get("config", {}), **config}
    return values


def test_the_chart_renders_its_values_under_the_schema(helm: Helm) -> None:  # noqa: F811
    docs = helm.render(_with_config(rules={"year_overlap_until": "10-15"}))
    assert any(d.get("kind") == "ConfigMap" for d in docs)
    assert helm.render(_values("production-values.yaml"))


@pytest.mark.parametrize(
    "config",
    [
        {"rules": {"year_overlap_until": "13-45"}},  # no such month
        {"rules": {"maintenance_weekday": 7}},
        {"rules": {"thresholds": {"cohort_sync_max_age_dayz": 90}}},  # a typo
        {"kafka": {"max_poll_records": "many"}},
    ],
)
def test_helm_refuses_a_wrong_setting(helm: Helm, config: dict[str, Any]) -> None:  # noqa: F811
    with pytest.raises(RenderFailed):
        helm.render(_with_config(**config))
