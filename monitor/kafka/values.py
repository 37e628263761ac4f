"""Strict conversion of one source value to a canonical field, compiled once per column.

A text field takes text (or an exact integer: Moodle's BIGINT ``userid``),
at most as many characters as the store's column holds; an integer field an
integer in the store's BIGINT range (or, in Debezium's other number modes, an
integral float, a numeric string, a decimal); a boolean a flag or a code; a
date a number in the column's unit or an ISO string, between 1900 and 2200;
a list a separated string or a list of texts. Containers, booleans and floats
never silently become text: the value raises ``ValueError`` and the message
is dead-lettered. Each converter is a closure chosen once per topic column,
so decoding does no per-value dispatch on the field's kind.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from monitor.kafka.debezium_types import (
    DECIMAL,
    TIME_UNITS,
    LogicalType,
    decimal_from_bytes,
    variable_scale_decimal,
)
from monitor.store.entities import FieldKind

MAX_TEXT = 255  # for list items and codes; text fields take their store column's length
MAX_LIST_ITEMS = 10_000
INT_MIN, INT_MAX = -(2**63), 2**63 - 1  # BIGINT
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EARLIEST_S = (EARLIEST - _EPOCH).total_seconds()
_LATEST_S = (LATEST - _EPOCH).total_seconds()
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "us": 0.000001, "ns": 0.000000001, "days": 86400.0}
_INTEGER = re.compile(r"[+-]?\d{1,20}")

Converter = Callable[[Any, LogicalType | None], Any]


def type_name(value: Any) -> str:
    return {dict: "an object", list: "a list", bool: "a boolean", float: "a number"}.get(
        type(value), type(value).__name__
    )


def text(value: str, limit: int | None = MAX_TEXT) -> str:
    """``value`` if the store can hold it: not too long, encodable (no lone surrogate)."""
    if limit is not None and len(value) > limit:
        raise ValueError(f"text of {len(value)} characters (the store holds {limit})")
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("text is not valid Unicode") from None
    return value


def _in_range(number: int) -> int:
    if not INT_MIN <= number <= INT_MAX:
        raise ValueError("integer out of the store's 64-bit range")
    return number


def _integral(number: Decimal | float) -> int:
    if isinstance(number, float) and not number.is_integer():
        raise ValueError(f"{number!r} is not an integer")
    if isinstance(number, Decimal) and (
        not number.is_finite() or number != number.to_integral_value()
    ):
        raise ValueError(f"{number} is not an integer")
    if not INT_MIN <= number <= INT_MAX:  # before int(): int(1e300) is a 300-digit number
        raise ValueError("integer out of the store's 64-bit range")
    return int(number)


def number(value: Any, logical: LogicalType | None, scale: int | None) -> int:
    """An integer from any of Debezium's number encodings."""
    kind = type(value)
    if kind is int:
        return _in_range(value)
    if kind is str:
        if logical is not None and logical.name == DECIMAL:
            scale = logical.scale if logical.scale is not None else scale
        if scale is not None:
            return _integral(decimal_from_bytes(value, scale))
        if _INTEGER.fullmatch(value):
            return _in_range(int(value))
        raise ValueError("text is not an integer")
    if kind is float:
        return _integral(value)
    if kind is dict:
        return _integral(variable_scale_decimal(value))
    raise ValueError(f"expected an integer, got {type_name(value)}")


def compile_converter(
    kind: FieldKind,
    *,
    unit: str = "ms",
    true_values: frozenset[str] = frozenset(),
    list_separator: str = ",",
    decimal_scale: int | None = None,
    choices: frozenset[str] | None = None,
    max_length: int | None = MAX_TEXT,
    booleans_as_int: bool = False,
) -> Converter:
    """The converter of one column to a field of ``kind`` (``None`` is handled by the caller).

    ``booleans_as_int``: an integer column holding a 0/1 flag (Moodle's ``visible``, a MySQL
    TINYINT(1)), which Debezium's tinyint1 converter sends as ``true``/``false``: read as 1/0.
    """
    if kind == "str":
        return _to_text(choices, max_length)
    if kind == "int":
        if booleans_as_int:
            return _flag_number(decimal_scale)
        return _to_number(decimal_scale)
    if kind == "bool":
        return _to_flag(true_values, decimal_scale)
    if kind == "datetime":
        return _to_datetime(unit, decimal_scale)
    return _to_list(list_separator)


FastPath = tuple[str, str]
"""A converter's common case as Python source on ``raw``: (condition, value it converts to)."""


def fast_paths(
    kind: FieldKind,
    *,
    choices: frozenset[str] | None = None,
    max_length: int | None = MAX_TEXT,
    booleans_as_int: bool = False,
    true_values: str = "TRUE_VALUES",
) -> list[FastPath]:
    """The cases ``compile_converter``'s converter returns at once, as source for the compiled mapping.

    Each is exactly the converter's own first check (``_to_text``, ``_to_number``, ``_to_flag``):
    where one holds, the converter would return that value; any other value goes to the
    converter. ``true_values``: the name the generated code gives the column's true values.
    """
    if kind == "str" and choices is None:
        length = f" and len(raw) <= {max_length}" if max_length is not None else ""
        return [(f"raw.__class__ is str{length} and raw.isascii()", "raw")]
    integer = f"raw.__class__ is int and {INT_MIN} <= raw <= {INT_MAX}"
    if kind == "int":
        flag = [("raw.__class__ is bool", "int(raw)")] if booleans_as_int else []
        return [(integer, "raw"), *flag]
    if kind == "bool":
        return [
            ("raw.__class__ is bool", "raw"),
            (
                f"raw.__class__ is str and len(raw) <= {MAX_TEXT} and raw.isascii()",
                f"raw in {true_values}",
            ),
            (integer, f"str(raw) in {true_values}"),  # a NUMBER(1) flag
        ]
    return []


def _to_number(scale: int | None) -> Converter:
    def convert(value: Any, logical: LogicalType | None) -> int:
        if type(value) is int and INT_MIN <= value <= INT_MAX:  # the common case, first
            return value
        return number(value, logical, scale)

    return convert


def _flag_number(scale: int | None) -> Converter:
    def convert(value: Any, logical: LogicalType | None) -> int:
        if type(value) is bool:
            return int(value)
        return number(value, logical, scale)

    return convert


def _to_text(choices: frozenset[str] | None, max_length: int | None) -> Converter:
    limit = max_length if max_length is not None else float("inf")

    def convert(value: Any, logical: LogicalType | None) -> str:
        kind = type(value)
        if kind is str and choices is None and len(value) <= limit and value.isascii():
            return value  # type: ignore[no-any-return]  # the common case: nothing to check
        if kind is str:
            result = text(value, max_length)
        elif kind is int or kind is dict:
            result = str(number(value, logical, None))
        else:
            raise ValueError(f"expected text, got {type_name(value)}")
        if choices is not None and result not in choices:
            raise ValueError(f"{result!r} is not one of {sorted(choices)}")
        return result

    return convert


def _to_flag(true_values: frozenset[str], scale: int | None) -> Converter:
    def convert(value: Any, logical: LogicalType | None) -> bool:
        kind = type(value)
        if kind is bool:
            return bool(value)
        if kind is str:
            return text(value) in true_values
        if kind is int or kind is float or kind is dict:
            return str(number(value, logical, scale)) in true_values
        raise ValueError(f"expected a flag, got {type_name(value)}")

    return convert


def moment(seconds: float) -> datetime:
    """The UTC time ``seconds`` after the epoch, if between 1900 and 2200."""
    if not _EARLIEST_S <= seconds < _LATEST_S:  # also refuses NaN
        raise ValueError("date out of range (1900-2200)")
    return _EPOCH + timedelta(seconds=seconds)


def _to_datetime(unit: str, scale: int | None) -> Converter:
    column_unit = _UNIT_SECONDS[unit]

    def convert(value: Any, logical: LogicalType | None) -> datetime | None:
        kind = type(value)
        if kind is str:
            if value == "":
                return None
            if not _INTEGER.fullmatch(value):
                if len(value) > 64:
                    raise ValueError("date text too long")
                parsed = datetime.fromisoformat(value)
                parsed = parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
                return moment((parsed - _EPOCH).total_seconds())
        elif kind is not int and kind is not float:  # a boolean too
            raise ValueError(f"expected a date, got {type_name(value)}")
        count = number(value, None, scale) if kind is str else value
        if count == 0:
            return None  # Moodle's "no date"
        per_unit = column_unit
        if logical is not None and logical.name in TIME_UNITS:
            per_unit = _UNIT_SECONDS[TIME_UNITS[logical.name]]
        return moment(count * per_unit)

    return convert


def _to_list(separator: str) -> Converter:
    # A list, as the store's JSON column holds it; the fact makes a tuple of it.
    def convert(value: Any, logical: LogicalType | None) -> list[str]:
        if type(value) is str:
            items: list[Any] = [p.strip() for p in value.split(separator)]
            items = [p for p in items if p]
        elif type(value) is list:
            items = value
        else:
            raise ValueError(f"expected a list, got {type_name(value)}")
        if len(items) > MAX_LIST_ITEMS:
            raise ValueError(f"list of {len(items)} items")
        for item in items:
            if type(item) is not str:
                raise ValueError(f"list item is {type_name(item)}, not text")
            text(item)
        return list(items)

    return convert
