"""Getting tickets out: the outbox worker and its retry policy."""
