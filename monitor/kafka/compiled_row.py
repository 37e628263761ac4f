"""One topic's mapping as a Python function generated once: no per-column loop, call or dict of codes.

``RowMapper`` walked its columns for every message: a tuple unpacked, a
converter called and a ``try`` per column, then the membership rules, the key
fields and the key, about 6 µs a message at the worker's pace, a third of its
in-process work (issue 13). The function generated here does the same steps in
the same order with each column's common case inlined (``values.fast_paths``:
exactly the converter's own first check); any other value goes through the
column's converter as before (``RowMapper.convert``), so that what is accepted,
what is refused and the reason given do not change. ``dataclasses`` generates
``__init__`` the same way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from monitor.kafka.debezium_types import LogicalType
from monitor.kafka.values import fast_paths
from monitor.store.entities import KEY_SEPARATOR

if TYPE_CHECKING:
    from monitor.kafka.mapping import Change, RowMapper


class RowFunction(Protocol):
    def __call__(
        self, source_row: dict[str, Any], logical: dict[str, LogicalType] | None = None
    ) -> dict[str, Any]: ...


class ChangeFunction(Protocol):
    def __call__(
        self,
        op: str,
        source_row: dict[str, Any],
        source_ts: int,
        source_seq: int,
        logical: dict[str, LogicalType] | None = None,
    ) -> Change: ...


def compile_row(mapper: RowMapper) -> tuple[RowFunction, ChangeFunction]:
    """``row(source_row, logical)`` and ``change(op, source_row, source_ts, source_seq, logical)``.

    They behave as the column-by-column loop they replaced (the property tests of
    ``tests/monitor/test_compiled_row.py`` keep it and compare them on generated rows).
    """
    from monitor.kafka.mapping import Change, InvalidRow  # mapping imports this module

    kinds = mapper.spec.fields()
    scope: dict[str, Any] = {
        "defaults": mapper.defaults,
        "convert": mapper.convert,
        "InvalidRow": InvalidRow,
        "Change": Change,
        "SEP": KEY_SEPARATOR,
        "missing": mapper.missing,
        "entity": mapper.mapping.entity,
    }
    body = ["get = source_row.get", "values = defaults.copy()"]
    for index, (column, field, codes, _convert) in enumerate(mapper.columns):
        spec = mapper.converter_specs[index]
        scope[f"TRUE_{index}"] = spec["true_values"]
        paths = (
            []
            if codes is not None  # a coded column: its converter looks the code up
            else fast_paths(
                kinds[field],
                choices=spec["choices"],
                max_length=spec["max_length"],
                booleans_as_int=spec["booleans_as_int"],
                true_values=f"TRUE_{index}",
            )
        )
        body += [f"raw = get({column!r})", "if raw is not None:"]
        keyword = "if"
        for condition, value in paths:
            body += [f"    {keyword} {condition}:", f"        values[{field!r}] = {value}"]
            keyword = "elif"
        slow = f"convert({index}, raw, logical, values)"
        body += [f"    else:\n        {slow}" if paths else f"    {slow}"]
    for index, (field, column, members) in enumerate(mapper.membership):
        scope[f"MEMBERS_{index}"] = members
        body += [
            f"raw = get({column!r})",
            f"values[{field!r}] = (raw.__class__ is str or raw.__class__ is int)"
            f" and str(raw) in MEMBERS_{index}",
        ]
    for key_field in mapper.key_fields:
        body += [
            f"value = values.get({key_field!r})",
            'if value is None or value == "":',
            f"    raise InvalidRow({f'key field {key_field!r} is missing or empty'!r})",
            "if value.__class__ is str and SEP in value:  # two keys would read as one",
            f"    raise InvalidRow({f'key field {key_field!r} holds the key separator'!r})",
        ]
    if mapper.required:  # ``frozenset.issubset(dict)`` builds a set of the dict: 2 µs
        absent = " or ".join(f"{field!r} not in values" for field in sorted(mapper.required))
        body += [f"if {absent}:", "    missing(values)"]
    key = " + SEP + ".join(f"str(values[{f!r}])" for f in mapper.key_fields)
    limit = mapper.max_key
    check_key = (
        []
        if limit is None
        else [
            f"if len(key) > {limit}:",
            f'    raise InvalidRow(f"key of {{len(key)}} characters (the store holds {limit})")',
        ]
    )
    indented = "\n".join(f"    {line}" for line in "\n".join(body).splitlines())
    source = (
        "def row(source_row, logical=None):\n"
        f"{indented}\n"
        "    return values\n"
        "\n"
        "def change(op, source_row, source_ts, source_seq, logical=None):\n"
        f"{indented}\n"
        f"    key = {key}\n"
        + "".join(f"    {line}\n" for line in check_key)
        + "    return Change(entity, key, values, source_ts, source_seq, op == 'd')\n"
    )
    namespace: dict[str, Any] = {}
    exec(compile(source, f"<mapping of {mapper.mapping.entity}>", "exec"), scope, namespace)
    row: RowFunction = namespace["row"]
    change: ChangeFunction = namespace["change"]
    return row, change
