"""A three-worker release rendered by Helm (issue 14, item 4): the lease's timing reaches
the workers, and every worker is one of one consumer group on one store."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from monitor.config import CoordinationSettings, load_settings
from monitor.kafka.broker import DEFAULT_PARTITIONS
from tests.helm.test_helm_chart_render import (
    CHART,
    FULLNAME,
    SECRET_VALUES,
    Helm,
    _merge,
    _one,
    _values,
    helm,  # noqa: F401 (the fixture)
)

THREE_WORKERS = {
    "worker": {"replicas": 3},
    "config": {"coordination": {"lease_ttl_seconds": 12}},
}


@pytest.fixture(scope="module")
def three_workers(helm: Helm) -> list[dict[str, Any]]:  # noqa: F811
    values = _merge(_values("minimal-values.yaml"), THREE_WORKERS)
    values["secrets"] = dict(SECRET_VALUES)
    return helm.render(values)


def test_three_workers_share_one_group_one_store_and_one_lease(
    three_workers: list[dict[str, Any]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    worker = _one(three_workers, "Deployment", f"{FULLNAME}-worker")
    assert worker["spec"]["replicas"] == 3
    # One at a time during a rollout: the group rebalances once per change, and the leaving
    # worker (SIGTERM) hands the lease over at once.
    assert worker["spec"]["strategy"]["rollingUpdate"] == {"maxSurge": 1, "maxUnavailable": 0}
    pdb = _one(three_workers, "PodDisruptionBudget", f"{FULLNAME}-worker")
    assert pdb["spec"]["maxUnavailable"] == 1
    (container,) = worker["spec"]["template"]["spec"]["containers"]
    assert container["args"] == ["run", "--role", "worker"]
    env = {e["name"]: e for e in container["env"]}
    assert env["ECAMPUS_MONITOR_STORE__URL"]["valueFrom"]["secretKeyRef"]["name"] == FULLNAME

    # Every worker reads the same file: one consumer group, and the lease's timing.
    config = _one(three_workers, "ConfigMap", FULLNAME)["data"]["config.yaml"]
    path = tmp_path / "config.yaml"
    path.write_text(config, encoding="utf-8")
    for name in [n for n in os.environ if n.startswith("ECAMPUS_MONITOR_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("ECAMPUS_MONITOR_STORE__URL", SECRET_VALUES["storeUrl"])
    settings = load_settings(path)
    assert settings.coordination.lease_ttl_seconds == 12
    assert settings.kafka.group_id == "ecampus-monitor"
    # The lease holder hands over on SIGTERM, well within the grace period.
    grace = worker["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
    assert grace > settings.coordination.lease_ttl_seconds


def test_the_charts_lease_default_is_the_programs() -> None:
    values = yaml.safe_load((CHART / "values.yaml").read_text(encoding="utf-8"))
    chart_ttl = values["config"]["coordination"]["lease_ttl_seconds"]
    assert chart_ttl == CoordinationSettings().lease_ttl_seconds


def test_the_docs_name_the_partition_bound_and_the_lease() -> None:
    readme = " ".join((CHART / "README.md").read_text(encoding="utf-8").split())
    values_text = (CHART / "values.yaml").read_text(encoding="utf-8")
    assert f"{DEFAULT_PARTITIONS} when the workers create the topics" in readme
    assert f"{DEFAULT_PARTITIONS} when the workers create" in values_text
    assert "config.coordination.lease_ttl_seconds" in readme
    assert "ecampus_monitor_detection_lease_held" in readme
