"""Omnilog: an omnichannel order management system."""

from omnilog.celery import app as celery_app

__all__ = ["celery_app"]
