"""Returns services: the writes of the returns app (each owns its transaction)."""
