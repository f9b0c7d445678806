"""Core plumbing shared by every app: base models, errors, API helpers, outbox, embedded services.

This package imports no Omnilog app (an import-linter contract checks it).
"""
