from django.apps import AppConfig


class FulfillmentConfig(AppConfig):
    name = "fulfillment"
    verbose_name = "Fulfillment"

    def ready(self) -> None:
        # Explicit wiring (docs/architecture.md, "Hooks"): orders announces placed orders
        # through its registry; routing is queued from here, never imported by orders.
        from fulfillment.hooks import order_placed_route
        from orders.hooks import order_placed_hook_register

        order_placed_hook_register(order_placed_route)
