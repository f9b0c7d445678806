"""Refunds and claims (imported by ``returns.models``).

A ``Refund`` gives money back for a return request or a claim (exactly one of them). Omnilog does
not move money: requesting a refund writes ``return.refund_requested`` (or
``claim.refund_requested``) to the outbox with the refund's ``reference``; the payment system
answers with a confirmation or a failure for that reference (``external_reference`` is its own
id). At most one refund per return request or claim is pending at a time.

A ``Claim`` is a parcel lost or damaged in transit: reshipped (a replacement order) or refunded,
without a physical return. Its lines count against the returnable quantity of the order lines.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from channels_app.models import SalesChannel
from fulfillment.models_shipping import Shipment
from omnilog.core.models import TimeStampedModel
from orders.models import Order, OrderLine
from returns.statuses import ClaimStatus


class Claim(TimeStampedModel):
    class Kind(models.TextChoices):
        LOST = "lost", "Parcel lost"
        DAMAGED = "damaged", "Parcel damaged in transit"

    class Resolution(models.TextChoices):
        RESHIP = "reship", "Reship"
        REFUND = "refund", "Refund"

    class Status(models.TextChoices):
        """Same set as ``returns.statuses.ClaimStatus`` (tested)."""

        OPEN = "open", "Open"
        RESOLVED = "resolved", "Resolved"
        REFUSED = "refused", "Refused"

    number = models.CharField(max_length=20, unique=True)
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="claims")
    channel = models.ForeignKey(
        SalesChannel, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    shipment = models.ForeignKey(
        Shipment, null=True, blank=True, on_delete=models.PROTECT, related_name="claims"
    )
    kind = models.CharField(max_length=8, choices=Kind.choices)
    resolution = models.CharField(max_length=8, choices=Resolution.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=ClaimStatus.OPEN)
    replacement_order = models.ForeignKey(
        Order, null=True, blank=True, on_delete=models.PROTECT, related_name="replacing_claims"
    )
    notes = models.TextField(blank=True, default="", max_length=2000)
    photo_urls = models.JSONField(default=list, blank=True)
    refusal_reason = models.CharField(max_length=300, blank=True, default="")
    created_by = models.CharField(max_length=150, blank=True, default="")
    resolved_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="refused") | ~Q(refusal_reason=""),
                name="claim_refused_has_reason",
            ),
            models.CheckConstraint(
                condition=Q(replacement_order__isnull=True) | Q(resolution="reship"),
                name="claim_replacement_only_for_reship",
            ),
        ]
        indexes = [models.Index(fields=["order", "status"])]

    def __str__(self) -> str:
        return self.number


class ClaimLine(models.Model):
    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey(OrderLine, on_delete=models.PROTECT, related_name="claim_lines")
    quantity = models.PositiveIntegerField()

    class Meta:
        ordering = ["claim_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["claim", "order_line"], name="claim_line_once"),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="claim_line_qty_gte_1"),
        ]

    def __str__(self) -> str:
        return f"{self.claim_id}: {self.quantity} x line {self.order_line_id}"


class Refund(TimeStampedModel):
    class Document(models.TextChoices):
        REFUND = "refund", "Refund"
        CREDIT_NOTE = "credit_note", "Credit note (B2B)"

    class Status(models.TextChoices):
        REQUESTED = "requested", "Requested"
        CONFIRMED = "confirmed", "Confirmed"
        FAILED = "failed", "Failed"

    reference = models.CharField(max_length=20, unique=True, help_text="Ours: RF-000123.")
    return_request = models.ForeignKey(
        "returns.ReturnRequest",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="refunds",
    )
    claim = models.ForeignKey(
        Claim, null=True, blank=True, on_delete=models.PROTECT, related_name="refunds"
    )
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="refunds")
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    tax_amount = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    shipping_amount = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    restocking_fee = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    currency = models.CharField(max_length=3)
    breakdown = models.JSONField(default=dict, blank=True, help_text="The quote, line by line.")
    document = models.CharField(max_length=12, choices=Document.choices, default=Document.REFUND)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.REQUESTED)
    external_reference = models.CharField(max_length=100, blank=True, default="")
    failure_reason = models.CharField(max_length=300, blank=True, default="")
    requested_by = models.CharField(max_length=150, blank=True, default="")
    requested_at = models.DateTimeField()
    confirmed_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(return_request__isnull=True, claim__isnull=False)
                | Q(return_request__isnull=False, claim__isnull=True),
                name="refund_for_return_xor_claim",
            ),
            models.CheckConstraint(condition=Q(amount__gte=0), name="refund_amount_gte_0"),
            models.CheckConstraint(
                condition=Q(tax_amount__gte=0)
                & Q(shipping_amount__gte=0)
                & Q(restocking_fee__gte=0),
                name="refund_parts_gte_0",
            ),
            models.CheckConstraint(
                condition=~Q(status="confirmed") | Q(confirmed_at__isnull=False),
                name="refund_confirmed_has_time",
            ),
            models.UniqueConstraint(
                fields=["return_request"],
                condition=Q(status="requested", return_request__isnull=False),
                name="refund_one_pending_per_return",
            ),
            models.UniqueConstraint(
                fields=["claim"],
                condition=Q(status="requested", claim__isnull=False),
                name="refund_one_pending_per_claim",
            ),
        ]
        indexes = [models.Index(fields=["status", "requested_at"])]

    def __str__(self) -> str:
        return self.reference
