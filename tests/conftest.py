"""Shared fixtures: each area keeps its own in tests/fixtures/ and is listed here."""

pytest_plugins = [
    "tests.fixtures.database",
    "tests.fixtures.broker",
    "tests.fixtures.smtp",
    "tests.fixtures.source_db",
    "tests.fixtures.private_mariadb",
]
