"""The explicit hook registry: fulfillment registers its routing hook into orders at start-up."""

from __future__ import annotations

from fulfillment.hooks import order_placed_route
from orders.hooks import (
    order_placed_hook_list,
    order_placed_hook_register,
    order_placed_hook_unregister,
    order_placed_hooks,
)


def test_fulfillment_registered_its_routing_hook_once() -> None:
    order_placed_hook_register(order_placed_route)
    assert order_placed_hook_list().count(order_placed_route) == 1


def test_a_failing_hook_does_not_stop_the_others() -> None:
    calls: list[int] = []

    def broken(order_id: int) -> None:
        raise RuntimeError("boom")

    def recording(order_id: int) -> None:
        calls.append(order_id)

    order_placed_hook_unregister(order_placed_route)
    order_placed_hook_register(broken)
    order_placed_hook_register(recording)
    try:
        order_placed_hooks(7)
    finally:
        order_placed_hook_unregister(broken)
        order_placed_hook_unregister(recording)
        order_placed_hook_register(order_placed_route)
    assert calls == [7]
