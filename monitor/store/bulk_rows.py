"""A fact table's rows as the driver takes them, by functions generated once per table and dialect.

``TableStatements.row`` ran each value through its column's bind processor in a
loop, and on MariaDB each value went through pymysql's generic ``escape``
(dispatch on its type, then the type's escaper): together most of the
client's apply time (issue 13). The functions generated here do the same per
column, inlined: a boolean takes the processor's own result for ``True`` and
``False``, a ``None`` skips a processor that keeps it ``None``, and a MariaDB
literal of a text, an integer, a boolean or a naive datetime is written as
pymysql writes it; any other value goes through the processor and
``escape`` as before.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from pymysql.converters import escape_string

RowBuilder = Callable[[str, dict[str, Any], tuple[int, int], bool, Any], tuple[Any, ...]]
Escape = Callable[[Any], str]
LiteralRows = Callable[[list[tuple[Any, ...]], Escape], list[str]]


def compile_row_builder(
    fields: list[str], processors: dict[int, Callable[[Any], Any]], booleans: set[int]
) -> RowBuilder:
    """``row(key, values, version, tombstone, ingested_at)``: the row tuple of a fact table.

    Its columns: ``key``, ``fields``, ``source_ts``, ``source_seq``, ``tombstone``,
    ``ingested_at``. ``processors``: column index -> bind processor (``ingested_at`` comes
    bound already); ``booleans``: the indexes of boolean columns.
    """
    scope: dict[str, Any] = {}
    sources = ["key", *(f"get({f!r})" for f in fields), "version[0]", "version[1]", "tombstone"]
    lines = ["def row(key, values, version, tombstone, ingested_at):", "    get = values.get"]
    items = []
    for index, source in enumerate(sources):
        process = processors.get(index)
        if process is None:
            items.append(source)
            continue
        lines.append(f"    v{index} = {source}")
        scope[f"P{index}"] = process
        call = f"P{index}(v{index})"
        if index in booleans:
            scope[f"T{index}"], scope[f"F{index}"] = process(True), process(False)
            call = f"T{index} if v{index} is True else F{index} if v{index} is False else {call}"
        if process(None) is None:
            call = f"None if v{index} is None else {call}"
        items.append(f"({call})")
    items.append("ingested_at")
    lines.append(f"    return ({', '.join(items)})")
    row: RowBuilder = _define(
        "row", "\n".join(lines), scope, f"<row of {len(sources) + 1} columns>"
    )
    return row


def compile_literal_rows(kinds: list[str]) -> LiteralRows:
    """``literal_rows(rows, escape)``: each row tuple as the literal ``(v, ...)`` pymysql writes.

    ``kinds[i]``: ``str``, ``int``, ``bool``, ``datetime`` or ``other``: the type column ``i``'s
    bound values usually have, written directly; any other value goes to ``escape`` (NULL for
    ``None``): the connection's own ``escape``. For a session without NO_BACKSLASH_ESCAPES
    (text is then escaped as pymysql's ``escape_string`` does).
    """
    scope: dict[str, Any] = {"esc": escape_string, "generic": _generic, "datetime": datetime}
    names = [f"v{i}" for i in range(len(kinds))]
    parts = [_literal(name, kind) for name, kind in zip(names, kinds, strict=True)]
    # The last column is ``ingested_at``: one value for the whole batch, written once.
    last = names[-1]
    parts[-1] = f"(at_literal if {last} is at else {parts[-1]})"
    body = ' + "," + '.join(parts)
    source = (
        "def literal_rows(rows, escape):\n"
        "    lit = generic(escape)\n"
        "    at = rows[0][-1] if rows else None\n"
        f"    at_literal = {_literal('at', kinds[-1])}\n"
        "    return [\n"
        f'        "(" + {body} + ")"\n'
        f"        for {', '.join(names)}, in rows\n"
        "    ]"
    )
    literal_rows: LiteralRows = _define(
        "literal_rows", source, scope, f"<literals of {len(kinds)} columns>"
    )
    return literal_rows


def _literal(name: str, kind: str) -> str:
    """Source of the literal of the value called ``name``, usually of type ``kind``."""
    if kind == "str":
        return f'("\'" + esc({name}) + "\'" if {name}.__class__ is str else lit({name}))'
    if kind == "int":
        return f"(str({name}) if {name}.__class__ is int else lit({name}))"
    if kind == "bool":
        return (
            f"('1' if {name} is True else '0' if {name} is False else "
            f"str({name}) if {name}.__class__ is int else lit({name}))"
        )
    if kind == "datetime":
        return (
            f"(\"'\" + {name}.isoformat(' ') + \"'\" "
            f"if {name}.__class__ is datetime and {name}.tzinfo is None else lit({name}))"
        )
    return f"lit({name})"


def _generic(escape: Callable[[Any], str]) -> Callable[[Any], str]:
    def literal(value: Any) -> str:
        if value is None:
            return "NULL"
        if value.__class__ is int:
            return str(value)
        return escape(value)

    return literal


def _define(name: str, source: str, scope: dict[str, Any], filename: str) -> Any:
    namespace: dict[str, Any] = {}
    exec(compile(source, filename, "exec"), scope, namespace)
    return namespace[name]
