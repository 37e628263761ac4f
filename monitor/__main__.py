"""``python -m monitor`` is ``ecampus-monitor``."""

from monitor.cli import main

main()
