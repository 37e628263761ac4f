"""French labels of the detectors' causes, for the digest's headings and the page.

The catalogue lives with the detectors (``detectors.cause_labels``): every
cause of every detector has a label there, and a test fails on one without.
"""

from __future__ import annotations

from detectors.cause_labels import cause_label

__all__ = ["cause_label"]
