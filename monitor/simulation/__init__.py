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

from monitor.simulation.codec import SourceCodec, TableCodec
from monitor.simulation.faults import FaultConfig, TruthRecord, read_truth, write_truth
from monitor.simulation.generator import generate_university
from monitor.simulation.injection import NoTarget
from monitor.simulation.lmsjonction import NightOptions, NightResult, run_night
from monitor.simulation.scale import SCALES, SMALL, UNICAEN, Scale, scale_named
from monitor.simulation.schedule import ScheduleError
from monitor.simulation.sinks import JsonLinesWriter, publish_to_kafka, read_jsonl
from monitor.simulation.timeline import DEFAULT_START, Simulation
from monitor.simulation.university import Edit, University

__all__ = [
    "DEFAULT_START",
    "SCALES",
    "SMALL",
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
