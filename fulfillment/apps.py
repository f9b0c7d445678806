from django.apps import AppConfig


class FulfillmentConfig(AppConfig):
    name = "fulfillment"
    verbose_name = "Fulfillment"

    def ready(self) -> None:
        # Explicit wiring (docs/architecture.md, "Hooks"): orders announces placed orders and
        # cancelled lines through its registry; fulfillment reacts from here, never imported
        # by orders.
        from fulfillment.hooks import order_placed_route
        from fulfillment.services.order_cancellation import (
            fulfillment_orders_order_lines_cancelled,
        )
        from orders.hooks import order_lines_cancelled_hook_register, order_placed_hook_register

        order_placed_hook_register(order_placed_route)
        order_lines_cancelled_hook_register(fulfillment_orders_order_lines_cancelled)

        # The delivery promise stored at capture (orders.hooks.order_promise).
        from fulfillment.selectors_promise import order_promise
        from orders.hooks import order_promise_provider_register

        order_promise_provider_register(order_promise)

        # Relay point limits refuse, at capture, a unit no parcel to the point can carry.
        from fulfillment.services.relay_points import relay_point_capture_check
        from orders.hooks import order_delivery_check_register

        order_delivery_check_register(relay_point_capture_check)

        # Edits: refused while open fulfillment orders hold the order's units; an accepted
        # edit is routed again at its new version.
        from fulfillment.hooks import order_edit_guard, order_edited_route
        from orders.hooks import order_edit_guard_register, order_edited_hook_register

        order_edit_guard_register(order_edit_guard)
        order_edited_hook_register(order_edited_route)

        # Pickup slots: capture books a click-and-collect slot under the store's policy lock;
        # the tracking page's curbside form asks for the store's bays.
        from fulfillment.services.curbside import store_curbside_bays
        from fulfillment.services.pickup_slots import pickup_slot_book
        from orders.hooks import order_curbside_bays_register, order_pickup_slot_booker_register

        order_pickup_slot_booker_register(pickup_slot_book)
        order_curbside_bays_register(store_curbside_bays)

        # Replenishment: inventory's transfer proposals become draft transfers, and draft
        # replenishment transfers count as coming (inventory.hooks).
        from fulfillment.services.replenishment_transfers import (
            replenishment_transfer_create,
            replenishment_transfers_pending,
        )
        from inventory.hooks import pending_transfers_provider_register, transfer_creator_register

        transfer_creator_register(replenishment_transfer_create)
        pending_transfers_provider_register(replenishment_transfers_pending)
