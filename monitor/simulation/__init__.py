"""A synthetic university that lives through its nights, for the demo, the tests and benchmarks.

- ``generate_university(scale, seed, at)``: a clean, seeded university (REFER,
  ADE and Moodle rows as canonical facts), consistent with the sync-rule model;
- ``FaultConfig``: how many of each known problem to inject (YAML-loadable),
  ``TruthRecord``: the ground truth the injections write;
- ``Simulation(...).events()``: the snapshot, then day after day the edits and
  the nightly lmsjonction run (the model applied to Moodle), as Debezium events
  and run reports, through the daemon's own topic mappings;
- ``JsonLinesWriter`` / ``publish_to_kafka``: where the events go;
- ``command.simulate``: the ``ecampus-monitor simulate`` command.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from monitor.simulation.codec import SourceCodec, TableCodec
    from monitor.simulation.faults import FaultConfig, TruthRecord, read_truth, write_truth
    from monitor.simulation.generator import generate_university
    from monitor.simulation.injection import NoTarget
    from monitor.simulation.lmsjonction import NightOptions, NightResult, run_night
    from monitor.simulation.scale import SCALES, SMALL, TINY, UNICAEN, Scale, scale_named
    from monitor.simulation.schedule import ScheduleError
    from monitor.simulation.sinks import JsonLinesWriter, publish_to_kafka, read_jsonl
    from monitor.simulation.timeline import DEFAULT_START, Simulation
    from monitor.simulation.university import Edit, University

# Imported on first use (PEP 562): ``monitor.simulation.lmsjonction`` and its plan must be
# importable without the rest of the simulator, which imports the detectors' model.
_WHERE = {
    "SourceCodec": "monitor.simulation.codec",
    "TableCodec": "monitor.simulation.codec",
    "FaultConfig": "monitor.simulation.faults",
    "TruthRecord": "monitor.simulation.faults",
    "read_truth": "monitor.simulation.faults",
    "write_truth": "monitor.simulation.faults",
    "generate_university": "monitor.simulation.generator",
    "NoTarget": "monitor.simulation.injection",
    "NightOptions": "monitor.simulation.lmsjonction",
    "NightResult": "monitor.simulation.lmsjonction",
    "run_night": "monitor.simulation.lmsjonction",
    "SCALES": "monitor.simulation.scale",
    "SMALL": "monitor.simulation.scale",
    "TINY": "monitor.simulation.scale",
    "UNICAEN": "monitor.simulation.scale",
    "Scale": "monitor.simulation.scale",
    "scale_named": "monitor.simulation.scale",
    "ScheduleError": "monitor.simulation.schedule",
    "JsonLinesWriter": "monitor.simulation.sinks",
    "publish_to_kafka": "monitor.simulation.sinks",
    "read_jsonl": "monitor.simulation.sinks",
    "DEFAULT_START": "monitor.simulation.timeline",
    "Simulation": "monitor.simulation.timeline",
    "Edit": "monitor.simulation.university",
    "University": "monitor.simulation.university",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


__all__ = [
    "DEFAULT_START",
    "SCALES",
    "SMALL",
    "TINY",
    "UNICAEN",
    "Edit",
    "FaultConfig",
    "JsonLinesWriter",
    "NightOptions",
    "NightResult",
    "NoTarget",
    "Scale",
    "ScheduleError",
    "Simulation",
    "SourceCodec",
    "TableCodec",
    "TruthRecord",
    "University",
    "generate_university",
    "publish_to_kafka",
    "read_jsonl",
    "read_truth",
    "run_night",
    "scale_named",
    "write_truth",
]
