"""The routing file (YAML), read strictly: a bad file is refused with the line and field.

Every scalar is read as text, so an unquoted ``012`` stays the code ``"012"``
(YAML 1.1 would read it as the octal number 10), and a key given twice is an
error rather than a silent override.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
)

from detectors.findings import Audience, Severity

ADDRESS_PATTERN = r"^[^@\s<>,;\"]+@[^@\s<>,;\"]+$"
Address = Annotated[str, StringConstraints(strip_whitespace=True, pattern=ADDRESS_PATTERN)]
# A rule's target: an address, or the alert's composante's scolarité, or the CEMU.
Target = Literal["scolarite", "cemu", "teachers"] | Address


def _one_or_many(value: object) -> object:
    return [value] if isinstance(value, str) else value


OneOrMany = BeforeValidator(_one_or_many)


class RoutingFileError(ValueError):
    """The routing file cannot be used; the message names the line and field."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ComposanteEntry(_Strict):
    name: str = Field(min_length=1)
    scolarite: list[Address] = Field(min_length=1)


class MatchEntry(_Strict):
    """What a rule matches; an absent field matches anything, a list any of its values."""

    composante: Annotated[list[str], OneOrMany, Field(min_length=1)] | None = None
    detector: Annotated[list[str], OneOrMany, Field(min_length=1)] | None = None
    severity: Annotated[list[Severity], OneOrMany, Field(min_length=1)] | None = None
    audience: Annotated[list[Audience], OneOrMany, Field(min_length=1)] | None = None


class RuleEntry(_Strict):
    match: MatchEntry = MatchEntry()
    to: Annotated[list[Target], OneOrMany, Field(min_length=1)]
    # BaseLoader reads ``true`` as the text "true"; pydantic reads that text as a bool.
    continue_: bool = Field(False, alias="continue")


class RoutingFile(_Strict):
    cemu: Address | None = None
    composantes: dict[str, ComposanteEntry] = Field(default_factory=dict)
    rules: list[RuleEntry] = Field(default_factory=list)


def parse_routing_file(path: Path) -> RoutingFile:
    """The validated content of ``path``; raises ``RoutingFileError``."""
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
        return RoutingFile.model_validate(raw or {})
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
