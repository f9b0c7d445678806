"""Customer merge across apps: orders are re-pointed here, the rest by ``channels_app``."""

from __future__ import annotations

from django.db import transaction

from channels_app import customers as channel_customers
from channels_app.models import Customer
from orders.models import Order, OrderEvent


def customer_merge(*, keep_id: int, merge_id: int, actor: str) -> Customer:
    """Fold customer ``merge_id`` into ``keep_id``: orders, addresses, price lists, identity.

    One transaction: the orders move first (they hold ``PROTECT`` references), each gets a
    timeline note, then ``channels_app.customers.customer_merge`` moves the app's own rows,
    deletes the merged customer and emits ``customer.merged``.
    """
    with transaction.atomic():
        order_ids = list(
            Order.objects.filter(customer_id=merge_id).order_by("id").values_list("id", flat=True)
        )
        Order.objects.filter(id__in=order_ids).update(customer_id=keep_id)
        OrderEvent.objects.bulk_create(
            OrderEvent(
                order_id=order_id,
                kind=OrderEvent.Kind.NOTE,
                actor=actor,
                # The channel's tracking API shows the message: no customer ids in it (they
                # stay in ``details``, for the back office).
                message="Customer records merged in the back office.",
                details={"customer_id": keep_id, "merged_customer_id": merge_id},
            )
            for order_id in order_ids
        )
        return channel_customers.customer_merge(keep_id=keep_id, merge_id=merge_id, actor=actor)
