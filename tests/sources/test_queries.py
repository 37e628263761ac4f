"""The poller's queries, compiled for every source dialect, and the Oracle thin path's errors."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

from sqlalchemy.dialects import mysql, oracle, postgresql

from monitor.config import SourceSettings, load_settings
from monitor.sources.poller import tables_of
from monitor.sources.reader import TableSpec, json_value, select_rows, table_spec


def _refer_specs(dialect: str) -> list[TableSpec]:
    specs = tables_of(load_settings(), "refer", dialect_name=dialect)
    # what with_key_types finds in REFER's catalogue: every key column is VARCHAR2 but ID_IA.
    return [
        TableSpec(**{**s.__dict__, "text_keys": frozenset(set(s.key_columns) - {"ID_IA"})})
        for s in specs
    ]


def test_every_refer_query_compiles_for_oracle_in_binary_key_order() -> None:
    specs = _refer_specs("oracle")
    assert {s.name for s in specs} == {
        "T_ADE_ACTIVITES",
        "T_ADE_GROUPES",
        "T_ADE_COLLECTIONS_ELP",
        "T_ADE_ACTIVITES_ETUDIANTS",
        "T_ADE_IA",
        "T_COMPTES",
    }
    for spec in specs:
        sql = str(select_rows(spec, "oracle").compile(dialect=oracle.dialect()))
        assert f'FROM "REFER"."{spec.name}"' in sql, sql
        assert "ORDER BY" in sql
    ips = next(s for s in specs if s.name == "T_ADE_ACTIVITES_ETUDIANTS")
    sql = str(select_rows(ips, "oracle").compile(dialect=oracle.dialect()))
    assert sql.endswith(
        """ORDER BY nlssort("REFER"."T_ADE_ACTIVITES_ETUDIANTS"."COD_ETU", 'NLS_SORT=BINARY'), """
        """nlssort("REFER"."T_ADE_ACTIVITES_ETUDIANTS"."COD_ELP", 'NLS_SORT=BINARY')"""
    ), sql
    ia = next(s for s in specs if s.name == "T_ADE_IA")
    assert str(select_rows(ia, "oracle").compile(dialect=oracle.dialect())).endswith(
        'ORDER BY "REFER"."T_ADE_IA"."ID_IA"'
    )


def test_moodle_queries_compile_for_mysql_and_postgresql() -> None:
    topics = SourceSettings().topics
    course = table_spec("moodle.moodle.mdl_course", topics["moodle.moodle.mdl_course"], schema=None)
    assert course.key_columns == ("id",)
    assert str(select_rows(course, "mysql").compile(dialect=mysql.dialect())).endswith(
        "FROM mdl_course ORDER BY mdl_course.id"
    )
    text_key = TableSpec(
        **{**course.__dict__, "key_columns": ("idnumber",), "text_keys": frozenset({"idnumber"})}
    )
    assert "ORDER BY CAST(mdl_course.idnumber AS BINARY)" in str(
        select_rows(text_key, "mysql").compile(dialect=mysql.dialect())
    )
    assert 'ORDER BY mdl_course.idnumber COLLATE "C"' in str(
        select_rows(text_key, "postgresql").compile(dialect=postgresql.dialect())
    )


def test_values_are_written_as_debezium_writes_them() -> None:
    from datetime import UTC, date, datetime
    from decimal import Decimal

    assert json_value(Decimal("21900001")) == 21900001
    assert json_value(Decimal("1.5")) == 1.5
    assert json_value(datetime(2026, 9, 1, 0, 0)) == 1788220800000  # naive: UTC, epoch ms
    assert json_value(datetime(2026, 9, 1, 2, 0, tzinfo=UTC)) == 1788228000000
    assert json_value(date(1970, 1, 11)) == 10  # io.debezium.time.Date: epoch days
    assert json_value(b"\x00\x01") == "AAE="


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_oracle_thin_connection_to_a_closed_port_is_a_clear_error(tmp_path: Path) -> None:
    url = f"oracle+oracledb://refer_ro:s3cret-pw@127.0.0.1:{_closed_port()}/?service_name=REFER"
    env = os.environ | {
        "ECAMPUS_MONITOR_STORE__URL": f"sqlite:///{tmp_path / 'state.sqlite'}",
        "ECAMPUS_MONITOR_KAFKA__BOOTSTRAP_SERVERS": f'["127.0.0.1:{_closed_port()}"]',
    }
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "from monitor.cli import main; main()",
            "source",
            "refer",
            "--once",
            "--url",
            url,
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert "cannot read oracle+oracledb://refer_ro:***@127.0.0.1" in done.stderr
    assert "DPY-6005" in done.stderr  # python-oracledb thin mode: cannot connect
    assert "s3cret-pw" not in done.stderr + done.stdout
