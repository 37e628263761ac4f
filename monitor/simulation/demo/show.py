"""What the demo prints: alerts in a table, and a count per detector and status."""

from __future__ import annotations

from collections import Counter

from rich.console import Console
from rich.table import Table

from alerts.repository import AlertFilter, AlertRecord, count_by_status, list_alerts
from monitor.daemon import Daemon


def alerts_table(found: list[AlertRecord], title: str) -> Table:
    table = Table("id", "status", "severity", "detector", "course", "title", title=title)
    for alert in found:
        table.add_row(
            str(alert.id),
            alert.status,
            alert.severity,
            alert.detector,
            alert.cod_elp or "",
            alert.title,
        )
    return table


def summary_table(counts: Counter[tuple[str, str]], title: str) -> Table:
    """Alerts per detector (rows) and status (columns)."""
    statuses = sorted({status for _detector, status in counts})
    table = Table("detector", *statuses, title=title)
    for detector in sorted({d for d, _status in counts}):
        table.add_row(detector, *(str(counts.get((detector, s), "")) for s in statuses))
    return table


def show(daemon: Daemon, title: str, console: Console, *, detail_limit: int = 12) -> None:
    """A table of the alerts when they are few; else counts, and the critical open ones."""
    with daemon.engine.connect() as conn:
        counts: Counter[tuple[str, str]] = Counter()
        for status, detector, _severity, count in count_by_status(conn):
            counts[(detector, status)] += count
        total = sum(counts.values())
        if total <= detail_limit:
            console.print(alerts_table(list_alerts(conn, AlertFilter(limit=detail_limit)), title))
            return
        critical = list_alerts(conn, AlertFilter(severity="critical", limit=detail_limit))
    console.print(summary_table(counts, f"{title}: {total} alerts"))
    if critical:
        console.print(alerts_table(critical, "critical ones"))
