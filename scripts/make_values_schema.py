"""Write the Helm chart's ``values.schema.json`` from the settings (``monitor.config``).

Usage (from the repository root)::

    python -m scripts.make_values_schema           # write helm/ecampus-monitor/values.schema.json
    python -m scripts.make_values_schema --check   # exit 1 when it is out of date

The chart's ``config:`` value is the YAML configuration file of every process,
so its schema is the settings' own JSON schema (pydantic's): Helm refuses to
render or lint values with an unknown or mistyped setting. The chart's other
values (image, secrets, worker, api, …) are the chart's business and are not
constrained here. Formats Helm would assert differently from pydantic (times
written "07:00", paths) are left out: the program checks them at start.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from monitor.config import Settings

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = ROOT / "helm" / "ecampus-monitor" / "values.schema.json"
_LOOSE_FORMATS = frozenset({"time", "date", "date-time", "duration", "path", "password"})


def _loosen(node: Any) -> Any:
    if isinstance(node, dict):
        return {
            key: _loosen(value)
            for key, value in node.items()
            if not (key == "format" and value in _LOOSE_FORMATS)
        }
    if isinstance(node, list):
        return [_loosen(value) for value in node]
    return node


def values_schema() -> dict[str, Any]:
    settings = _loosen(Settings.model_json_schema(mode="validation"))
    definitions = settings.pop("$defs", {})
    settings.pop("title", None)
    settings["description"] = (
        "The configuration file of every process (monitor/config.py; "
        "see `ecampus-monitor config show`)."
    )
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": "ecampus-monitor chart values",
        "type": "object",
        "properties": {"config": settings},
        "$defs": definitions,
    }


def rendered() -> str:
    return json.dumps(values_schema(), indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def main(argv: list[str]) -> int:
    text = rendered()
    if "--check" in argv:
        current = SCHEMA.read_text(encoding="utf-8") if SCHEMA.exists() else ""
        if current != text:
            print(
                f"{SCHEMA.relative_to(ROOT)} is stale: run `python -m scripts.make_values_schema`"
            )
            return 1
        return 0
    SCHEMA.write_text(text, encoding="utf-8")
    print(f"wrote {SCHEMA.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
