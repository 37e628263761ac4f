"""The compiled mapping says exactly what the column-by-column mapping says (issue 13).

``RowMapper.change`` is generated per topic with each column's common case
inlined; ``generic_change_from_row`` (below) is the loop it replaced, kept here as the
reference. On generated rows
of every default topic, valid and hostile values mixed, both give the same
change, or refuse the row with the same reason.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.config import SourceSettings
from monitor.kafka.debezium_types import TIME_UNITS, LogicalType
from monitor.kafka.mapping import Change, InvalidRow, RowMapper, change_from_row
from monitor.store.entities import KEY_SEPARATOR

MAPPERS = {topic: RowMapper(mapping) for topic, mapping in SourceSettings().topics.items()}


def generic_row(
    mapper: RowMapper, source_row: dict[str, Any], logical: dict[str, LogicalType] | None = None
) -> dict[str, Any]:
    """``RowMapper.row`` column by column, as it was before it was compiled."""
    values = mapper.defaults.copy()
    get = source_row.get
    for index, (column, _field, _codes, _convert) in enumerate(mapper.columns):
        raw = get(column)
        if raw is not None:
            mapper.convert(index, raw, logical, values)  # its code, its converter, InvalidRow
    for field, column, members in mapper.membership:
        raw = get(column)
        values[field] = type(raw) in (str, int) and str(raw) in members
    for key_field in mapper.key_fields:
        value = values.get(key_field)
        if value is None or value == "":
            raise InvalidRow(f"key field {key_field!r} is missing or empty")
        if type(value) is str and KEY_SEPARATOR in value:  # two keys would read as one
            raise InvalidRow(f"key field {key_field!r} holds the key separator")
    if not mapper.required.issubset(values):
        missing = sorted(mapper.required.difference(values))
        raise InvalidRow(f"{mapper.mapping.entity}: no value for {', '.join(missing)}")
    return values


def generic_change_from_row(
    mapper: RowMapper,
    op: str,
    source_row: dict[str, Any],
    source_ts: int,
    source_seq: int,
    logical: dict[str, LogicalType] | None = None,
) -> Change:
    """``change_from_row`` as it was before it was compiled: the reference of these tests."""
    row = generic_row(mapper, source_row, logical)
    key = mapper.key_of(row)
    if mapper.max_key is not None and len(key) > mapper.max_key:
        raise InvalidRow(f"key of {len(key)} characters (the store holds {mapper.max_key})")
    return Change(
        entity=mapper.mapping.entity,
        key=key,
        row=row,
        source_ts=source_ts,
        source_seq=source_seq,
        deleted=op == "d",
    )


_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**64), max_value=2**64),
    st.sampled_from([0, 1, -1, 2**63 - 1, 2**63, -(2**63), -(2**63) - 1, 1_756_684_800]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8),
    st.sampled_from(
        [
            "",
            "O",
            "N",
            "S1",
            "AN",
            "true",
            "12",
            "-3",
            "1.5",
            "2026-09-01T08:00:00Z",
            "é",
            "G\ud800",
            f"A{KEY_SEPARATOR}B",
            "x" * 256,
            "é" * 255,
            "y" * 600,
        ]
    ),
    st.lists(st.text(max_size=3), max_size=3),
    st.just({"scale": 0, "value": "AQ=="}),
    st.just({"a": 1}),
)
_logical = st.one_of(
    st.none(),
    st.sampled_from(
        [LogicalType(name) for name in TIME_UNITS]
        + [LogicalType("org.apache.kafka.connect.data.Decimal", 2)]
    ),
)


def _outcome(function: Any, *args: Any) -> Change | str:
    try:
        result: Change = function(*args)
    except InvalidRow as refused:
        return f"refused: {refused}"
    return result


@st.composite
def _rows(draw: st.DrawFn, mapper: RowMapper) -> tuple[dict[str, Any], dict[str, LogicalType]]:
    columns = [column for column, *_ in mapper.columns]
    columns += [column for _, column, _ in mapper.membership]
    row = {column: draw(_values) for column in columns if draw(st.integers(0, 4))}
    logical = {}
    for column in columns:
        kind = draw(_logical)
        if kind is not None:
            logical[column] = kind
    return row, logical


@pytest.mark.parametrize("topic", sorted(MAPPERS))
@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_compiled_and_generic_mapping_agree(topic: str, data: st.DataObject) -> None:
    mapper = MAPPERS[topic]
    row, logical = data.draw(_rows(mapper))
    op = data.draw(st.sampled_from(["c", "u", "r", "d"]))
    for types in (logical, None):
        compiled = _outcome(change_from_row, mapper, op, row, 1000, 2, types)
        generic = _outcome(generic_change_from_row, mapper, op, row, 1000, 2, types)
        assert compiled == generic


@pytest.mark.parametrize("topic", sorted(MAPPERS))
def test_a_valid_row_maps_through_the_compiled_fast_path(topic: str) -> None:
    mapper = MAPPERS[topic]
    row: dict[str, Any] = {}
    for column, field, codes, _ in mapper.columns:
        kind = mapper.spec.fields()[field]
        choices = mapper.converter_specs[len(row)]["choices"]
        if codes:
            row[column] = sorted(codes)[0]
        elif choices:
            row[column] = sorted(choices)[0]
        else:
            row[column] = {"str": "X1", "int": 7, "bool": "O", "datetime": 0, "list": "a,b"}[kind]
    compiled = mapper.change("c", row, 5, 0)
    assert compiled == generic_change_from_row(mapper, "c", row, 5, 0)
    assert compiled.key
