"""Every cause an alert may carry: the detectors' catalogue and the monitor's own alerts'.

The monitor's own alerts (dead letters, given-up emails, source drift) declare
their cause in their module, as detectors do; this adds them to
``detectors.registry.CAUSES`` (a code declared twice differently fails at
import). The pipeline writes these labels on the stored alerts when a worker
starts (``alerts.repository.relabel_causes``): alerts created before the
``cause_label`` column (migration 0008), or before a label was reworded, are
shown with today's label.
"""

from __future__ import annotations

from alerts.notify.given_up import OWN_CAUSES as GIVEN_UP_CAUSES
from detectors.causes import Catalogue
from detectors.registry import CAUSES as DETECTOR_CAUSES
from monitor.dead_letter_alerts import OWN_CAUSES as DEAD_LETTER_CAUSES
from monitor.sources.reconcile import OWN_CAUSES as DRIFT_CAUSES

CAUSES: Catalogue = Catalogue(
    DETECTOR_CAUSES.values(), DEAD_LETTER_CAUSES, GIVEN_UP_CAUSES, DRIFT_CAUSES
)
