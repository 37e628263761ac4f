"""French labels of the detectors' causes, for the digest's headings.

The labels live with the detectors that define the causes; a cause without one
is shown by its code, so a new detector never breaks the digest.
"""

from __future__ import annotations

from collections.abc import Mapping

from detectors.course_archived import CAUSE_LABEL as COURSE_ARCHIVED_CAUSES
from detectors.model.causes import CAUSES as MODEL_CAUSES


def _labels() -> Mapping[str, str]:
    labels = {str(cause): info.title for cause, info in MODEL_CAUSES.items()}
    labels |= {
        cause: label[:1].upper() + label[1:] for cause, label in COURSE_ARCHIVED_CAUSES.items()
    }
    return labels


_LABELS = _labels()


def cause_label(cause: str) -> str:
    """The French label of ``cause``, else the code itself."""
    return _LABELS.get(cause, cause)
