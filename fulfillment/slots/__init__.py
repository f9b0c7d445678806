"""Pure pickup-slot computation (no framework): opening hours, preparation time, capacity."""
