"""Who receives an alert: the composante's scolarité, else the CEMU.

The routing file (YAML) maps composante codes to their scolarité addresses::

    cemu: cemu.assistance@example.org
    composantes:
      "12": {name: "UFR HSS", scolarite: ["scolarite.hss@example.org"]}

Every scalar is read as text, so an unquoted ``012`` stays the code ``"012"``
(YAML 1.1 would read it as the octal number 10). A bad file is refused with
the line and the field at fault.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Protocol

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from detectors.findings import Audience

Address = Annotated[
    str, StringConstraints(strip_whitespace=True, pattern=r"^[^@\s<>,;\"]+@[^@\s<>,;\"]+$")
]


class RoutingFileError(ValueError):
    """The routing file cannot be used; the message names the line and field."""


class _ComposanteEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    scolarite: list[Address] = Field(min_length=1)


class _RoutingFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    cemu: Address | None = None
    composantes: dict[str, _ComposanteEntry] = Field(default_factory=dict)


class Routable(Protocol):
    """What routing looks at in an alert."""

    @property
    def audience(self) -> Audience: ...

    @property
    def cod_cmp(self) -> str | None: ...


@dataclass(frozen=True, slots=True)
class Composante:
    cod_cmp: str
    name: str
    scolarite: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Router:
    """Recipients of an alert, from its audience and composante.

    >>> from types import SimpleNamespace as Alert
    >>> hss = Composante("12", "UFR HSS", ("scolarite.hss@example.org",))
    >>> router = Router(cemu="cemu@example.org", composantes={"12": hss})
    >>> router.recipients(Alert(audience="scolarite", cod_cmp="12"))
    ['scolarite.hss@example.org']
    >>> router.recipients(Alert(audience="scolarite", cod_cmp="99"))
    ['cemu@example.org']
    """

    cemu: str
    composantes: Mapping[str, Composante]

    @classmethod
    def load(cls, path: Path | None, cemu_fallback: str) -> Router:
        """The router of ``path``; without a file every alert goes to ``cemu_fallback``."""
        if path is None:
            return cls(cemu=cemu_fallback, composantes={})
        parsed = _parse(path)
        return cls(
            cemu=parsed.cemu or cemu_fallback,
            composantes={
                code: Composante(code, entry.name, tuple(entry.scolarite))
                for code, entry in parsed.composantes.items()
            },
        )

    def recipients(self, alert: Routable) -> list[str]:
        if alert.audience == "scolarite":
            composante = self.composantes.get(alert.cod_cmp or "")
            if composante is not None:
                return list(composante.scolarite)
        # Teachers' addresses are not known yet: the CEMU forwards to them.
        return [self.cemu]

    def composante_name(self, cod_cmp: str | None) -> str | None:
        composante = self.composantes.get(cod_cmp or "")
        return None if composante is None else composante.name


def _parse(path: Path) -> _RoutingFile:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise RoutingFileError(f"{path}: cannot read the routing file: {error}") from error
    try:
        root = yaml.compose(text, Loader=yaml.BaseLoader)
        raw = yaml.load(text, Loader=yaml.BaseLoader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        raise RoutingFileError(f"{where}: not valid YAML: {error.problem}") from error
    if root is not None:
        _refuse_duplicate_keys(path, root)
    try:
        return _RoutingFile.model_validate(raw or {})
    except ValidationError as error:
        problems = [
            f"{path}:{_line_of(root, err['loc'])}: "
            f"{'.'.join(str(part) for part in err['loc']) or '(top level)'}: {err['msg']}"
            for err in error.errors()
        ]
        raise RoutingFileError("invalid routing file:\n" + "\n".join(problems)) from error


def _refuse_duplicate_keys(path: Path, node: yaml.Node) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode):
                if key.value in seen:
                    raise RoutingFileError(
                        f"{path}:{key.start_mark.line + 1}: key {key.value!r} is given twice"
                    )
                seen.add(key.value)
            _refuse_duplicate_keys(path, value)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            _refuse_duplicate_keys(path, item)


def _line_of(root: yaml.Node | None, loc: tuple[int | str, ...]) -> int:
    """The 1-based line of the deepest node of ``loc`` present in the file."""
    if root is None:
        return 1
    node = root
    for part in loc:
        child: yaml.Node | None = None
        if isinstance(node, yaml.MappingNode):
            child = next((v for k, v in node.value if k.value == str(part)), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            child = node.value[part] if part < len(node.value) else None
        if child is None:
            break
        node = child
    return int(node.start_mark.line) + 1
