"""The Helm chart rendered and linted by Helm itself, and the manifests checked.

Helm comes from the ``helm-python-sdk`` wheel (Helm's Go SDK behind a C ABI, no binary
needed), or a ``helm`` binary on PATH. Without either the tests are skipped on a
developer's machine and fail under CI (``CI`` set), where .ci/run installs the wheel.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

import pytest
import yaml

from alerts.routing import Router
from monitor.config import load_settings

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "helm" / "ecampus-monitor"
RELEASE, NAMESPACE = "ecm", "ecampus"
FULLNAME = f"{RELEASE}-ecampus-monitor"
INSTALL_LINE = '.venv/bin/pip install --quiet "helm-python-sdk==0.2.2"'

# Distinct values that must reach the Secret and never a ConfigMap.
SECRET_VALUES = {
    "storeUrl": "mysql+pymysql://ecampus:store-pw-5f1e@mariadb:3306/ecampus_monitor",
    "smtpPassword": "smtp-pw-83c2",
    "apiTokens": ["api-token-a71d", "api-token-0b9e"],
    "kafkaSaslPassword": "sasl-pw-d44a",
    "sessionSecret": "session-key-9b27e0c4a1f35d68",
}


class RenderFailed(Exception):
    """Helm refused to render (a `fail` or `required` in a template, or a template error)."""


class Helm(Protocol):
    def render(self, values: dict[str, Any]) -> list[dict[str, Any]]: ...

    def lint(self, values: dict[str, Any]) -> list[str]: ...


def _documents(text: str) -> Iterator[dict[str, Any]]:
    for document in yaml.safe_load_all(text):
        if document:
            yield document


class SdkHelm:
    """Helm's Go SDK through the helm-python-sdk wheel."""

    def __init__(self) -> None:
        import helm_python

        self.helm = helm_python

    def render(self, values: dict[str, Any]) -> list[dict[str, Any]]:
        try:
            with self.helm.Chart.load(str(CHART)) as chart:
                rendered = chart.render(values, name=RELEASE, namespace=NAMESPACE, is_install=True)
        except self.helm.HelmError as error:
            raise RenderFailed(str(error)) from error
        return [
            document
            for path, text in sorted(rendered.items())
            if path.endswith((".yaml", ".yml"))
            for document in _documents(text)
        ]

    def lint(self, values: dict[str, Any]) -> list[str]:
        report = self.helm.lint(str(CHART), values, strict=True, namespace=NAMESPACE)
        problems = [f"{m['path']}: {m['error']}" for m in report["messages"] if m["severity"] >= 2]
        return problems + list(report.get("errors") or [])


class BinaryHelm:
    """A `helm` binary on PATH."""

    def __init__(self, binary: str, tmp: Path) -> None:
        self.binary, self.tmp = binary, tmp

    def _values_file(self, values: dict[str, Any]) -> str:
        path = self.tmp / f"values-{abs(hash(json.dumps(values, sort_keys=True)))}.yaml"
        path.write_text(yaml.safe_dump(values), encoding="utf-8")
        return str(path)

    def render(self, values: dict[str, Any]) -> list[dict[str, Any]]:
        command = [self.binary, "template", RELEASE, str(CHART), "--namespace", NAMESPACE]
        done = subprocess.run(
            [*command, "-f", self._values_file(values)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        if done.returncode != 0:
            raise RenderFailed(done.stderr)
        return list(_documents(done.stdout))

    def lint(self, values: dict[str, Any]) -> list[str]:
        command = [self.binary, "lint", "--strict", str(CHART), "--namespace", NAMESPACE]
        done = subprocess.run(
            [*command, "-f", self._values_file(values)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        return [] if done.returncode == 0 else [done.stdout + done.stderr]


@pytest.fixture(scope="module")
def helm(tmp_path_factory: pytest.TempPathFactory) -> Helm:
    try:
        return SdkHelm()
    except ImportError:
        pass
    if binary := shutil.which("helm"):
        return BinaryHelm(binary, tmp_path_factory.mktemp("helm"))
    message = f"Helm is not available: install it with {INSTALL_LINE}"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def _values(name: str) -> dict[str, Any]:
    loaded = yaml.safe_load((CHART / "ci" / name).read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


@pytest.fixture(scope="module")
def minimal(helm: Helm) -> list[dict[str, Any]]:
    values = _values("minimal-values.yaml")
    values["secrets"] = dict(SECRET_VALUES)
    return helm.render(values)


@pytest.fixture(scope="module")
def production(helm: Helm) -> list[dict[str, Any]]:
    return helm.render(_values("production-values.yaml"))


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _one(docs: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    found = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(found) == 1, f"{kind}/{name}: {len(found)} found"
    return found[0]


def _kinds(docs: list[dict[str, Any]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for doc in docs:
        counts[doc["kind"]] = counts.get(doc["kind"], 0) + 1
    return counts


def _env(container: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {entry["name"]: entry for entry in container["env"]}


def _pod_specs(docs: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    return [
        (f"{d['kind']}/{d['metadata']['name']}", d["spec"]["template"]["spec"])
        for d in docs
        if d["kind"] in ("Deployment", "Job")
    ]


# --- Helm's own verdict ---------------------------------------------------------------------


@pytest.mark.parametrize("values_file", ["minimal-values.yaml", "production-values.yaml"])
def test_helm_lint_is_clean(helm: Helm, values_file: str) -> None:
    assert helm.lint(_values(values_file)) == []


def test_default_values_name_what_is_missing(helm: Helm) -> None:
    with pytest.raises(RenderFailed, match=r"secrets\.storeUrl is required"):
        helm.render({})
    with pytest.raises(RenderFailed, match=r"config\.kafka\.bootstrap_servers is required"):
        helm.render({"secrets": {"storeUrl": SECRET_VALUES["storeUrl"]}})


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"config": {"store": {"url": "mysql+pymysql://u:p@h/d"}}}, r"config\.store\.url"),
        ({"config": {"smtp": {"password": "x"}}}, r"config\.smtp\.password"),
        ({"config": {"http": {"api_tokens": ["x"]}}}, r"config\.http\.api_tokens"),
        ({"config": {"http": {"session_secret": "x" * 20}}}, r"config\.http\.session_secret"),
        ({"config": {"kafka": {"sasl_password": "x"}}}, r"config\.kafka\.sasl_password"),
        ({"worker": {"terminationGracePeriodSeconds": 30}}, r"at least 60"),
    ],
)
def test_refused_values(helm: Helm, values: dict[str, Any], message: str) -> None:
    with pytest.raises(RenderFailed, match=message):
        helm.render(_merge(_values("minimal-values.yaml"), values))


# --- a minimal release ------------------------------------------------------------------------


def test_minimal_release_has_the_expected_resources(minimal: list[dict[str, Any]]) -> None:
    kinds = _kinds(minimal)
    assert kinds["Deployment"] == 2
    assert kinds["Service"] == 2
    assert kinds["PodDisruptionBudget"] == 2
    assert kinds["Job"] == 1
    # The release's, the migration hook's copy, and the page's session key.
    assert kinds["Secret"] == 3
    dashboards = list((CHART / "dashboards").glob("*.json"))
    assert kinds["ConfigMap"] == 1 + len(dashboards)
    for absent in ("ServiceMonitor", "PrometheusRule", "Ingress", "ServiceAccount"):
        assert absent not in kinds


def test_worker_deployment(minimal: list[dict[str, Any]]) -> None:
    worker = _one(minimal, "Deployment", f"{FULLNAME}-worker")
    spec = worker["spec"]["template"]["spec"]
    assert worker["spec"]["replicas"] == 2
    assert spec["terminationGracePeriodSeconds"] >= 60
    (container,) = spec["containers"]
    assert container["args"] == ["run", "--role", "worker"]
    env = _env(container)
    assert env["ECAMPUS_MONITOR_METRICS__HOST"]["value"] == "0.0.0.0"
    assert env["ECAMPUS_MONITOR_METRICS__PORT"]["value"] == "9108"
    assert container["ports"] == [{"name": "metrics", "containerPort": 9108, "protocol": "TCP"}]
    # Liveness must not depend on the state store (a scrape reads it); readiness may.
    for probe in ("startupProbe", "livenessProbe"):
        assert container[probe]["tcpSocket"] == {"port": "metrics"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/metrics", "port": "metrics"}
    assert container["resources"]["limits"] == {"cpu": "2", "memory": "2Gi"}
    assert container["resources"]["requests"]["memory"] == "2Gi"
    anti = spec["affinity"]["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"]
    selector = anti[0]["podAffinityTerm"]["labelSelector"]["matchLabels"]
    assert selector == worker["spec"]["selector"]["matchLabels"]
    assert worker["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0


def test_api_deployment(minimal: list[dict[str, Any]]) -> None:
    api = _one(minimal, "Deployment", f"{FULLNAME}-api")
    (container,) = api["spec"]["template"]["spec"]["containers"]
    assert api["spec"]["replicas"] == 2
    assert container["args"] == ["run", "--role", "api"]
    env = _env(container)
    assert env["ECAMPUS_MONITOR_HTTP__HOST"]["value"] == "0.0.0.0"
    assert env["ECAMPUS_MONITOR_HTTP__PORT"]["value"] == "8080"
    assert "ECAMPUS_MONITOR_METRICS__PORT" not in env
    assert container["ports"] == [{"name": "http", "containerPort": 8080, "protocol": "TCP"}]
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}


def test_both_deployments_read_the_same_configuration(minimal: list[dict[str, Any]]) -> None:
    for component in ("worker", "api"):
        deployment = _one(minimal, "Deployment", f"{FULLNAME}-{component}")
        pod = deployment["spec"]["template"]
        (container,) = pod["spec"]["containers"]
        env = _env(container)
        assert env["ECAMPUS_MONITOR_CONFIG"]["value"] == "/etc/ecampus-monitor/config/config.yaml"
        secret_refs = {
            name: entry["valueFrom"]["secretKeyRef"]
            for name, entry in env.items()
            if "valueFrom" in entry
        }
        assert secret_refs == {
            "ECAMPUS_MONITOR_STORE__URL": {"name": FULLNAME, "key": "store-url"},
            "ECAMPUS_MONITOR_SMTP__PASSWORD": {
                "name": FULLNAME,
                "key": "smtp-password",
                "optional": True,
            },
            "ECAMPUS_MONITOR_HTTP__API_TOKENS": {
                "name": FULLNAME,
                "key": "api-tokens",
                "optional": True,
            },
            "ECAMPUS_MONITOR_KAFKA__SASL_PASSWORD": {
                "name": FULLNAME,
                "key": "kafka-sasl-password",
                "optional": True,
            },
            # Not optional: replicas without a shared key refuse each other's logins.
            "ECAMPUS_MONITOR_HTTP__SESSION_SECRET": {
                "name": f"{FULLNAME}-session",
                "key": "session-secret",
            },
        }
        assert "ECAMPUS_MONITOR_ROUTING__FILE" not in env  # no routing file given
        annotations = pod["metadata"]["annotations"]
        assert {"checksum/config", "checksum/secret"} <= annotations.keys()


def test_every_pod_is_locked_down(minimal: list[dict[str, Any]]) -> None:
    specs = _pod_specs(minimal)
    assert len(specs) == 3
    for name, spec in specs:
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}, name
        assert spec["automountServiceAccountToken"] is False, name
        tmp = [v for v in spec["volumes"] if v["name"] == "tmp"]
        assert tmp and "emptyDir" in tmp[0], name
        for container in spec["containers"]:
            context = container["securityContext"]
            assert context["readOnlyRootFilesystem"] is True, name
            assert context["allowPrivilegeEscalation"] is False, name
            assert context["capabilities"]["drop"] == ["ALL"], name
            mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
            assert mounts["/tmp"] == "tmp", name


def test_migration_job_is_a_pre_install_and_pre_upgrade_hook(
    minimal: list[dict[str, Any]],
) -> None:
    job = _one(minimal, "Job", f"{FULLNAME}-migrate")
    hook_secret = _one(minimal, "Secret", f"{FULLNAME}-migrate")
    for resource in (job, hook_secret):
        annotations = resource["metadata"]["annotations"]
        assert annotations["helm.sh/hook"] == "pre-install,pre-upgrade"
        policies = annotations["helm.sh/hook-delete-policy"].split(",")
        assert {"before-hook-creation", "hook-succeeded"} == set(policies)
    # The hook's Secret exists before the Job that reads it.
    assert int(hook_secret["metadata"]["annotations"]["helm.sh/hook-weight"]) < int(
        job["metadata"]["annotations"]["helm.sh/hook-weight"]
    )
    assert set(hook_secret["data"]) == {"store-url"}
    spec = job["spec"]["template"]["spec"]
    assert spec["restartPolicy"] == "Never"
    (container,) = spec["containers"]
    assert container["args"] == ["db", "upgrade"]
    env = _env(container)
    assert env["ECAMPUS_MONITOR_STORE__URL"]["valueFrom"]["secretKeyRef"] == {
        "name": f"{FULLNAME}-migrate",
        "key": "store-url",
    }
    # Nothing else is needed to migrate, and a routing file that is not mounted would fail.
    assert "ECAMPUS_MONITOR_CONFIG" not in env and "ECAMPUS_MONITOR_ROUTING__FILE" not in env
    # The release's own resources are not hooks.
    for doc in minimal:
        if doc["kind"] in ("Deployment", "Service", "ConfigMap"):
            assert "helm.sh/hook" not in (doc["metadata"].get("annotations") or {})


def _decoded(secret: dict[str, Any]) -> dict[str, str]:
    return {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}


def test_secrets_reach_the_secret_and_never_a_configmap(minimal: list[dict[str, Any]]) -> None:
    secret = _decoded(_one(minimal, "Secret", FULLNAME))
    assert secret == {
        "store-url": SECRET_VALUES["storeUrl"],
        "smtp-password": SECRET_VALUES["smtpPassword"],
        "api-tokens": json.dumps(SECRET_VALUES["apiTokens"], separators=(",", ":")),
        "kafka-sasl-password": SECRET_VALUES["kafkaSaslPassword"],
    }
    needles = [
        "store-pw-5f1e",
        SECRET_VALUES["smtpPassword"],
        *SECRET_VALUES["apiTokens"],
        SECRET_VALUES["kafkaSaslPassword"],
        SECRET_VALUES["sessionSecret"],
    ]
    assert _decoded(_one(minimal, "Secret", f"{FULLNAME}-session")) == {
        "session-secret": SECRET_VALUES["sessionSecret"]
    }
    for doc in minimal:
        if doc["kind"] == "Secret":
            continue
        text = yaml.safe_dump(doc)
        for needle in needles:
            assert needle not in text, f"{doc['kind']}/{doc['metadata']['name']} holds a secret"


def test_without_a_session_secret_the_chart_generates_one(helm: Helm) -> None:
    values = _values("minimal-values.yaml")
    values["secrets"] = {"storeUrl": SECRET_VALUES["storeUrl"]}
    generated = _decoded(_one(helm.render(values), "Secret", f"{FULLNAME}-session"))
    assert len(generated["session-secret"]) >= 48


def test_rendered_configuration_loads_with_the_program(
    minimal: list[dict[str, Any]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = _one(minimal, "ConfigMap", FULLNAME)["data"]["config.yaml"]
    path = tmp_path / "config.yaml"
    path.write_text(config, encoding="utf-8")
    for name in [n for n in os.environ if n.startswith("ECAMPUS_MONITOR_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("ECAMPUS_MONITOR_STORE__URL", SECRET_VALUES["storeUrl"])
    monkeypatch.setenv("ECAMPUS_MONITOR_HTTP__API_TOKENS", json.dumps(SECRET_VALUES["apiTokens"]))
    settings = load_settings(path)
    assert settings.kafka.bootstrap_servers == ["kafka:9092"]
    assert settings.smtp.host == "smtp.example.org"
    assert [t.get_secret_value() for t in settings.http.api_tokens] == SECRET_VALUES["apiTokens"]


def test_services_select_the_pods_and_name_their_ports(minimal: list[dict[str, Any]]) -> None:
    for service_name, component, port in (
        (f"{FULLNAME}-api", "api", "http"),
        (f"{FULLNAME}-worker-metrics", "worker", "metrics"),
    ):
        service = _one(minimal, "Service", service_name)
        deployment = _one(minimal, "Deployment", f"{FULLNAME}-{component}")
        pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert service["spec"]["selector"].items() <= pod_labels.items()
        (service_port,) = service["spec"]["ports"]
        assert service_port["targetPort"] == port
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        assert port in {p["name"] for p in container["ports"]}
    assert _one(minimal, "Service", f"{FULLNAME}-worker-metrics")["spec"]["clusterIP"] == "None"


def test_disruption_budgets_match_the_deployments(minimal: list[dict[str, Any]]) -> None:
    for component in ("worker", "api"):
        pdb = _one(minimal, "PodDisruptionBudget", f"{FULLNAME}-{component}")
        deployment = _one(minimal, "Deployment", f"{FULLNAME}-{component}")
        assert pdb["spec"]["selector"] == deployment["spec"]["selector"]
        assert pdb["spec"]["maxUnavailable"] == 1


def test_dashboards_configmaps_for_the_grafana_sidecar(minimal: list[dict[str, Any]]) -> None:
    maps = [d for d in minimal if d["kind"] == "ConfigMap" and d["metadata"]["name"] != FULLNAME]
    files = {p.name: p for p in (CHART / "dashboards").glob("*.json")}
    assert sorted(name for m in maps for name in m["data"]) == sorted(files)
    for configmap in maps:
        assert configmap["metadata"]["labels"]["grafana_dashboard"] == "1"
        ((name, text),) = configmap["data"].items()
        assert json.loads(text) == json.loads(files[name].read_text(encoding="utf-8"))


def test_a_config_change_rolls_the_pods(helm: Helm) -> None:
    def checksum(level: str) -> str:
        values = _values("minimal-values.yaml")
        values["config"]["log_level"] = level
        worker = _one(helm.render(values), "Deployment", f"{FULLNAME}-worker")
        return str(worker["spec"]["template"]["metadata"]["annotations"]["checksum/config"])

    assert checksum("INFO") != checksum("DEBUG")


# --- a production-like release ----------------------------------------------------------------


def test_production_release_uses_the_existing_secret(production: list[dict[str, Any]]) -> None:
    assert not [d for d in production if d["kind"] == "Secret"]
    for name, spec in _pod_specs(production):
        for container in spec["containers"]:
            refs = [
                e["valueFrom"]["secretKeyRef"]["name"] for e in container["env"] if "valueFrom" in e
            ]
            assert refs and set(refs) == {"ecampus-monitor-secrets"}, name
    job = _one(production, "Job", f"{FULLNAME}-migrate")
    assert job["spec"]["template"]["spec"]["imagePullSecrets"] == [{"name": "registry-credentials"}]
    worker = _one(production, "Deployment", f"{FULLNAME}-worker")
    assert worker["spec"]["replicas"] == 3
    (container,) = worker["spec"]["template"]["spec"]["containers"]
    assert container["image"] == "registry.example.org/cemu/ecampus-monitor:0.1.0"
    affinity = worker["spec"]["template"]["spec"]["affinity"]["podAntiAffinity"]
    assert "requiredDuringSchedulingIgnoredDuringExecution" in affinity


def test_production_routing_and_public_url(
    production: list[dict[str, Any]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = _one(production, "ConfigMap", FULLNAME)["data"]
    (tmp_path / "config.yaml").write_text(data["config.yaml"], encoding="utf-8")
    (tmp_path / "routing.yaml").write_text(data["routing.yaml"], encoding="utf-8")
    for name in [n for n in os.environ if n.startswith("ECAMPUS_MONITOR_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("ECAMPUS_MONITOR_STORE__URL", SECRET_VALUES["storeUrl"])
    monkeypatch.setenv("ECAMPUS_MONITOR_ROUTING__FILE", str(tmp_path / "routing.yaml"))
    settings = load_settings(tmp_path / "config.yaml")
    assert settings.http.public_url == "https://ecampus-monitor.example.org"
    assert settings.kafka.security_protocol == "SASL_SSL"
    router = Router.load(settings.routing.file, settings.routing.cemu_address)
    assert router is not None
    # The composante code "012" stays text.
    assert '"012"' in data["routing.yaml"]
    for component in ("worker", "api"):
        deployment = _one(production, "Deployment", f"{FULLNAME}-{component}")
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        assert _env(container)["ECAMPUS_MONITOR_ROUTING__FILE"]["value"] == (
            "/etc/ecampus-monitor/routing/routing.yaml"
        )
        mounts = {m["mountPath"] for m in container["volumeMounts"]}
        assert "/etc/ecampus-monitor/routing" in mounts


def test_production_monitoring(production: list[dict[str, Any]]) -> None:
    monitor = _one(production, "ServiceMonitor", FULLNAME)
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    assert monitor["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    job_label = monitor["spec"]["jobLabel"]
    selected = [
        d
        for d in production
        if d["kind"] == "Service"
        and monitor["spec"]["selector"]["matchLabels"].items() <= d["metadata"]["labels"].items()
    ]
    assert [s["metadata"]["name"] for s in selected] == [f"{FULLNAME}-worker-metrics"]
    # The rules and dashboards expect the job "ecampus-monitor".
    assert selected[0]["metadata"]["labels"][job_label] == "ecampus-monitor"
    assert [e["port"] for e in monitor["spec"]["endpoints"]] == ["metrics"]
    assert monitor["spec"]["endpoints"][0]["path"] == "/metrics"

    rule = _one(production, "PrometheusRule", FULLNAME)
    source = yaml.safe_load((CHART / "prometheus" / "rules.yml").read_text(encoding="utf-8"))
    assert rule["spec"]["groups"] == source["groups"]

    dashboards = [
        d for d in production if d["kind"] == "ConfigMap" and "dashboard" in d["metadata"]["name"]
    ]
    assert dashboards and all(d["metadata"]["namespace"] == "monitoring" for d in dashboards)


def test_production_ingress_reaches_the_api(production: list[dict[str, Any]]) -> None:
    ingress = _one(production, "Ingress", FULLNAME)
    (rule,) = ingress["spec"]["rules"]
    assert rule["host"] == "ecampus-monitor.example.org"
    backend = rule["http"]["paths"][0]["backend"]["service"]
    assert backend == {"name": f"{FULLNAME}-api", "port": {"name": "http"}}
    _one(production, "Service", backend["name"])


def test_scraping_the_api_too(helm: Helm) -> None:
    values = _values("minimal-values.yaml")
    values["serviceMonitor"] = {"enabled": True, "scrapeApi": True}
    monitor = _one(helm.render(values), "ServiceMonitor", FULLNAME)
    assert "app.kubernetes.io/component" not in monitor["spec"]["selector"]["matchLabels"]
    assert [e["port"] for e in monitor["spec"]["endpoints"]] == ["metrics", "http"]
