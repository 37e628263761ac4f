"""How far a consumer group is: committed offsets against known end offsets.

The end offsets come from the producer's own acknowledgements (see
``monitor.kafka.events.publish``), which are exact, rather than from ListOffsets,
which the embedded broker under-reports for batched records.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kafka import KafkaAdminClient, TopicPartition


def committed_offsets(options: Mapping[str, Any], group_id: str) -> dict[TopicPartition, int]:
    """The group's committed offset per partition (partitions never committed are absent)."""
    admin = KafkaAdminClient(**options)
    try:
        answer = admin.list_group_offsets({group_id: None})
    finally:
        admin.close()
    return {
        tp: meta.offset
        for tp, meta in answer.get(group_id, {}).items()
        if meta is not None and meta.offset >= 0
    }


def remaining(options: Mapping[str, Any], group_id: str, ends: Mapping[TopicPartition, int]) -> int:
    """Messages below ``ends`` that the group has not committed yet."""
    committed = committed_offsets(options, group_id)
    return sum(max(0, end - committed.get(tp, 0)) for tp, end in ends.items())
