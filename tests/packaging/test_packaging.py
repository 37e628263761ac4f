"""pyproject says what the code needs, and the lock file the image installs agrees with it.

The image (helm/Dockerfile) installs ``requirements.lock``, pinned and hash-checked, then the
project with ``--no-deps``: a dependency declared in pyproject but missing from the lock, or
pinned at a version pyproject refuses, would break the image or run it on untested code.
README ("The lock file") says how to refresh it.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("monitor", "detectors", "alerts")
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
PROJECT = PYPROJECT["project"]
LOCK = ROOT / "requirements.lock"

# Declared, never imported by name, and why they are needed all the same.
USED_WITHOUT_IMPORT = {
    # kafka-python's C CRC-32C for record batches (its pure-Python fallback is slow).
    "crc32c",
}
# SQLAlchemy drivers: needed when a URL names them (``dialect+driver://``).
DRIVERS = {"oracledb", "pymysql", "psycopg"}


def _locked() -> dict[str, tuple[Version, str]]:
    """name -> (pinned version, environment marker or "") for each requirement in the lock."""
    pins: dict[str, tuple[Version, str]] = {}
    text = LOCK.read_text(encoding="utf-8").replace("\\\n", " ")
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        requirement = Requirement(line.split(" --hash=")[0].strip())
        (spec,) = requirement.specifier  # exactly one pin per line
        assert spec.operator == "==", line
        assert "--hash=sha256:" in line, f"{requirement.name} is pinned without a hash"
        marker = str(requirement.marker) if requirement.marker else ""
        pins[canonicalize_name(requirement.name)] = (Version(spec.version), marker)
    return pins


def _runtime_requirements() -> list[Requirement]:
    return [Requirement(line) for line in PROJECT["dependencies"]]


def test_every_declared_dependency_is_pinned_in_the_lock_at_an_accepted_version() -> None:
    pins = _locked()
    problems = []
    for requirement in _runtime_requirements():
        name = canonicalize_name(requirement.name)
        if name not in pins:
            problems.append(f"{requirement} is not in requirements.lock")
            continue
        version, _marker = pins[name]
        if not requirement.specifier.contains(version, prereleases=True):
            problems.append(
                f"requirements.lock pins {name}=={version}, pyproject wants {requirement}"
            )
    assert not problems, "requirements.lock is out of date (README: The lock file):\n" + "\n".join(
        problems
    )


def test_the_lock_holds_the_runtime_set_only_each_package_once() -> None:
    pins = _locked()
    # Development tools never reach the image.
    for tool in ("pytest", "mypy", "ruff", "hypothesis", "playwright"):
        assert tool not in pins, tool
    declared = {canonicalize_name(r.name) for r in _runtime_requirements()}
    assert declared <= set(pins)
    # Everything pinned that is not declared is there because something declared needs it.
    lock_text = LOCK.read_text(encoding="utf-8")
    for name in set(pins) - declared:
        block = re.search(rf"^{re.escape(name)}==.*?(?=^\S|\Z)", lock_text, re.M | re.S | re.I)
        assert block is not None and "# via" in block.group(0), f"{name} is pinned for nothing"


def test_the_image_installs_from_the_lock_with_hashes_and_adds_nothing() -> None:
    dockerfile = (ROOT / "helm" / "Dockerfile").read_text(encoding="utf-8")
    assert "COPY pyproject.toml README.md requirements.lock ./" in dockerfile
    assert "pip install --require-hashes --no-deps -r requirements.lock" in dockerfile
    assert "pip install --no-deps ." in dockerfile
    ignore = (ROOT / "helm" / "Dockerfile.dockerignore").read_text(encoding="utf-8")
    assert "!requirements.lock" in ignore.splitlines()


def _third_party_imports() -> set[str]:
    local = set(PACKAGES)
    found: set[str] = set()
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    found |= {alias.name.split(".")[0] for alias in node.names}
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    found.add(node.module.split(".")[0])
    return {m for m in found if m not in sys.stdlib_module_names and m not in local}


def _declared_names() -> set[str]:
    names = {canonicalize_name(r.name) for r in _runtime_requirements()}
    for group in PROJECT["optional-dependencies"].values():
        names |= {canonicalize_name(Requirement(line).name) for line in group}
    return names


def test_every_imported_package_is_declared() -> None:
    distributions = packages_distributions()
    declared = _declared_names()
    undeclared = []
    for module in sorted(_third_party_imports()):
        dists = {canonicalize_name(d) for d in distributions.get(module, [module])}
        if not dists & declared:
            undeclared.append(f"{module} (from {', '.join(sorted(dists))})")
    assert not undeclared, f"imported but not declared in pyproject: {undeclared}"


def test_every_runtime_dependency_is_used() -> None:
    distributions = packages_distributions()
    imported = {
        canonicalize_name(dist)
        for module in _third_party_imports()
        for dist in distributions.get(module, [module])
    }
    sources = "\n".join(
        path.read_text(encoding="utf-8")
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
    )
    unused = []
    for requirement in _runtime_requirements():
        name = canonicalize_name(requirement.name)
        if name in imported or name in USED_WITHOUT_IMPORT:
            continue
        if name in DRIVERS and f"+{name}" in sources:
            continue
        unused.append(name)
    assert not unused, f"declared in pyproject but used nowhere: {unused}"


def test_every_package_data_glob_matches_a_file() -> None:
    stale = [
        f"{package}: {pattern}"
        for package, patterns in PYPROJECT["tool"]["setuptools"]["package-data"].items()
        for pattern in patterns
        if not any((ROOT / package.replace(".", "/")).glob(pattern))
    ]
    assert not stale, f"package-data globs that match nothing: {stale}"


def test_the_licence_is_an_spdx_expression_with_its_file() -> None:
    assert isinstance(PROJECT["license"], str)
    for name in PROJECT["license-files"]:
        assert (ROOT / name).is_file(), name
    backend = [Requirement(r) for r in PYPROJECT["build-system"]["requires"]]
    setuptools = next(r for r in backend if r.name == "setuptools")
    # PEP 639 licence expressions need setuptools 77.
    assert not setuptools.specifier.contains("76.9")


def test_the_readme_refreshes_the_lock_with_the_command_that_made_it() -> None:
    header = LOCK.read_text(encoding="utf-8").splitlines()[:3]
    made_by = next(line.lstrip("# ").strip() for line in header if "uv pip compile" in line)
    assert made_by in (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
