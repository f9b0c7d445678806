"""Suppliers, purchase orders, advance shipping notices, receipts and preorders (docs/supply.md).

Quantities of a purchase order line (PostgreSQL CHECKs keep them consistent):
- ``quantity_confirmed`` is what the supplier confirmed; while the order is confirmed or partly
  received, ``open = confirmed - received`` (never negative, 0 once the line is closed short) is
  incoming stock at the destination's ``StockLevel`` (``incoming``, earliest date in
  ``incoming_expected_date``), changed only through the ledger (``inventory.services.supply``);
- ``quantity_received`` counts every unit received, damaged ones included
  (``quantity_damaged <= quantity_received``); the over-receipt rule is explicit:
  ``received <= confirmed + over_receipt_tolerance`` (the supplier's percent, fixed at
  confirmation);
- ``quantity_preordered`` is the part of ``open`` already sold to preorders; it can never
  exceed ``open`` (CHECK), which is what keeps preorders from overselling incoming stock.
"""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import F, Q

from channels_app.models import SalesChannel
from omnilog.core.models import TimeStampedModel

__all__ = [
    "AdvanceShippingNotice",
    "AdvanceShippingNoticeLine",
    "PreorderAllocation",
    "PurchaseOrder",
    "PurchaseOrderLine",
    "Receipt",
    "ReceiptLine",
    "Supplier",
    "SupplierProduct",
]

WEEKDAYS = [0, 1, 2, 3, 4, 5, 6]  # Monday = 0, as ``date.weekday()``


class Supplier(TimeStampedModel):
    """A company Omnilog buys from."""

    code = models.SlugField(max_length=32, unique=True)
    name = models.CharField(max_length=120)
    contact_name = models.CharField(max_length=120, blank=True, default="")
    email = models.EmailField(blank=True, default="")
    phone = models.CharField(max_length=32, blank=True, default="")
    contacts = models.JSONField(
        default=list,
        blank=True,
        help_text='Other contacts, e.g. [{"role": "sales", "name": "...", "email": "..."}].',
    )
    lead_time_days = models.PositiveSmallIntegerField(
        default=7, help_text="Days from sending an order to its arrival."
    )
    order_weekdays = ArrayField(
        models.PositiveSmallIntegerField(),
        default=list,
        blank=True,
        help_text="Weekdays orders are placed (Monday = 0 ... Sunday = 6); empty = any day.",
    )
    minimum_order_value = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    currency = models.CharField(max_length=3, default="EUR")
    over_receipt_percent = models.PositiveSmallIntegerField(
        default=0, help_text="Units accepted above the confirmed quantity, in percent."
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(order_weekdays__contained_by=WEEKDAYS),
                name="supplier_order_weekdays_valid",
            ),
            models.CheckConstraint(
                condition=Q(minimum_order_value__gte=0), name="supplier_minimum_order_gte_0"
            ),
            models.CheckConstraint(
                condition=Q(over_receipt_percent__lte=100), name="supplier_over_receipt_lte_100"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class SupplierProduct(models.Model):
    """What a supplier sells of one product: its reference, pack size and cost."""

    supplier = models.ForeignKey(Supplier, on_delete=models.CASCADE, related_name="products")
    product = models.ForeignKey(
        "inventory.Product", on_delete=models.PROTECT, related_name="supplier_products"
    )
    supplier_sku = models.CharField(max_length=64, blank=True, default="")
    pack_size = models.PositiveIntegerField(default=1, help_text="Units ordered in multiples of.")
    cost = models.DecimalField(max_digits=12, decimal_places=4, default=0)
    currency = models.CharField(max_length=3, default="EUR")
    is_preferred = models.BooleanField(
        default=False, help_text="The supplier replenishment orders this product from."
    )

    class Meta:
        ordering = ["supplier_id", "product_id"]
        constraints = [
            models.UniqueConstraint(fields=["supplier", "product"], name="supplier_product_unique"),
            models.UniqueConstraint(
                fields=["product"],
                condition=Q(is_preferred=True),
                name="supplier_product_one_preferred",
            ),
            models.CheckConstraint(condition=Q(pack_size__gte=1), name="supplier_pack_size_gte_1"),
            models.CheckConstraint(condition=Q(cost__gte=0), name="supplier_cost_gte_0"),
        ]

    def __str__(self) -> str:
        return f"{self.supplier_id}: {self.supplier_sku or self.product_id}"


class PurchaseOrder(TimeStampedModel):
    """An order to a supplier for one destination (a warehouse or a store)."""

    class Status(models.TextChoices):
        """Choices for the column; ``inventory.supply_statuses.PurchaseOrderStatus`` is the same
        set (tested)."""

        DRAFT = "draft", "Draft"
        SENT = "sent", "Sent"
        CONFIRMED = "confirmed", "Confirmed"
        PARTLY_RECEIVED = "partly_received", "Partly received"
        RECEIVED = "received", "Received"
        CANCELLED = "cancelled", "Cancelled"

    number = models.CharField(max_length=16, unique=True)
    supplier = models.ForeignKey(Supplier, on_delete=models.PROTECT, related_name="purchase_orders")
    location = models.ForeignKey(
        "inventory.Location", on_delete=models.PROTECT, related_name="purchase_orders"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    reference = models.CharField(
        max_length=100, blank=True, default="", help_text="Who asked for it (a proposal, a buyer)."
    )
    supplier_reference = models.CharField(max_length=64, blank=True, default="")
    expected_date = models.DateField(
        null=True, blank=True, help_text="Default expected date of the lines."
    )
    currency = models.CharField(max_length=3, default="EUR")
    note = models.TextField(blank=True, default="")
    created_by = models.CharField(max_length=150, blank=True, default="")
    sent_at = models.DateTimeField(null=True, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    close_reason = models.CharField(max_length=200, blank=True, default="")
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["status", "expected_date"]),
            models.Index(fields=["location", "status"]),
        ]

    def __str__(self) -> str:
        return self.number


class PurchaseOrderLine(models.Model):
    """One product of a purchase order (see the module docstring for the quantities)."""

    purchase_order = models.ForeignKey(
        PurchaseOrder, on_delete=models.CASCADE, related_name="lines"
    )
    line_number = models.PositiveIntegerField()
    product = models.ForeignKey(
        "inventory.Product", on_delete=models.PROTECT, related_name="purchase_order_lines"
    )
    supplier_sku = models.CharField(max_length=64, blank=True, default="")
    quantity_ordered = models.IntegerField()
    quantity_confirmed = models.IntegerField(default=0)
    quantity_received = models.IntegerField(default=0, help_text="Damaged units included.")
    quantity_damaged = models.IntegerField(default=0)
    quantity_preordered = models.IntegerField(
        default=0, help_text="Open units already sold to preorders."
    )
    over_receipt_tolerance = models.IntegerField(
        default=0, help_text="Units accepted above the confirmed quantity."
    )
    unit_cost = models.DecimalField(max_digits=12, decimal_places=4, default=0)
    expected_date = models.DateField(null=True, blank=True)
    is_closed = models.BooleanField(default=False, help_text="Closed short: nothing more comes.")

    class Meta:
        ordering = ["purchase_order_id", "line_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["purchase_order", "product"], name="purchase_order_line_product_unique"
            ),
            models.UniqueConstraint(
                fields=["purchase_order", "line_number"], name="purchase_order_line_number_unique"
            ),
            models.CheckConstraint(
                condition=Q(quantity_ordered__gt=0), name="po_line_ordered_gt_0"
            ),
            models.CheckConstraint(
                condition=Q(quantity_confirmed__gte=0), name="po_line_confirmed_gte_0"
            ),
            models.CheckConstraint(
                condition=Q(quantity_received__gte=0), name="po_line_received_gte_0"
            ),
            models.CheckConstraint(
                condition=Q(quantity_damaged__gte=0, quantity_damaged__lte=F("quantity_received")),
                name="po_line_damaged_within_received",
            ),
            models.CheckConstraint(
                condition=Q(over_receipt_tolerance__gte=0), name="po_line_tolerance_gte_0"
            ),
            # The over-receipt rule: never more than confirmed + tolerance.
            models.CheckConstraint(
                condition=Q(
                    quantity_received__lte=F("quantity_confirmed") + F("over_receipt_tolerance")
                ),
                name="po_line_received_within_tolerance",
            ),
            # Preorders never exceed what is still expected (no overselling incoming stock).
            models.CheckConstraint(
                condition=Q(quantity_preordered=0)
                | Q(
                    quantity_preordered__gt=0,
                    is_closed=False,
                    quantity_preordered__lte=F("quantity_confirmed") - F("quantity_received"),
                ),
                name="po_line_preordered_within_open",
            ),
            models.CheckConstraint(condition=Q(unit_cost__gte=0), name="po_line_unit_cost_gte_0"),
        ]
        indexes = [models.Index(fields=["product", "expected_date"])]

    def __str__(self) -> str:
        return f"{self.purchase_order_id}#{self.line_number}"

    @property
    def quantity_open(self) -> int:
        if self.is_closed:
            return 0
        return max(0, self.quantity_confirmed - self.quantity_received)


class AdvanceShippingNotice(TimeStampedModel):
    """The supplier announces a delivery (part of a purchase order) with its arrival date."""

    class Status(models.TextChoices):
        ANNOUNCED = "announced", "Announced"
        RECEIVED = "received", "Received"
        CANCELLED = "cancelled", "Cancelled"

    purchase_order = models.ForeignKey(
        PurchaseOrder, on_delete=models.PROTECT, related_name="shipping_notices"
    )
    supplier_reference = models.CharField(max_length=64)
    expected_arrival = models.DateField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ANNOUNCED)
    created_by = models.CharField(max_length=150, blank=True, default="")

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["purchase_order", "supplier_reference"], name="asn_reference_unique"
            )
        ]

    def __str__(self) -> str:
        return f"ASN {self.supplier_reference} for {self.purchase_order_id}"


class AdvanceShippingNoticeLine(models.Model):
    notice = models.ForeignKey(
        AdvanceShippingNotice, on_delete=models.CASCADE, related_name="lines"
    )
    product = models.ForeignKey("inventory.Product", on_delete=models.PROTECT, related_name="+")
    quantity = models.IntegerField()

    class Meta:
        ordering = ["notice_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["notice", "product"], name="asn_line_product_unique"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="asn_line_quantity_gt_0"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.product_id}"


class Receipt(models.Model):
    """Goods received against a purchase order (and its ASN, if any), posted in one go.

    ``idempotency_key`` makes a replayed post (a handheld retrying) return the same receipt.
    """

    purchase_order = models.ForeignKey(
        PurchaseOrder, on_delete=models.PROTECT, related_name="receipts"
    )
    notice = models.ForeignKey(
        AdvanceShippingNotice,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="receipts",
    )
    location = models.ForeignKey("inventory.Location", on_delete=models.PROTECT, related_name="+")
    idempotency_key = models.CharField(max_length=64)
    fingerprint = models.CharField(max_length=64, help_text="Hash of the posted lines.")
    actor = models.CharField(max_length=150, blank=True, default="")
    source = models.CharField(max_length=64, blank=True, default="")
    note = models.CharField(max_length=200, blank=True, default="")
    has_discrepancies = models.BooleanField(default=False)
    posted_at = models.DateTimeField()

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["purchase_order", "idempotency_key"], name="receipt_idempotency_unique"
            )
        ]

    def __str__(self) -> str:
        return f"receipt {self.pk} for {self.purchase_order_id}"


class ReceiptLine(models.Model):
    """What was scanned of one product, and how it differs from what was expected."""

    class DamageReason(models.TextChoices):
        BROKEN = "broken", "Broken"
        WET = "wet", "Wet / soiled"
        EXPIRED = "expired", "Expired"
        WRONG_ITEM = "wrong_item", "Wrong item"
        OTHER = "other", "Other"

    receipt = models.ForeignKey(Receipt, on_delete=models.CASCADE, related_name="lines")
    purchase_order_line = models.ForeignKey(
        PurchaseOrderLine, on_delete=models.PROTECT, related_name="receipt_lines"
    )
    product = models.ForeignKey("inventory.Product", on_delete=models.PROTECT, related_name="+")
    scanned_codes = models.JSONField(default=list, help_text="The codes as scanned (EAN or SKU).")
    quantity_expected = models.IntegerField(help_text="Open on the order (or on the ASN).")
    quantity_received = models.IntegerField(help_text="Damaged units included.")
    quantity_damaged = models.IntegerField(default=0)
    quantity_over = models.IntegerField(default=0)
    quantity_short = models.IntegerField(default=0)
    damage_reason = models.CharField(
        max_length=16, choices=DamageReason.choices, blank=True, default=""
    )
    discrepancy_note = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        ordering = ["receipt_id", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    quantity_expected__gte=0,
                    quantity_received__gte=0,
                    quantity_over__gte=0,
                    quantity_short__gte=0,
                ),
                name="receipt_line_quantities_gte_0",
            ),
            models.CheckConstraint(
                condition=Q(quantity_damaged__gte=0, quantity_damaged__lte=F("quantity_received")),
                name="receipt_line_damaged_within_received",
            ),
            models.CheckConstraint(
                condition=Q(quantity_damaged=0) | ~Q(damage_reason=""),
                name="receipt_line_damage_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity_received} x {self.product_id} on receipt {self.receipt_id}"


class PreorderAllocation(models.Model):
    """Units of an open purchase order line sold to a preorder (an order line).

    ``quantity`` is what still waits for the goods; a receipt turns it into a reservation at
    the destination (``quantity_reserved``); an order cancel or a closed line releases it.
    """

    class Status(models.TextChoices):
        ACTIVE = "active", "Waiting for the goods"
        RESERVED = "reserved", "Received and reserved"
        RELEASED = "released", "Released"

    purchase_order_line = models.ForeignKey(
        PurchaseOrderLine, on_delete=models.PROTECT, related_name="preorders"
    )
    product = models.ForeignKey("inventory.Product", on_delete=models.PROTECT, related_name="+")
    location = models.ForeignKey("inventory.Location", on_delete=models.PROTECT, related_name="+")
    channel = models.ForeignKey(
        SalesChannel, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reference_type = models.CharField(max_length=32)
    reference_id = models.CharField(max_length=64)
    quantity = models.IntegerField(help_text="Units still waiting for the goods.")
    quantity_reserved = models.IntegerField(default=0)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gte=0, quantity_reserved__gte=0),
                name="preorder_quantities_gte_0",
            ),
            models.CheckConstraint(
                condition=Q(status="active", quantity__gt=0) | ~Q(status="active"),
                name="preorder_active_waits_for_units",
            ),
        ]
        indexes = [
            models.Index(fields=["reference_type", "reference_id"]),
            models.Index(
                fields=["purchase_order_line", "id"],
                condition=Q(status="active"),
                name="preorder_active_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"preorder {self.quantity} x {self.product_id} for {self.reference_id}"
