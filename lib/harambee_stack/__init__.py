"""The embedded stack: PostgreSQL, the Kafka-protocol broker and every Harambee process on one machine."""
