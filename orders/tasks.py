"""Orders' Celery tasks: thin, idempotent, one service each."""

from __future__ import annotations

from celery import shared_task

from orders.services.idempotency import idempotency_records_purge
from orders.services.late import orders_late_notify
from orders.services.lifecycle import orders_expire_unpaid


@shared_task(ignore_result=True)
def idempotency_records_purge_task() -> int:
    """Beat (hourly): forget Idempotency-Key records older than 24 h."""
    return idempotency_records_purge()


@shared_task(acks_late=True, ignore_result=True)
def orders_expire_unpaid_task() -> int:
    """Beat (every minute): cancel orders whose holds expired while the payment was pending."""
    return orders_expire_unpaid()


@shared_task(acks_late=True, ignore_result=True, expires=240)
def orders_late_watch_task() -> int:
    """Beat (every 5 minutes): emit ``order.late`` once per order past its promise."""
    return orders_late_notify()
