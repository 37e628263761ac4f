"""Debezium's logical types, as its Oracle and MySQL connectors write them with the JSON converter.

- Numbers (Oracle ``decimal.handling.mode``): ``precise`` (default) gives a
  NUMBER without scale as ``io.debezium.data.VariableScaleDecimal``
  ``{"scale": s, "value": "<base64>"}`` and NUMBER(p,s) as
  ``org.apache.kafka.connect.data.Decimal``: base64 of the big-endian
  two's-complement unscaled value, the scale in the schema's ``parameters``
  (or, schemas off, in the topic mapping's ``decimal_scales``); ``double``
  gives floats, ``string`` strings.
- Times (``time.precision.mode``): ``io.debezium.time.Timestamp`` (epoch ms),
  ``MicroTimestamp`` (us), ``NanoTimestamp`` (ns), Kafka Connect's
  ``Timestamp`` (ms, ``connect`` mode), ``Date`` (days), and
  ``ZonedTimestamp`` (an ISO-8601 string).

``column_types`` reads, from a message's ``schema``, the logical type of each
row column that has one; the converters of ``monitor.kafka.values`` use it.
"""

from __future__ import annotations

import base64
import binascii
from decimal import Decimal
from typing import Any, NamedTuple

VARIABLE_SCALE_DECIMAL = "io.debezium.data.VariableScaleDecimal"
DECIMAL = "org.apache.kafka.connect.data.Decimal"

# Logical time type -> the unit of its integer value.
TIME_UNITS = {
    "io.debezium.time.Timestamp": "ms",
    "io.debezium.time.MicroTimestamp": "us",
    "io.debezium.time.NanoTimestamp": "ns",
    "org.apache.kafka.connect.data.Timestamp": "ms",
    "io.debezium.time.Date": "days",
    "org.apache.kafka.connect.data.Date": "days",
}

# Oracle NUMBER has at most 38 digits (16 bytes); anything longer is not a number Debezium wrote.
_MAX_DECIMAL_BYTES = 32
_MAX_SCALE = 64


class LogicalType(NamedTuple):
    """A column's logical type name and, for ``Decimal``, its scale."""

    name: str
    scale: int | None = None


def column_types(schema: Any) -> dict[str, LogicalType]:
    """Columns of the row that have a logical type, from an envelope's or a flattened row's schema."""
    if not isinstance(schema, dict):
        return {}
    fields = schema.get("fields")
    if not isinstance(fields, list):
        return {}
    row_fields: Any = fields
    for field in fields:
        if (
            isinstance(field, dict)
            and field.get("field") in ("after", "before")
            and isinstance(field.get("fields"), list)
        ):
            row_fields = field["fields"]
            break
    found: dict[str, LogicalType] = {}
    for field in row_fields:
        if not isinstance(field, dict):
            continue
        name, column = field.get("name"), field.get("field")
        if not isinstance(name, str) or not isinstance(column, str):
            continue
        scale = None
        parameters = field.get("parameters")
        if name == DECIMAL and isinstance(parameters, dict):
            scale = _scale(parameters.get("scale"))
        found[column] = LogicalType(name, scale)
    return found


def _scale(raw: Any) -> int | None:
    # The JSON converter writes parameters as strings ("2").
    if isinstance(raw, int) and not isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.lstrip("-").isdigit() and len(raw) < 4:
        return int(raw)
    return None


def decimal_from_bytes(encoded: str, scale: int) -> Decimal:
    """A ``Decimal``-encoded value: base64 of the two's-complement unscaled integer, and its scale."""
    if not -_MAX_SCALE <= scale <= _MAX_SCALE:
        raise ValueError(f"decimal scale {scale} out of range")
    if len(encoded) > _MAX_DECIMAL_BYTES * 2:
        raise ValueError("decimal value too long")
    try:
        raw = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("decimal value is not base64") from None
    if not raw:
        raise ValueError("empty decimal value")
    unscaled = int.from_bytes(raw, "big", signed=True)
    return Decimal(unscaled).scaleb(-scale)


def variable_scale_decimal(value: dict[str, Any]) -> Decimal:
    """A ``VariableScaleDecimal`` struct ``{"scale": s, "value": "<base64>"}``."""
    scale, encoded = value.get("scale"), value.get("value")
    if set(value) - {"scale", "value"} or not isinstance(encoded, str):
        raise ValueError("not a VariableScaleDecimal {scale, value}")
    if not isinstance(scale, int) or isinstance(scale, bool):
        raise ValueError("VariableScaleDecimal scale is not an integer")
    return decimal_from_bytes(encoded, scale)
