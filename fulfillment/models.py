"""Fulfillment: Routing, fulfillment orders per location, picking, packing, shipments, transfers.

No tables yet: this app's models arrive with its issue; the app is installed from the start so
that its migrations and layer contract exist.
"""
