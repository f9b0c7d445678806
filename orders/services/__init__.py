"""Order services: capture (``capture``), idempotency of API writes, customer merge."""
