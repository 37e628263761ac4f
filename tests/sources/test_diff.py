"""The poller's pure core: order-preserving keys and the merge join of two snapshots."""

from __future__ import annotations

from decimal import Decimal

import pytest

from monitor.sources.diff import SourceOrderError, diff_sorted, encode_key


def test_keys_sort_as_the_tuples_they_encode() -> None:
    tuples = [
        (-5, "a"),
        (2, "a"),
        (2, "ab"),
        (2, "b"),
        (10, ""),
        (10, "é"),
        (2**40, "z"),
    ]
    encoded = [encode_key(t) for t in tuples]
    assert encoded == sorted(encoded)
    assert encode_key(["INF1", "X"]) < encode_key(["INF1X", ""])  # a prefix sorts first
    assert encode_key([Decimal("12")]) == encode_key([12])


def test_null_or_unsupported_keys_are_refused() -> None:
    with pytest.raises(ValueError, match="NULL"):
        encode_key([None])
    with pytest.raises(ValueError, match="float"):
        encode_key([1.5])


def _src(*rows: tuple[str, str]) -> list[tuple[bytes, str, str]]:
    return [(k.encode(), h, f"row {k}") for k, h in rows]


def test_created_updated_deleted_in_key_order() -> None:
    checkpoint = [(b"a", "1"), (b"b", "1"), (b"d", "1"), (b"f", "1")]
    source = _src(("b", "1"), ("c", "1"), ("d", "2"), ("g", "1"))
    found = [(d.op, d.key, d.row_json) for d in diff_sorted(source, checkpoint)]
    assert found == [
        ("d", b"a", None),
        ("c", b"c", "row c"),
        ("u", b"d", "row d"),
        ("d", b"f", None),
        ("c", b"g", "row g"),
    ]


def test_unchanged_and_empty_sides() -> None:
    same = _src(("a", "1"), ("b", "2"))
    assert list(diff_sorted(same, [(b"a", "1"), (b"b", "2")])) == []
    assert [d.op for d in diff_sorted(same, [])] == ["c", "c"]
    assert [d.op for d in diff_sorted([], [(b"a", "1")])] == ["d"]


def test_a_source_out_of_order_stops_the_pass_instead_of_inventing_changes() -> None:
    with pytest.raises(SourceOrderError, match="source rows are not in binary key order"):
        list(diff_sorted(_src(("b", "1"), ("a", "1")), []))
    with pytest.raises(SourceOrderError, match="checkpoint"):
        list(diff_sorted([], [(b"a", "1"), (b"a", "1")]))
