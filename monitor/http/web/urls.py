"""Where the page lives, so the API can send browsers there and the page can link back."""

from __future__ import annotations

WEB_PREFIX = "/ui"
STATIC_PREFIX = f"{WEB_PREFIX}/static"
DIAGNOSE_PATH = "/diagnose"


def safe_next(target: str | None) -> str:
    """Where to go after logging in: a path of the page only, never another site."""
    default = f"{WEB_PREFIX}/alerts"
    if not target or not target.startswith(f"{WEB_PREFIX}/"):
        return default
    if "//" in target or "\\" in target or any(ord(c) < 32 for c in target):
        return default
    return target
