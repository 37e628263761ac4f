"""``ecampus-monitor outbox``: the notifications given up, and queuing them again.

``outbox list`` shows what was given up (counts of recipients, never their
addresses; the relay's reply with addresses masked); ``outbox retry ID…`` or
``outbox retry --all-failed`` queues them again, recorded in the outbox's audit
trail with who did it, as ``POST /outbox/retry`` does.
"""

from __future__ import annotations

import os
from typing import Annotated

import typer
from rich.table import Table

outbox_app = typer.Typer(help="Notifications given up: list them, queue them again.")


@outbox_app.command("list")
def outbox_list(
    config: Annotated[
        str | None, typer.Option("--config", "-c", help="YAML configuration file.")
    ] = None,
) -> None:
    """List the notifications given up (nobody or only some recipients got them)."""
    from pathlib import Path

    from alerts.notify.given_up import given_up
    from monitor.cli import _settings, console
    from monitor.store.db import make_engine

    settings = _settings(Path(config) if config else None)
    with make_engine(settings.store.url).connect() as conn:
        found = given_up(conn, limit=1000)
    table = Table("id", "alert", "status", "attempts", "given up", "created", "last error")
    for item in found:
        table.add_row(
            str(item.id),
            str(item.alert_id or "digest"),
            item.status,
            str(item.attempts),
            f"{item.refused}/{item.recipients}",
            f"{item.created_at:%Y-%m-%d %H:%M}",
            item.last_error or "",
        )
    console.print(table if found else "no notification given up")


@outbox_app.command("retry")
def outbox_retry(
    ids: Annotated[
        list[int] | None, typer.Argument(help="Outbox ids (see `outbox list`).", show_default=False)
    ] = None,
    all_failed: Annotated[
        bool, typer.Option("--all-failed", help="Every notification given up.")
    ] = False,
    who: Annotated[
        str | None, typer.Option(help="Who re-queues (default: the login name).")
    ] = None,
    config: Annotated[
        str | None, typer.Option("--config", "-c", help="YAML configuration file.")
    ] = None,
) -> None:
    """Queue given-up notifications again: only their given-up recipients receive them."""
    from pathlib import Path

    from alerts.notify.given_up import RequeueRefused, requeue
    from monitor.cli import _settings, console, errors
    from monitor.clock import utc_now
    from monitor.store.db import make_engine

    if bool(ids) == all_failed:
        errors.print("[red]give outbox ids, or --all-failed[/red]")
        raise typer.Exit(2)
    settings = _settings(Path(config) if config else None)
    actor = who or os.environ.get("USER") or "cli"
    try:
        with make_engine(settings.store.url).begin() as conn:
            done = requeue(conn, None if all_failed else ids, actor=actor, now=utc_now())
    except RequeueRefused as refused:
        errors.print(f"[red]{refused}[/red]")
        raise typer.Exit(1) from None
    console.print(f"{len(done)} notification(s) queued again by {actor}: {done}")
