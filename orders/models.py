"""Orders from every channel: lines with their quantities, the timeline, idempotency records.

An order belongs to one channel and one customer (known across channels). Money amounts are
the pricing engine's output, stored so that what the customer was charged never changes when
prices do. Status changes follow ``orders.statuses.TRANSITIONS``; each writes an ``OrderEvent``.
"""

from __future__ import annotations

import secrets

from django.db import models
from django.db.models import F, Q

from channels_app.models import Customer, SalesChannel
from inventory.models import Location, Product
from omnilog.core.models import TimeStampedModel
from orders.statuses import OrderStatus


def new_tracking_token() -> str:
    return secrets.token_urlsafe(24)


class DeliveryMode(models.TextChoices):
    HOME_STANDARD = "home_standard", "Home delivery, standard"
    HOME_EXPRESS = "home_express", "Home delivery, express"
    SAME_DAY = "same_day", "Same-day courier"
    CLICK_AND_COLLECT = "click_and_collect", "Click-and-collect in store"
    RELAY_POINT = "relay_point", "Parcel relay point / locker"
    SHIP_TO_STORE = "ship_to_store", "Ship to store"


# Lines reserved at a store at capture (two-tier promise); the others reserve in the pool.
STORE_DELIVERY_MODES = frozenset({DeliveryMode.CLICK_AND_COLLECT})


class PaymentStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    AUTHORISED = "authorised", "Authorised"
    CAPTURED = "captured", "Captured"
    FAILED = "failed", "Failed"
    REFUNDED = "refunded", "Refunded"


class Order(TimeStampedModel):
    class Status(models.TextChoices):
        """Choices for the column; ``orders.statuses.OrderStatus`` is the same set (tested)."""

        PLACED = "placed", "Placed"
        ON_HOLD = "on_hold", "On hold"
        BACKORDERED = "backordered", "Backordered"
        ROUTED = "routed", "Routed"
        IN_FULFILLMENT = "in_fulfillment", "In fulfillment"
        PARTIALLY_SHIPPED = "partially_shipped", "Partially shipped"
        SHIPPED = "shipped", "Shipped"
        READY_FOR_PICKUP = "ready_for_pickup", "Ready for pickup"
        DELIVERED = "delivered", "Delivered"
        COLLECTED = "collected", "Collected"
        COMPLETED = "completed", "Completed"
        CANCELLED = "cancelled", "Cancelled"

    number = models.CharField(max_length=20, unique=True)
    channel = models.ForeignKey(SalesChannel, on_delete=models.PROTECT, related_name="orders")
    external_id = models.CharField(max_length=64, blank=True, default="")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="orders")
    status = models.CharField(max_length=20, choices=Status.choices, default=OrderStatus.PLACED)
    hold_reason = models.CharField(max_length=200, blank=True, default="")
    payment_status = models.CharField(
        max_length=12, choices=PaymentStatus.choices, default=PaymentStatus.PENDING
    )
    currency = models.CharField(max_length=3)
    subtotal = models.DecimalField(max_digits=12, decimal_places=2)
    discount_total = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    shipping_total = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    tax_total = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    grand_total = models.DecimalField(max_digits=12, decimal_places=2)
    coupon_codes = models.JSONField(default=list, blank=True)
    delivery_mode = models.CharField(max_length=20, choices=DeliveryMode.choices)
    pickup_location = models.ForeignKey(
        Location, null=True, blank=True, on_delete=models.PROTECT, related_name="pickup_orders"
    )
    pickup_slot_start = models.DateTimeField(null=True, blank=True)
    pickup_slot_end = models.DateTimeField(null=True, blank=True)
    relay_point_code = models.CharField(max_length=64, blank=True, default="")
    shipping_address = models.JSONField(default=dict, blank=True)
    # Per-line-group deliveries (mixed baskets): [{"key", "mode", "pickup_location_id",
    # "pickup_slot_start", "pickup_slot_end", "relay_point_code", "shipping_address"}]; lines
    # name their group in ``OrderLine.delivery_group``. The fields above hold the order's default.
    delivery_groups = models.JSONField(default=list, blank=True)
    billing_address = models.JSONField(default=dict, blank=True)
    # The customer as this order's channel gave it (never the matched ``Customer``'s fields,
    # which may come from another channel): what the order API shows the channel.
    customer_email = models.EmailField(blank=True, default="")
    customer_phone = models.CharField(max_length=32, blank=True, default="")
    customer_first_name = models.CharField(max_length=100, blank=True, default="")
    customer_last_name = models.CharField(max_length=100, blank=True, default="")
    customer_company_name = models.CharField(max_length=200, blank=True, default="")
    purchase_order_number = models.CharField(max_length=64, blank=True, default="")
    is_partial_delivery_allowed = models.BooleanField(default=True)
    promised_date = models.DateField(null=True, blank=True)
    # The promise at capture (fulfillment's promise core, through orders.hooks): delivered home
    # by, or ready for collection by. ``promised_date`` is its local date.
    promised_at = models.DateTimeField(null=True, blank=True)
    # Set once ``order.late`` was emitted (orders.services.late): the watch emits once per order.
    late_notified_at = models.DateTimeField(null=True, blank=True)
    tracking_token = models.CharField(max_length=64, unique=True, default=new_tracking_token)
    # Curbside pickup: the customer pressed "I'm here" on the tracking page (store queue shows it).
    curbside_arrived_at = models.DateTimeField(null=True, blank=True)
    curbside_bay = models.PositiveSmallIntegerField(null=True, blank=True)
    curbside_note = models.CharField(max_length=200, blank=True, default="")
    # Bumped by every change that routing must see; a routing task carries the version it was
    # queued for and does nothing when the order has moved on (idempotent redelivery).
    version = models.PositiveIntegerField(default=1)
    pricing = models.JSONField(default=dict, blank=True, help_text="The priced cart, as quoted.")
    placed_at = models.DateTimeField()

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "external_id"],
                condition=~Q(external_id=""),
                name="order_channel_external_id_unique",
            ),
            models.CheckConstraint(condition=Q(grand_total__gte=0), name="order_total_gte_0"),
            models.CheckConstraint(
                condition=~Q(delivery_mode="click_and_collect") | Q(pickup_location__isnull=False),
                name="order_click_and_collect_has_store",
            ),
        ]
        indexes = [
            models.Index(fields=["channel", "status", "-placed_at"]),
            models.Index(fields=["customer", "-placed_at"]),
            models.Index(fields=["pickup_location", "status"]),
            models.Index(
                fields=["promised_date"],
                condition=Q(late_notified_at__isnull=True, promised_date__isnull=False),
                name="order_promise_watch_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.number


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    line_number = models.PositiveSmallIntegerField()
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    sku = models.CharField(max_length=32)
    name = models.CharField(max_length=200)
    quantity = models.PositiveIntegerField(help_text="Ordered.")
    quantity_allocated = models.PositiveIntegerField(default=0)
    quantity_fulfilled = models.PositiveIntegerField(default=0)
    quantity_cancelled = models.PositiveIntegerField(default=0)
    quantity_returned = models.PositiveIntegerField(default=0)
    unit_price = models.DecimalField(max_digits=12, decimal_places=2, help_text="List price.")
    agreed_unit_price = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="Price agreed by a B2B partner or marketplace, checked against the engine.",
    )
    discount_total = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    tax_rate = models.DecimalField(max_digits=5, decimal_places=4, default=0)
    tax_amount = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    total = models.DecimalField(max_digits=12, decimal_places=2, help_text="Net paid, tax incl.")
    delivery_mode = models.CharField(max_length=20, choices=DeliveryMode.choices)
    pickup_location = models.ForeignKey(
        Location, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    delivery_group = models.CharField(
        max_length=32,
        blank=True,
        default="",
        help_text="Key in Order.delivery_groups; empty: the order's.",
    )

    class Meta:
        ordering = ["order_id", "line_number"]
        constraints = [
            models.UniqueConstraint(fields=["order", "line_number"], name="order_line_unique"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="order_line_quantity_gt_0"),
            models.CheckConstraint(
                condition=Q(quantity__gte=F("quantity_fulfilled") + F("quantity_cancelled")),
                name="order_line_fulfilled_cancelled_within_ordered",
            ),
            models.CheckConstraint(
                condition=Q(quantity_returned__lte=F("quantity_fulfilled")),
                name="order_line_returned_within_fulfilled",
            ),
            models.CheckConstraint(
                condition=Q(quantity_allocated__lte=F("quantity") - F("quantity_cancelled")),
                name="order_line_allocated_within_open",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order_id}#{self.line_number} {self.quantity} x {self.sku}"

    @property
    def quantity_open(self) -> int:
        return self.quantity - self.quantity_fulfilled - self.quantity_cancelled


class OrderEvent(models.Model):
    """The order's timeline: what happened, who did it, through which channel or system."""

    class Kind(models.TextChoices):
        PLACED = "placed", "Placed"
        STATUS_CHANGED = "status_changed", "Status changed"
        HELD = "held", "Put on hold"
        RELEASED = "released", "Hold released"
        EDITED = "edited", "Edited"
        CANCELLED = "cancelled", "Cancelled"
        PAYMENT = "payment", "Payment status"
        ROUTED = "routed", "Routed"
        FULFILLMENT = "fulfillment", "Fulfillment"
        SHIPMENT = "shipment", "Shipment"
        PICKUP = "pickup", "Pickup"
        RETURN = "return", "Return"
        NOTE = "note", "Note"

    id = models.BigAutoField(primary_key=True)
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    from_status = models.CharField(max_length=20, blank=True, default="")
    to_status = models.CharField(max_length=20, blank=True, default="")
    actor = models.CharField(max_length=150, blank=True, default="")
    channel = models.ForeignKey(
        SalesChannel, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    source = models.CharField(max_length=64, blank=True, default="")
    message = models.CharField(max_length=300, blank=True, default="")
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["order_id", "id"]
        indexes = [
            models.Index(fields=["order", "id"]),
            models.Index(fields=["kind", "created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.order_id}: {self.kind} {self.to_status}".strip()


class IdempotencyRecord(models.Model):
    """One ``Idempotency-Key`` per channel: the request's fingerprint and its stored response.

    ``state = processing`` while the first request runs (a concurrent retry gets 409); a
    ``locked_until`` in the past means that request died, and the key may be retried.
    """

    class State(models.TextChoices):
        PROCESSING = "processing", "Processing"
        COMPLETED = "completed", "Completed"

    channel = models.ForeignKey(SalesChannel, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of the request body.")
    state = models.CharField(max_length=12, choices=State.choices, default=State.PROCESSING)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    response_headers = models.JSONField(default=dict, blank=True)
    locked_until = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["channel", "key"], name="idempotency_key_unique")
        ]
        indexes = [models.Index(fields=["created_at"])]

    def __str__(self) -> str:
        return f"{self.channel_id}:{self.key} ({self.state})"
