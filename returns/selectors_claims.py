"""Reads of claims: a channel sees the claims of its own orders only (another's: not found)."""

from __future__ import annotations

from django.db.models import QuerySet

from omnilog.core.errors import NotFound
from returns.models import Claim


def claim_list(*, channel_id: int | None = None) -> QuerySet[Claim]:
    """Claims, newest first, with what their rendering needs (constant number of queries)."""
    queryset = Claim.objects.select_related(
        "order", "shipment", "replacement_order"
    ).prefetch_related("lines__order_line", "refunds")
    if channel_id is not None:
        queryset = queryset.filter(order__channel_id=channel_id)
    return queryset


def claim_get(*, number: str, channel_id: int | None = None) -> Claim:
    claim = claim_list(channel_id=channel_id).filter(number=number).first()
    if claim is None:
        raise NotFound(f"No claim {number}.", code="claim_not_found")
    return claim
