"""Reading the sources without Debezium: poll REFER's and Moodle's tables, publish the differences.

``diff`` compares two key-ordered streams (pure), ``reader`` reads a table with
one streamed SQLAlchemy Core query, ``checkpoint`` keeps the keys and row
hashes of the previous read in the state store, ``events`` shapes the
differences as Debezium change events, ``poller`` ties them together, and
``reconcile`` compares the state store with the source tables.
"""
