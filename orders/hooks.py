"""After-commit hooks of the order lifecycle: where work for higher layers is queued.

``orders`` sits below ``fulfillment`` and cannot import it. A placed order is announced twice:
the ``order.placed`` outbox event (written in the capture transaction, delivered to webhook
subscribers and any consumer), and :func:`order_placed_hooks`, which ``order_place`` registers
with ``transaction.on_commit`` so that it runs only once the order is durable.
"""

from __future__ import annotations


def order_placed_hooks(order_id: int) -> None:
    """Run after the transaction that placed ``order_id`` commits. Today: nothing.

    This is where the routing task will be queued once routing exists, e.g.
    ``current_app.send_task("fulfillment.tasks.order_route_task", args=[order_id, 1],
    queue="routing")`` (by name, so that ``orders`` still imports nothing above it). The task
    must re-read the order and do nothing when ``Order.version`` has moved on. Keep this
    function fast and free of database writes: it runs in the web request after commit, and a
    failure here must not undo the order (the outbox event is the durable record).
    """
    return None
