"""The lines of an lmsjonction run report, from the lines the night's plan wrote.

The seed's FOAD table says which warnings and errors each case raises
(``update_oof``, ``update_groups`` code ``w9``, ``Insc. BDD``); a porté
student whose group collection is not shared makes lmsjonction fail to create
the group in the porteur's course: "group already exists in another course" (R5).
The plan (``night_plan``) decides them per element and student; this module
only gives them the report's shape.
"""

from __future__ import annotations

from collections.abc import Iterable

from monitor.kafka.contracts import RunMessageModel
from monitor.simulation.night_plan import Line


def run_messages(lines: Iterable[Line]) -> Iterable[RunMessageModel]:
    """lmsjonction's report lines, in the report contract's shape."""
    for level, code, text, cod_elp, cod_etu in lines:
        yield RunMessageModel(level=level, code=code, text=text, cod_elp=cod_elp, cod_etu=cod_etu)
