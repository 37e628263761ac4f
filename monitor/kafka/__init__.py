"""The Kafka edge: broker, topics, message contracts, mapping to facts, ingest."""
