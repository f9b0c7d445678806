"""Flow analytics: lead times per stage, KPIs, channel journeys (reads every app; top layer)."""
