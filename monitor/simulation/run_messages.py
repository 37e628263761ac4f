"""The lines of an lmsjonction run report, from the refusals the run meets.

The seed's FOAD table says which warnings and errors each case raises
(``update_oof``, ``update_groups`` code ``w9``, ``Insc. BDD``); a porté
student whose group collection is not shared makes lmsjonction fail to create
the group in the porteur's course: "group already exists in another course" (R5).
"""

from __future__ import annotations

from collections.abc import Iterable

from detectors.facts import Ip
from detectors.model import Refusal
from monitor.contracts import RunMessageModel


def run_messages(refusals: Iterable[Refusal]) -> Iterable[RunMessageModel]:
    """lmsjonction's report lines for the refusals it meets (seed's FOAD table, R5 alert)."""
    reported: set[tuple[str | None, str | None]] = set()
    for refusal in refusals:
        outcome = refusal.foad
        if outcome is not None:
            consequences = outcome.consequences
            where = dict(cod_elp=refusal.cod_elp, cod_etu=refusal.who)
            if consequences.warning_update_oof:
                yield RunMessageModel(
                    level="warning", code="update_oof", text="update_oof", **where
                )
            if consequences.error_insc_bdd:
                yield RunMessageModel(
                    level="error",
                    code="Insc. BDD",
                    text=f"Insc. BDD : {refusal.who} non inscrit au cours {refusal.course_idnumber}",
                    **where,
                )
            if consequences.warning_update_groups:
                yield RunMessageModel(
                    level="warning",
                    code=consequences.warning_update_groups,
                    text=f"update_groups : {refusal.who} sans groupe dans {refusal.course_idnumber}",
                    **where,
                )
        elif refusal.cause == "porte_collection_not_shared":
            group = next((f.group_id for f in refusal.facts if isinstance(f, Ip)), None)
            if (refusal.cod_elp, group) in reported:
                continue
            reported.add((refusal.cod_elp, group))
            yield RunMessageModel(
                level="alert",
                code="group_exists",
                text=(
                    f"Impossible de créer le groupe {group} dans le cours "
                    f"{refusal.course_idnumber} : il existe déjà dans un autre cours"
                ),
                cod_elp=refusal.cod_elp,
            )
