"""Returns: Return requests from any channel, receipt, inspection, disposition, refunds.

No tables yet: this app's models arrive with its issue; the app is installed from the start so
that its migrations and layer contract exist.
"""
