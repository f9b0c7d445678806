"""Pure refund calculator (no framework): what a return gives back, line by line."""
