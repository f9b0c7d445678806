"""Inventory tasks (queue ``stock``): thin, idempotent, each calls one service."""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import OperationalError

from inventory.services.feeds import feed_snapshot_apply
from inventory.services.integrity import stock_check
from inventory.services.reservations import reservations_expire

logger = logging.getLogger(__name__)


@shared_task(acks_late=True)
def reservations_expire_task() -> int:
    """Beat, every 30 s: release expired holds (exactly once, see the service)."""
    return reservations_expire()


@shared_task(acks_late=True)
def stock_check_task(repair: bool = False) -> dict[str, int]:
    """Beat, nightly: counters = ledger; drifts are logged (repair is an operator's call)."""
    report = stock_check(repair=repair)
    if report.drifts:
        logger.error("stock_check found %d drift(s)", len(report.drifts))
    return {
        "levels": report.levels_checked,
        "drifts": len(report.drifts),
        "repaired": report.repaired,
    }


@shared_task(
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
)
def feed_snapshot_apply_task(job_id: str) -> str:
    """Apply one snapshot job (idempotent: a finished job is left as it is)."""
    return str(feed_snapshot_apply(job_id=job_id).status)


@shared_task(
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
)
def master_data_feed_apply_task(job_id: str) -> str:
    """Apply one product (PIM) or customer (CRM) feed job; a finished job is left as it is."""
    from inventory.services.master_data_feeds import master_data_feed_apply

    return str(master_data_feed_apply(job_id=job_id).status)


@shared_task(acks_late=True)
def replenishment_propose_task() -> dict[str, int]:
    """Beat, daily: proposals for the due rules (a re-run replaces the open ones)."""
    from inventory.services.replenishment import replenishment_propose

    run = replenishment_propose()
    return {
        "rules": run.rules_reviewed,
        "products": run.products_evaluated,
        "proposals": len(run.drafts),
        "replaced": run.replaced,
    }
