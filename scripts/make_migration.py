"""Write a new Alembic revision from the difference between the migrations and the metadata.

Usage: python scripts/make_migration.py "message" [REV_ID]
Runs against a throwaway SQLite database brought to the current head.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from alembic import command

from monitor.store.db import alembic_config, make_engine, upgrade


def main() -> None:
    message = sys.argv[1]
    rev_id = sys.argv[2] if len(sys.argv) > 2 else None
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'head.sqlite'}")
        upgrade(engine)
        command.revision(alembic_config(engine), message=message, autogenerate=True, rev_id=rev_id)


if __name__ == "__main__":
    main()
