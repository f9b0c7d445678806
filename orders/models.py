"""Orders: Order capture, lines, status and timeline, tracking (issue: channels and order capture).

No tables yet: this app's models arrive with its issue; the app is installed from the start so
that its migrations and layer contract exist.
"""
