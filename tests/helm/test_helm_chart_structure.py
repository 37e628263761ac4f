"""The Helm chart without Helm: metadata, values used by templates, copies in sync, config valid.

These checks always run; tests/helm/test_helm_chart_render.py renders the chart with Helm.
"""

from __future__ import annotations

import copy
import os
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from alerts.routing import Router
from monitor.config import load_settings

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "helm" / "ecampus-monitor"
TEMPLATES = CHART / "templates"
CI_VALUES = sorted((CHART / "ci").glob("*-values.yaml"))
SYNC_COMMAND = (
    "cp grafana/dashboards/*.json helm/ecampus-monitor/dashboards/ && "
    "cp grafana/prometheus/rules.yml helm/ecampus-monitor/prometheus/rules.yml"
)
VALUES_REF = re.compile(r"\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)")


def _yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Helm's coalescing of a values file over the defaults (maps merge, the rest replaces)."""
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


@pytest.fixture(scope="module")
def values() -> dict[str, Any]:
    loaded = _yaml(CHART / "values.yaml")
    assert isinstance(loaded, dict)
    return loaded


def test_chart_metadata_follows_the_package() -> None:
    chart = _yaml(CHART / "Chart.yaml")
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert chart["apiVersion"] == "v2"
    assert chart["name"] == CHART.name == "ecampus-monitor"
    assert chart["type"] == "application"
    assert re.fullmatch(r"\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?", chart["version"])
    assert chart["description"].strip()
    assert chart["kubeVersion"]
    # image.tag defaults to appVersion: the chart deploys the version of the code beside it.
    assert str(chart["appVersion"]) == pyproject["project"]["version"]


def test_the_chart_has_every_expected_file() -> None:
    expected = {
        "_helpers.tpl",
        "NOTES.txt",
        "configmap.yaml",
        "secret.yaml",
        "deployment-worker.yaml",
        "deployment-api.yaml",
        "service-api.yaml",
        "service-worker-metrics.yaml",
        "servicemonitor.yaml",
        "pdb.yaml",
        "job-migrate.yaml",
        "dashboards-configmap.yaml",
    }
    assert expected <= {p.name for p in TEMPLATES.iterdir()}
    for name in ("Chart.yaml", "values.yaml", "README.md", ".helmignore"):
        assert (CHART / name).is_file(), name
    assert (ROOT / "helm" / "Dockerfile").is_file()


def _has_path(tree: Any, path: list[str]) -> bool:
    for part in path:
        if not isinstance(tree, dict) or part not in tree:
            return False
        tree = tree[part]
    return True


def test_templates_use_only_values_that_exist(values: dict[str, Any]) -> None:
    missing = []
    for template in sorted(TEMPLATES.iterdir()):
        for number, line in enumerate(template.read_text(encoding="utf-8").splitlines(), 1):
            for match in VALUES_REF.finditer(line):
                path = match.group(1).lstrip(".").split(".")
                if not _has_path(values, path):
                    missing.append(f"{template.name}:{number}: .Values.{'.'.join(path)}")
    assert not missing, "values used by templates but absent from values.yaml:\n" + "\n".join(
        missing
    )


def test_every_top_level_value_is_documented(values: dict[str, Any]) -> None:
    readme = (CHART / "README.md").read_text(encoding="utf-8")
    undocumented = [key for key in values if f"`{key}`" not in readme]
    assert not undocumented, f"top-level values missing from the chart's README: {undocumented}"
    lines = (CHART / "values.yaml").read_text(encoding="utf-8").splitlines()
    for key in values:
        index = next(i for i, line in enumerate(lines) if line.startswith(f"{key}:"))
        block = lines[max(0, index - 1) : index + 2]
        assert any(line.lstrip().startswith("#") for line in block), f"{key} has no comment"


def test_secure_defaults(values: dict[str, Any]) -> None:
    pod, container = values["podSecurityContext"], values["securityContext"]
    assert pod["runAsNonRoot"] is True and pod["runAsUser"] != 0
    assert container["readOnlyRootFilesystem"] is True
    assert container["allowPrivilegeEscalation"] is False
    assert container["capabilities"]["drop"] == ["ALL"]
    # The image's user is the one the pods run as.
    dockerfile = (ROOT / "helm" / "Dockerfile").read_text(encoding="utf-8")
    assert f"USER {pod['runAsUser']}:{pod['runAsGroup']}" in dockerfile
    assert "FROM python:3.11-slim" in dockerfile


def test_sizing_defaults(values: dict[str, Any]) -> None:
    worker = values["worker"]
    assert worker["replicas"] == 2 and values["api"]["replicas"] == 2
    assert worker["terminationGracePeriodSeconds"] >= 60
    assert worker["resources"]["limits"] == {"cpu": "2", "memory": "2Gi"}
    assert worker["podAntiAffinity"] == "soft"
    assert values["serviceMonitor"]["enabled"] is False
    assert values["secrets"]["storeUrl"] == ""  # no default password, ever


def _differences(original_dir: Path, copy_dir: Path, pattern: str) -> list[str]:
    originals = {p.name: p.read_bytes() for p in original_dir.glob(pattern)}
    copies = {p.name: p.read_bytes() for p in copy_dir.glob(pattern)}
    problems = [f"missing from the chart: {n}" for n in sorted(originals.keys() - copies.keys())]
    problems += [f"no longer in grafana/: {n}" for n in sorted(copies.keys() - originals.keys())]
    problems += [
        f"differs: {n}"
        for n in sorted(originals.keys() & copies.keys())
        if originals[n] != copies[n]
    ]
    return problems


def test_chart_dashboards_are_a_copy_of_grafana_dashboards() -> None:
    original = ROOT / "grafana" / "dashboards"
    chart_copy = CHART / "dashboards"
    if not (original.is_dir() and chart_copy.is_dir()):
        pytest.skip("grafana/dashboards or the chart's dashboards/ is absent")
    problems = _differences(original, chart_copy, "*.json")
    assert not problems, "\n".join(problems) + f"\nsync them: {SYNC_COMMAND}"


def test_chart_rules_are_a_copy_of_grafana_rules() -> None:
    original = ROOT / "grafana" / "prometheus" / "rules.yml"
    chart_copy = CHART / "prometheus" / "rules.yml"
    if not (original.is_file() and chart_copy.is_file()):
        pytest.skip("grafana/prometheus/rules.yml or the chart's copy is absent")
    assert original.read_bytes() == chart_copy.read_bytes(), f"sync them: {SYNC_COMMAND}"


def _config_file(release: dict[str, Any]) -> dict[str, Any]:
    """What the chart's ecampus-monitor.configYaml helper writes, for these values."""
    config = copy.deepcopy(release["config"])
    http = config.get("http") or {}
    if not http.get("public_url"):
        http.pop("public_url", None)
        ingress = release["ingress"]
        if ingress["enabled"] and ingress["hosts"]:
            scheme = "https" if ingress["tls"] else "http"
            http["public_url"] = f"{scheme}://{ingress['hosts'][0]['host']}"
    if http:
        config["http"] = http
    else:
        config.pop("http", None)
    return config


@pytest.mark.parametrize("values_file", CI_VALUES, ids=lambda p: p.name)
def test_config_and_routing_load_with_the_program(
    values: dict[str, Any], values_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    release = _merge(values, _yaml(values_file))
    for name in [n for n in os.environ if n.startswith("ECAMPUS_MONITOR_")]:
        monkeypatch.delenv(name)
    config_file = tmp_path / "config.yaml"
    config_file.write_text(yaml.safe_dump(_config_file(release)), encoding="utf-8")
    # The store URL comes from the Secret as an environment variable.
    monkeypatch.setenv("ECAMPUS_MONITOR_STORE__URL", "mysql+pymysql://u:p@mariadb/ecampus")
    settings = load_settings(config_file)
    assert settings.kafka.bootstrap_servers == release["config"]["kafka"]["bootstrap_servers"]
    assert settings.smtp.host == release["config"]["smtp"]["host"]
    if release["routing"]["content"]:
        routing = tmp_path / "routing.yaml"
        routing.write_text(release["routing"]["content"], encoding="utf-8")
        Router.load(routing, settings.routing.cemu_address)


def test_ci_values_cover_the_options() -> None:
    names = {p.name for p in CI_VALUES}
    assert {"minimal-values.yaml", "production-values.yaml"} <= names
    production = _yaml(CHART / "ci" / "production-values.yaml")
    for key in ("serviceMonitor", "prometheusRule", "ingress", "dashboards"):
        assert production[key]["enabled"] is True
    assert production["secrets"]["existingSecret"]
