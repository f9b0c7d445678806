"""Analytics tasks (queue ``default``): the beat refresh of the cached dashboards. Thin and
idempotent: a duplicate or redelivered refresh recomputes the same figures."""

from __future__ import annotations

from celery import shared_task

from omnilog.analytics.dashboard import analytics_refresh


@shared_task(acks_late=True, ignore_result=True)
def analytics_refresh_task() -> int:
    """Beat (``ANALYTICS_REFRESH_SECONDS``): recompute the preset periods' dashboards."""
    return analytics_refresh()
