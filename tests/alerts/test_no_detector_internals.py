"""Alerts and the HTTP edge know no detector: a cause's label comes with the alert.

``alerts/`` and ``monitor/http/`` import the core's vocabulary (``detectors.findings``,
``detectors.causes``, ``detectors.model.describe``) and nothing of a detector's
internals: not ``detectors.known``, ``detectors.shared``, the registry, nor the
removed ``detectors.cause_labels``. Checked on the source (every import statement,
functions' included) and, for ``alerts``, in a fresh interpreter (what importing every
module of the package loads). The HTTP edge's diagnosis endpoint does load the
detectors, through ``detectors.diagnose`` (its job: running them on a ticket).
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = ("detectors.known", "detectors.shared", "detectors.registry", "detectors.cause_labels")
PACKAGES = ("alerts", "monitor/http")


def _imports(path: Path) -> Iterator[tuple[int, str]]:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from ((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            yield node.lineno, node.module
            # ``from detectors import known`` names the module in the alias.
            yield from ((node.lineno, f"{node.module}.{a.name}") for a in node.names)


def _forbidden(name: str) -> bool:
    return any(name == f or name.startswith(f + ".") for f in FORBIDDEN)


@pytest.mark.parametrize("package", PACKAGES)
def test_no_module_imports_a_detector_s_internals(package: str) -> None:
    found = [
        f"{path.relative_to(ROOT)}:{line} imports {name}"
        for path in sorted((ROOT / package).rglob("*.py"))
        for line, name in _imports(path)
        if _forbidden(name)
    ]
    assert found == []


def test_importing_every_alerts_module_loads_no_detector() -> None:
    script = (
        "import importlib, json, pkgutil, sys, alerts\n"
        "for m in pkgutil.walk_packages(alerts.__path__, 'alerts.'):\n"
        "    importlib.import_module(m.name)\n"
        "print(json.dumps(sorted(n for n in sys.modules if n.startswith('detectors'))))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )
    loaded = json.loads(out.stdout)
    assert "detectors.findings" in loaded  # the check sees what alerts load
    assert [name for name in loaded if _forbidden(name)] == []
