"""Replenishment rules and proposals (docs/supply.md, "Replenishment").

Imported at the end of ``inventory.models``. A rule says how one product (or every product of a
category) is kept in stock at one location, and where it comes from: a supplier (purchase
orders) or a source location (transfer orders). The proposal run
(``inventory.services.replenishment``) turns due rules into open proposals, one per supplier
+ destination or source + destination; staff confirm (creating the purchase order or the
transfer) or discard them.
"""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q

from omnilog.core.models import TimeStampedModel

__all__ = ["ReplenishmentProposal", "ReplenishmentProposalLine", "ReplenishmentRule"]


class ReplenishmentRule(TimeStampedModel):
    class Method(models.TextChoices):
        """Same values as ``inventory.planning.Method``."""

        MIN_MAX = "min_max", "Min / max"
        REORDER_POINT = "reorder_point", "Reorder point"

    location = models.ForeignKey(
        "inventory.Location", on_delete=models.CASCADE, related_name="replenishment_rules"
    )
    product = models.ForeignKey(
        "inventory.Product", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    category = models.CharField(
        max_length=64,
        blank=True,
        default="",
        help_text="Every active product of the category "
        "(a product rule at the same location wins).",
    )
    method = models.CharField(max_length=16, choices=Method.choices, default=Method.REORDER_POINT)
    min_quantity = models.PositiveIntegerField(default=0)
    max_quantity = models.PositiveIntegerField(default=0)
    reorder_point = models.PositiveIntegerField(
        null=True, blank=True, help_text="Empty: the average demand over the lead time."
    )
    safety_stock = models.PositiveIntegerField(
        null=True, blank=True, help_text="Empty: the stock level's safety stock."
    )
    review_cycle_days = models.PositiveSmallIntegerField(default=7)
    supplier = models.ForeignKey(
        "inventory.Supplier",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="replenishment_rules",
    )
    source_location = models.ForeignKey(
        "inventory.Location",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="replenishment_rules_sourced",
    )
    transfer_days = models.PositiveSmallIntegerField(
        default=2, help_text="Lead time of a transfer from the source location."
    )
    pack_size = models.PositiveIntegerField(
        default=1, help_text="Transfers: units moved in multiples of (suppliers: their pack size)."
    )
    minimum_order_quantity = models.PositiveIntegerField(default=0)
    demand_days = models.PositiveSmallIntegerField(
        default=28, help_text="Days of sales history the average demand is taken over."
    )
    is_active = models.BooleanField(default=True)
    last_reviewed_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["location_id", "category", "product_id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(min_quantity__lte=F("max_quantity")),
                name="replenishment_rule_min_lte_max",
            ),
            models.CheckConstraint(
                condition=(Q(supplier__isnull=False) & Q(source_location__isnull=True))
                | (Q(supplier__isnull=True) & Q(source_location__isnull=False)),
                name="replenishment_rule_one_source",
            ),
            models.CheckConstraint(
                condition=(Q(product__isnull=False) & Q(category=""))
                | (Q(product__isnull=True) & ~Q(category="")),
                name="replenishment_rule_product_xor_category",
            ),
            models.CheckConstraint(
                condition=~Q(source_location=F("location")),
                name="replenishment_rule_source_elsewhere",
            ),
            models.CheckConstraint(
                condition=Q(pack_size__gte=1), name="replenishment_rule_pack_size_gte_1"
            ),
            models.CheckConstraint(
                condition=Q(demand_days__gte=1), name="replenishment_rule_demand_days_gte_1"
            ),
            models.UniqueConstraint(
                fields=["location", "product"],
                condition=Q(product__isnull=False),
                name="replenishment_rule_product_unique",
            ),
            models.UniqueConstraint(
                fields=["location", "category"],
                condition=~Q(category=""),
                name="replenishment_rule_category_unique",
            ),
        ]

    def __str__(self) -> str:
        target = f"product {self.product_id}" if self.product_id else f"category {self.category}"
        return f"{target} at location {self.location_id}"


class ReplenishmentProposal(TimeStampedModel):
    class Kind(models.TextChoices):
        PURCHASE = "purchase", "Purchase order"
        TRANSFER = "transfer", "Transfer order"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        CONFIRMED = "confirmed", "Confirmed"
        DISCARDED = "discarded", "Discarded"

    kind = models.CharField(max_length=8, choices=Kind.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    location = models.ForeignKey(
        "inventory.Location", on_delete=models.PROTECT, related_name="replenishment_proposals"
    )
    supplier = models.ForeignKey(
        "inventory.Supplier", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    source_location = models.ForeignKey(
        "inventory.Location", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    proposed_on = models.DateField()
    note = models.TextField(blank=True, default="")
    document_id = models.BigIntegerField(
        null=True, blank=True, help_text="The purchase order or transfer order it created."
    )
    document_reference = models.CharField(max_length=32, blank=True, default="")
    decided_by = models.CharField(max_length=150, blank=True, default="")
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-proposed_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(kind="purchase", supplier__isnull=False, source_location__isnull=True)
                    | Q(kind="transfer", supplier__isnull=True, source_location__isnull=False)
                ),
                name="replenishment_proposal_kind_source",
            ),
            models.CheckConstraint(
                condition=Q(status="confirmed", document_id__isnull=False)
                | (~Q(status="confirmed") & Q(document_id__isnull=True)),
                name="replenishment_proposal_confirmed_has_document",
            ),
            # Re-running replaces open proposals: never two open ones for the same pair.
            models.UniqueConstraint(
                fields=["supplier", "location"],
                condition=Q(status="open", kind="purchase"),
                name="replenishment_proposal_open_purchase_unique",
            ),
            models.UniqueConstraint(
                fields=["source_location", "location"],
                condition=Q(status="open", kind="transfer"),
                name="replenishment_proposal_open_transfer_unique",
            ),
        ]
        indexes = [models.Index(fields=["status", "location"])]

    def __str__(self) -> str:
        return f"{self.kind} proposal {self.pk} ({self.status})"


class ReplenishmentProposalLine(models.Model):
    proposal = models.ForeignKey(
        ReplenishmentProposal, on_delete=models.CASCADE, related_name="lines"
    )
    product = models.ForeignKey("inventory.Product", on_delete=models.PROTECT, related_name="+")
    rule = models.ForeignKey(
        ReplenishmentRule, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    quantity = models.PositiveIntegerField(help_text="What will be ordered (staff may edit).")
    proposed_quantity = models.PositiveIntegerField()
    position = models.IntegerField(help_text="Free + in transit + on order - safety stock.")
    in_transit = models.IntegerField(default=0)
    on_order = models.IntegerField(default=0)
    average_daily_demand = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    lead_time_days = models.PositiveSmallIntegerField(default=0)
    explanation = models.TextField()

    class Meta:
        ordering = ["proposal_id", "product_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["proposal", "product"], name="replenishment_line_product_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x product {self.product_id}"
