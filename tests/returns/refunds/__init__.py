"""Pure refund calculator tests (no database)."""
