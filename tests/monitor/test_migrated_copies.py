"""The tests' migrated stores are copies of a template (tests/fixtures/database.py): a copy
must be exactly what a migration gives, or every test on ``sqlite_engine`` / ``mariadb_engine``
would test another schema than the daemon's."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from monitor.store.db import current_revision, head_revision, make_engine, upgrade


def _sqlite_schema(engine: Engine) -> list[tuple[str, str, str]]:
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name")
        )
        return [tuple(r) for r in rows]


def _mariadb_schema(engine: Engine) -> dict[str, str]:
    with engine.connect() as conn:
        tables = [name for (name,) in conn.execute(text("SHOW TABLES"))]
        return {t: conn.execute(text(f"SHOW CREATE TABLE `{t}`")).one()[1] for t in tables}


def test_a_sqlite_copy_is_the_migrated_schema_at_head(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    migrated = make_engine(f"sqlite:///{tmp_path / 'migrated.sqlite'}")
    upgrade(migrated)
    try:
        assert _sqlite_schema(sqlite_engine) == _sqlite_schema(migrated)
        assert len(_sqlite_schema(sqlite_engine)) > 20
        assert current_revision(sqlite_engine) == head_revision()
    finally:
        migrated.dispose()


@pytest.mark.mariadb
def test_a_mariadb_copy_is_the_migrated_schema_at_head(
    mariadb_engine: Engine, mariadb_url: str
) -> None:
    # mariadb_engine is a copy in the database of mariadb_url; migrate another one to compare.
    other = mariadb_url.replace("/ecm_test_", "/ecm_cmp_", 1)
    name = other.rsplit("/", 1)[1].split("?")[0]
    with mariadb_engine.begin() as conn:
        conn.execute(text(f"CREATE DATABASE {name} CHARACTER SET utf8mb4"))
    migrated = make_engine(other)
    try:
        upgrade(migrated)
        assert _mariadb_schema(mariadb_engine) == _mariadb_schema(migrated)
        assert len(_mariadb_schema(mariadb_engine)) > 20
        assert current_revision(mariadb_engine) == head_revision()
    finally:
        migrated.dispose()
        with mariadb_engine.begin() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name}"))
