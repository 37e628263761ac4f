"""The pure part of the poller: compare two key-ordered snapshots, say what changed.

Both sides are streams of ``(key, row_hash)`` sorted by ``key``, the source's
rows as read now and the checkpoint of the previous read; a merge join walks
them once, holding one row of each, so a pass over 500,000 rows needs no more
memory than over 5. Keys are bytes in an order-preserving encoding
(``encode_key``) so that comparing them in Python agrees with the databases'
binary ``ORDER BY``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal, TypeVar

DiffOp = Literal["c", "u", "d"]
_Row = TypeVar("_Row", tuple[bytes, str, str], tuple[bytes, str])

# Integers are written as 20 digits after adding 2**63, so that their text sorts as numbers.
_INT_OFFSET = 2**63
# Lower than any byte of a UTF-8 value: a value that is a prefix of another sorts first,
# as in a tuple comparison.
_SEPARATOR = b"\x00"


class SourceOrderError(RuntimeError):
    """The source did not return its rows in the order the poller compares them in."""


def encode_key(values: Sequence[Any]) -> bytes:
    """An order-preserving byte encoding of a primary key (ints by value, text by code point)."""
    parts: list[bytes] = []
    for value in values:
        if isinstance(value, Decimal) and value == value.to_integral_value():
            value = int(value)
        if isinstance(value, bool):
            value = int(value)
        if isinstance(value, int):
            parts.append(f"{value + _INT_OFFSET:020d}".encode())
        elif isinstance(value, str):
            parts.append(value.encode())
        elif value is None:
            raise ValueError("a primary key column is NULL")
        else:
            raise ValueError(f"a primary key of type {type(value).__name__} is not supported")
    return _SEPARATOR.join(parts)


@dataclass(frozen=True, slots=True)
class Difference:
    """One row that changed since the previous read: created, updated or deleted."""

    op: DiffOp
    key: bytes
    row_hash: str | None  # the new hash; None for a delete
    row_json: str | None  # the new row; None for a delete


def diff_sorted(
    source: Iterable[tuple[bytes, str, str]], checkpoint: Iterable[tuple[bytes, str]]
) -> Iterator[Difference]:
    """The differences from ``checkpoint`` to ``source``, both sorted by key, in key order.

    ``source`` yields ``(key, row_hash, row_json)``, ``checkpoint`` ``(key, row_hash)``.

    Raises ``SourceOrderError`` when either side is not strictly increasing: a
    collation the poller did not expect would otherwise read as deletes and creates.
    """
    new = _strictly_increasing(source, "source")
    old = _strictly_increasing(checkpoint, "checkpoint")
    new_row = next(new, None)
    old_row = next(old, None)
    while new_row is not None or old_row is not None:
        if old_row is None or (new_row is not None and new_row[0] < old_row[0]):
            assert new_row is not None
            yield Difference("c", new_row[0], new_row[1], new_row[2])
            new_row = next(new, None)
        elif new_row is None or old_row[0] < new_row[0]:
            yield Difference("d", old_row[0], None, None)
            old_row = next(old, None)
        else:
            if new_row[1] != old_row[1]:
                yield Difference("u", new_row[0], new_row[1], new_row[2])
            new_row = next(new, None)
            old_row = next(old, None)


def _strictly_increasing(rows: Iterable[_Row], side: str) -> Iterator[_Row]:
    previous: bytes | None = None
    for row in rows:
        if previous is not None and row[0] <= previous:
            raise SourceOrderError(
                f"the {side} rows are not in binary key order (a key came after a greater or "
                "equal one): check the key columns (source.key_columns) and the column types"
            )
        previous = row[0]
        yield row
