"""Returns: policies, disposition rules, return requests (RMAs) and their lines.

A ``ReturnRequest`` (RMA) belongs to one order and records the channel that created it (empty
for staff: admin, store desk); a channel caller sees only the RMAs of its own orders.
Status changes follow ``returns.statuses.TRANSITIONS``. Quantities per line only shrink along
the way (requested >= approved >= received), enforced by CHECK constraints. Refunds and claims
live in ``returns.models_claims`` (imported at the bottom so Django registers them).
"""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q

from channels_app.models import Customer, SalesChannel
from fulfillment.models_shipping import Carrier
from inventory.models import Location, Product
from omnilog.core.models import TimeStampedModel
from orders.models import Order, OrderLine
from returns.statuses import ReturnStatus


class ReturnReason(models.TextChoices):
    CHANGED_MIND = "changed_mind", "Changed my mind"
    WRONG_SIZE = "wrong_size", "Wrong size or fit"
    NOT_AS_DESCRIBED = "not_as_described", "Not as described"
    WRONG_ITEM = "wrong_item", "Wrong item sent"
    DAMAGED_IN_TRANSIT = "damaged_in_transit", "Arrived damaged"
    DEFECTIVE = "defective", "Defective"
    LATE = "late", "Arrived too late"
    OTHER = "other", "Other"


class ItemCondition(models.TextChoices):
    SELLABLE = "sellable", "Sellable as new"
    OPENED = "opened", "Opened, sellable"
    DAMAGED = "damaged", "Damaged"
    DEFECTIVE = "defective", "Defective"
    INCOMPLETE = "incomplete", "Incomplete (parts missing)"


SELLABLE_CONDITIONS = frozenset({ItemCondition.SELLABLE, ItemCondition.OPENED})


class Disposition(models.TextChoices):
    RESTOCK_HERE = "restock_here", "Restock at the receiving location"
    TO_WAREHOUSE = "to_warehouse", "Send to a warehouse"
    QUARANTINE = "quarantine", "Quarantine (quality control)"
    SCRAP = "scrap", "Scrap"
    RETURN_TO_SUPPLIER = "return_to_supplier", "Return to supplier"


class ReturnMode(models.TextChoices):
    STORE = "store", "Brought to a store"
    RELAY_DROP_OFF = "relay_drop_off", "Dropped off at a relay point"
    CARRIER_PICKUP = "carrier_pickup", "Picked up by a carrier"


class ShippingRefundRule(models.TextChoices):
    """Same values as ``returns.refunds.types.ShippingRefundRule`` (the calculator's)."""

    NEVER = "never", "Never"
    WHOLE_ORDER = "whole_order", "When every paid unit of the order has come back"
    SELLER_FAULT = "seller_fault", "When a returned line's reason is the seller's fault"
    ALWAYS = "always", "Always"


class ReturnPolicy(TimeStampedModel):
    """The return rules of a channel (or every channel), optionally for one category or product.

    The most specific active row wins: product, then category, then the channel's default, each
    with the channel's own row before an all-channels row (``channel`` null). Without any row:
    ``returns.selectors.DEFAULT_POLICY`` (30 days, returnable, no fee, shipping refunded when
    the whole order comes back).
    """

    channel = models.ForeignKey(
        SalesChannel, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    category = models.CharField(max_length=64, blank=True, default="")
    product = models.ForeignKey(
        Product, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    window_days = models.PositiveSmallIntegerField(default=30)
    is_returnable = models.BooleanField(default=True)
    restocking_fee_percent = models.DecimalField(max_digits=5, decimal_places=2, default=0)
    shipping_refund_rule = models.CharField(
        max_length=24, choices=ShippingRefundRule.choices, default=ShippingRefundRule.WHOLE_ORDER
    )
    fee_exempt_reasons = models.JSONField(
        default=list, blank=True, help_text="Reason codes that pay no restocking fee."
    )
    is_auto_approved = models.BooleanField(
        default=False, help_text="In-window requests are approved at once."
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        verbose_name_plural = "return policies"
        ordering = ["channel_id", "category", "product_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "category", "product"],
                nulls_distinct=False,
                name="return_policy_scope_unique",
            ),
            models.CheckConstraint(
                condition=Q(restocking_fee_percent__gte=0) & Q(restocking_fee_percent__lte=100),
                name="return_policy_fee_percent_range",
            ),
            models.CheckConstraint(
                condition=Q(product__isnull=True) | Q(category=""),
                name="return_policy_product_or_category",
            ),
        ]

    def __str__(self) -> str:
        scope = (self.product_id and f"product {self.product_id}") or self.category or "default"
        return f"{self.channel or 'all channels'}: {scope}"


class DispositionRule(models.Model):
    """One ordered rule of return routing: what matches, and where the unit goes.

    Empty match lists match anything. A ``restock_here`` rule with ``requires_wanted_here``
    applies only when the receiving location wants the product (ATP there below
    ``wanted_atp_below``, or sold there within ``wanted_sold_within_days``); otherwise the next
    rule is tried. Rules are evaluated by ``priority`` then id; the pure evaluation is
    ``returns.disposition``.
    """

    name = models.CharField(max_length=100)
    priority = models.PositiveIntegerField(default=100, help_text="Lower runs first.")
    is_active = models.BooleanField(default=True)
    reason_codes = models.JSONField(default=list, blank=True)
    conditions = models.JSONField(default=list, blank=True)
    categories = models.JSONField(default=list, blank=True)
    location_kinds = models.JSONField(
        default=list, blank=True, help_text="Kinds of the receiving location (store, warehouse)."
    )
    action = models.CharField(max_length=20, choices=Disposition.choices)
    target_location = models.ForeignKey(
        Location, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    target_location_kind = models.CharField(
        max_length=16,
        choices=Location.Kind.choices,
        blank=True,
        default="",
        help_text="For to_warehouse without a target: the nearest active location of this kind.",
    )
    requires_wanted_here = models.BooleanField(default=False)
    wanted_atp_below = models.PositiveIntegerField(default=3)
    wanted_sold_within_days = models.PositiveSmallIntegerField(default=30)

    class Meta:
        ordering = ["priority", "id"]

    def __str__(self) -> str:
        return f"{self.priority}: {self.name} -> {self.action}"


class ReturnRequest(TimeStampedModel):
    """A return merchandise authorisation (RMA): what comes back from one order, and how."""

    class Status(models.TextChoices):
        """Choices for the column; ``returns.statuses.ReturnStatus`` is the same set (tested)."""

        REQUESTED = "requested", "Requested"
        APPROVED = "approved", "Approved"
        REFUSED = "refused", "Refused"
        IN_TRANSIT = "in_transit", "In transit"
        DROPPED_OFF = "dropped_off", "Dropped off"
        RECEIVED = "received", "Received"
        INSPECTED = "inspected", "Inspected"
        DISPOSITIONED = "dispositioned", "Dispositioned"
        REFUND_REQUESTED = "refund_requested", "Refund requested"
        REFUNDED = "refunded", "Refunded"
        EXCHANGED = "exchanged", "Exchanged"
        CLOSED = "closed", "Closed"
        CANCELLED = "cancelled", "Cancelled"

    number = models.CharField(max_length=20, unique=True)
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="return_requests")
    channel = models.ForeignKey(
        SalesChannel,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Channel that created it; empty: staff (admin, store desk).",
    )
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(
        max_length=20, choices=Status.choices, default=ReturnStatus.REQUESTED, db_index=True
    )
    mode = models.CharField(max_length=16, choices=ReturnMode.choices)
    location = models.ForeignKey(
        Location,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Where it is expected: the store it is brought to, the warehouse it goes to.",
    )
    received_location = models.ForeignKey(
        Location, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    relay_point_code = models.CharField(max_length=64, blank=True, default="")
    pickup_address = models.JSONField(default=dict, blank=True)
    carrier = models.ForeignKey(
        Carrier, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    tracking_number = models.CharField(max_length=64, blank=True, default="")
    return_label_pdf = models.BinaryField(null=True, blank=True, editable=False)
    created_by = models.CharField(max_length=150, blank=True, default="")
    source = models.CharField(max_length=64, blank=True, default="")
    reason_note = models.TextField(blank=True, default="", max_length=2000)
    photo_urls = models.JSONField(default=list, blank=True)
    refusal_reason = models.CharField(max_length=300, blank=True, default="")
    exchange_order = models.ForeignKey(
        Order, null=True, blank=True, on_delete=models.PROTECT, related_name="exchanged_returns"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(null=True, blank=True)
    inspected_at = models.DateTimeField(null=True, blank=True)
    dispositioned_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(mode="relay_drop_off") | ~Q(relay_point_code=""),
                name="return_relay_drop_off_has_point",
            ),
            models.CheckConstraint(
                condition=~Q(status="refused") | ~Q(refusal_reason=""),
                name="return_refused_has_reason",
            ),
            models.CheckConstraint(
                condition=Q(
                    status__in=[
                        "requested",
                        "approved",
                        "refused",
                        "in_transit",
                        "dropped_off",
                        "cancelled",
                    ]
                )
                | Q(received_location__isnull=False),
                name="return_received_has_location",
            ),
        ]
        indexes = [
            models.Index(fields=["order", "status"]),
            models.Index(fields=["channel", "status", "-created_at"]),
            models.Index(fields=["received_location", "status"]),
            models.Index(fields=["location", "status"]),
        ]

    def __str__(self) -> str:
        return self.number


class ReturnLine(models.Model):
    """Units of one order line coming back: requested >= approved >= received."""

    return_request = models.ForeignKey(
        ReturnRequest, on_delete=models.CASCADE, related_name="lines"
    )
    order_line = models.ForeignKey(OrderLine, on_delete=models.PROTECT, related_name="return_lines")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    quantity_requested = models.PositiveIntegerField()
    quantity_approved = models.PositiveIntegerField(default=0)
    quantity_received = models.PositiveIntegerField(default=0)
    reason_code = models.CharField(max_length=20, choices=ReturnReason.choices)
    condition = models.CharField(
        max_length=12,
        choices=ItemCondition.choices,
        blank=True,
        default="",
        help_text="Found at inspection.",
    )
    inspection_note = models.CharField(max_length=300, blank=True, default="")
    proposed_disposition = models.CharField(
        max_length=20, choices=Disposition.choices, blank=True, default=""
    )
    proposed_location = models.ForeignKey(
        Location, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    proposal_reason = models.CharField(max_length=300, blank=True, default="")
    disposition = models.CharField(
        max_length=20,
        choices=Disposition.choices,
        blank=True,
        default="",
        help_text="Applied (may differ from the proposal when staff overrode it).",
    )
    disposition_location = models.ForeignKey(
        Location, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    transfer = models.ForeignKey(
        "fulfillment.TransferOrder",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The transfer taking the units to a warehouse (to_warehouse).",
    )
    refunded_amount = models.DecimalField(max_digits=12, decimal_places=2, default=0)

    class Meta:
        ordering = ["return_request_id", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["return_request", "order_line"], name="return_line_once_per_order_line"
            ),
            models.CheckConstraint(
                condition=Q(quantity_requested__gte=1), name="return_line_requested_gte_1"
            ),
            models.CheckConstraint(
                condition=Q(quantity_approved__lte=F("quantity_requested")),
                name="return_line_approved_within_requested",
            ),
            models.CheckConstraint(
                condition=Q(quantity_received__lte=F("quantity_approved")),
                name="return_line_received_within_approved",
            ),
            models.CheckConstraint(
                condition=Q(refunded_amount__gte=0), name="return_line_refunded_gte_0"
            ),
            models.CheckConstraint(
                condition=Q(disposition="") | ~Q(condition=""),
                name="return_line_disposition_after_inspection",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.return_request_id}: {self.quantity_requested} x line {self.order_line_id}"


RMA_NUMBER_SEQUENCE = "returns_rma_number_seq"
CLAIM_NUMBER_SEQUENCE = "returns_claim_number_seq"
REFUND_NUMBER_SEQUENCE = "returns_refund_number_seq"

from returns.models_claims import Claim, ClaimLine, Refund  # noqa: E402

__all__ = [
    "Claim",
    "ClaimLine",
    "Disposition",
    "DispositionRule",
    "ItemCondition",
    "Refund",
    "ReturnLine",
    "ReturnMode",
    "ReturnPolicy",
    "ReturnReason",
    "ReturnRequest",
]
