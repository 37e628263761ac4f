"""Generate the JSON Schema of every message contract and canonical fact into ``contracts/``.

``python -m monitor.kafka.contracts_schema`` rewrites the files; a test fails when
they are out of date, so the published schemas always match the code.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter

from monitor.kafka.contracts import DebeziumEnvelope, SyncRunReport
from monitor.store.entities import ENTITIES

CONTRACTS_DIR = Path(__file__).resolve().parents[2] / "contracts"


def schemas() -> dict[str, dict[str, Any]]:
    """File name -> JSON Schema, for the Kafka contracts and each canonical fact."""
    found: dict[str, dict[str, Any]] = {
        "debezium-envelope.schema.json": DebeziumEnvelope.model_json_schema(by_alias=True),
        "lmsjonction-run-report.schema.json": SyncRunReport.model_json_schema(),
    }
    for name, spec in ENTITIES.items():
        if not spec.stored:
            continue  # a view the store derives (the Moodle ones): no source sends it
        # Moodle's rows are stored as Moodle has them: named after their table, not canonical.
        kind = "moodle" if name.startswith("mdl_") else "canonical"
        found[f"{kind}-{name}.schema.json"] = TypeAdapter(spec.fact).json_schema()
    return found


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def write(directory: Path = CONTRACTS_DIR) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, schema in schemas().items():
        path = directory / name
        path.write_text(render(schema), encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    for path in write():
        print(path)
    sys.exit(0)
