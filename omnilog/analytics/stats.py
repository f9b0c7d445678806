"""Pure statistics for the analytics (no framework): percentiles, rates."""
