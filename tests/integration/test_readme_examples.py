"""Every YAML example of README.md works: configuration examples through the real
``ecampus-monitor config show`` (a process, exit 0, each value shown), the routing-file and
fault-file examples through their own loaders.

A configuration example's ``routing.file`` is pointed at the README's routing example
written to a temporary file (the documented path, /etc/…, exists on a server only).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from alerts.routing import Router
from monitor.config import Settings
from monitor.simulation.faults import FaultConfig

pytestmark = pytest.mark.integration

README = Path(__file__).resolve().parents[2] / "README.md"
CLI = [sys.executable, "-m", "monitor"]
MASKED = "**********"
_BLOCK = re.compile(r"^```yaml\n(.*?)^```", re.S | re.M)


def yaml_examples() -> list[str]:
    return _BLOCK.findall(README.read_text(encoding="utf-8"))


def kind_of(example: dict[str, Any]) -> str:
    keys = set(example)
    if "composantes" in keys:
        return "routing"
    if keys <= set(Settings.model_fields):
        return "configuration"
    return "faults"


def _examples(kind: str) -> list[dict[str, Any]]:
    return [e for e in map(yaml.safe_load, yaml_examples()) if kind_of(e) == kind]


def _leaves(value: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    if isinstance(value, dict) and value:
        for key, inner in value.items():
            yield from _leaves(inner, (*path, str(key)))
    else:
        yield path, value


def _same(documented: Any, shown: Any) -> bool:
    if shown == MASKED or (isinstance(shown, list) and set(shown) == {MASKED}):
        return True  # a secret, masked
    if isinstance(documented, list) and isinstance(shown, list):
        return len(documented) == len(shown) and all(map(_same, documented, shown))
    if isinstance(documented, str) and isinstance(shown, str):
        return shown == documented or shown.startswith(documented)  # "07:00" -> "07:00:00"
    return bool(documented == shown or str(documented) == str(shown))


def test_the_readme_has_configuration_routing_and_fault_examples() -> None:
    kinds = [kind_of(yaml.safe_load(e)) for e in yaml_examples()]
    assert kinds.count("configuration") >= 2, kinds
    assert kinds.count("routing") == 1, kinds
    assert kinds.count("faults") == 1, kinds


@pytest.mark.parametrize("index", range(len(_examples("configuration"))))
def test_configuration_example_is_accepted_and_shown(tmp_path: Path, index: int) -> None:
    example = _examples("configuration")[index]
    routing = tmp_path / "routing.yaml"
    routing.write_text(yaml.safe_dump(_examples("routing")[0]), encoding="utf-8")
    if isinstance(example.get("routing"), dict) and "file" in example["routing"]:
        example["routing"]["file"] = str(routing)
    config = tmp_path / "ecampus-monitor.yaml"
    config.write_text(yaml.safe_dump(example, allow_unicode=True), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ECAMPUS_MONITOR_")}

    result = subprocess.run(
        [*CLI, "config", "show", "--config", str(config)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr
    shown = yaml.safe_load(result.stdout)
    for path, documented in _leaves(example):
        value: Any = shown
        for key in path:
            value = value[key]
        assert _same(documented, value), (".".join(path), documented, value)


def test_routing_example_loads_with_the_routing_loader(tmp_path: Path) -> None:
    routing = tmp_path / "routing.yaml"
    routing.write_text(yaml.safe_dump(_examples("routing")[0]), encoding="utf-8")
    router = Router.load(routing, "fallback@example.org")
    assert router.composantes and router.rules


def test_fault_file_example_loads_with_the_fault_loader(tmp_path: Path) -> None:
    faults = tmp_path / "faults.yaml"
    faults.write_text(yaml.safe_dump(_examples("faults")[0]), encoding="utf-8")
    assert FaultConfig.from_yaml(faults).total() > 0
