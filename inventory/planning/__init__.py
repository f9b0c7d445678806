"""Pure replenishment planning (no framework): reorder points, min/max, order quantities."""
