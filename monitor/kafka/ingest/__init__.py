"""Kafka -> state store, one step per module (arroyo-style).

``decode`` (bytes -> Change or InvalidMessage), ``dead_letter`` (invalid
messages -> ``<topic>.dlq``), ``persist`` (one transaction per batch, or
StoreUnavailable), ``commit`` (offsets after the store, retried across
rebalances), ``consumer`` (the loop wiring them, pausing on outages),
``lag`` (the lag gauge), ``backoff``, ``kafka_options``.
"""
