"""Fulfillment services: routing (``routing``), fulfillment orders (``fulfillment_orders``),
re-routing sweeps (``sweeps``) and rule sets (``rule_sets``). Each owns its transaction."""
