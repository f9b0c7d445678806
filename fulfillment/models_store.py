"""Store screens: who works in which store, each store's pickup policy, pickup codes, handovers.

Every store screen and action is scoped server-side by ``StoreStaff`` (a user sees only the
stores they belong to; another store's order is a 404). ``StorePolicy`` holds the per-store
settings of click-and-collect (pickup slots, no-show delays, curbside bays, code attempts).
A ``PickupCode`` is issued when a pickup order becomes ready: only its HMAC digest is stored;
the 6-digit code and its QR go to the customer by e-mail. Each ``Handover`` records who took
which units (proxy pickups, ID check, partial handovers).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from fulfillment.models import FulfillmentOrder, FulfillmentOrderLine
from inventory.models import Location
from omnilog.core.models import TimeStampedModel

__all__ = ["Handover", "HandoverLine", "PickupCode", "StorePolicy", "StoreStaff"]


class StoreStaff(TimeStampedModel):
    """A user's membership of one store, with a role there."""

    class Role(models.TextChoices):
        ASSOCIATE = "associate", "Associate"
        MANAGER = "manager", "Store manager"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="store_memberships"
    )
    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="staff")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.ASSOCIATE)

    class Meta:
        ordering = ["location_id", "user_id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "location"], name="store_staff_once"),
        ]
        verbose_name_plural = "store staff"

    def __str__(self) -> str:
        return f"{self.user_id}@{self.location_id} ({self.role})"


class StorePolicy(TimeStampedModel):
    """Click-and-collect settings of one store; a store without a row uses the defaults."""

    location = models.OneToOneField(
        Location, on_delete=models.CASCADE, primary_key=True, related_name="store_policy"
    )
    slot_minutes = models.PositiveSmallIntegerField(default=60)
    slot_capacity = models.PositiveSmallIntegerField(
        default=8, help_text="Pickup orders the store can prepare per slot."
    )
    preparation_minutes = models.PositiveSmallIntegerField(
        default=120, help_text="Earliest slot starts this long after ordering (opening hours)."
    )
    slot_days_ahead = models.PositiveSmallIntegerField(default=3)
    no_show_reminder_days = models.PositiveSmallIntegerField(default=3)
    no_show_cancel_days = models.PositiveSmallIntegerField(default=7)
    curbside_bays = models.PositiveSmallIntegerField(default=4)
    code_max_attempts = models.PositiveSmallIntegerField(
        default=5, help_text="Wrong pickup codes accepted before the order's code is locked."
    )
    code_valid_days = models.PositiveSmallIntegerField(default=14)

    class Meta:
        verbose_name_plural = "store policies"
        constraints = [
            models.CheckConstraint(
                condition=Q(slot_minutes__gte=15) & Q(slot_capacity__gte=1),
                name="store_policy_slot_sane",
            ),
            models.CheckConstraint(
                condition=Q(no_show_cancel_days__gt=F("no_show_reminder_days")),
                name="store_policy_cancel_after_reminder",
            ),
            models.CheckConstraint(
                condition=Q(code_max_attempts__gte=1), name="store_policy_attempts_gte_1"
            ),
        ]

    def __str__(self) -> str:
        return f"policy of {self.location_id}"


class PickupCode(TimeStampedModel):
    """The secret a customer shows to collect one fulfillment order (digest only)."""

    fulfillment_order = models.OneToOneField(
        FulfillmentOrder, on_delete=models.CASCADE, related_name="pickup_code"
    )
    digest = models.CharField(max_length=64, help_text="HMAC-SHA256 of the 6-digit code.")
    expires_at = models.DateTimeField()
    failed_attempts = models.PositiveSmallIntegerField(default=0)
    locked_at = models.DateTimeField(null=True, blank=True)
    used_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True, help_text="No-show reminder sent.")

    def __str__(self) -> str:
        return f"pickup code of FO-{self.fulfillment_order_id}"


class Handover(TimeStampedModel):
    """One handover at the counter or curbside: who collected, checked how."""

    class Relation(models.TextChoices):
        CUSTOMER = "customer", "The customer"
        PROXY = "proxy", "Someone on the customer's behalf"

    fulfillment_order = models.ForeignKey(
        FulfillmentOrder, on_delete=models.PROTECT, related_name="handovers"
    )
    actor = models.CharField(max_length=150)
    relation = models.CharField(max_length=12, choices=Relation.choices)
    collector_name = models.CharField(max_length=150, blank=True, default="")
    proxy_relation = models.CharField(max_length=64, blank=True, default="")
    id_checked = models.BooleanField(default=False)
    curbside_bay = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(relation="customer") | ~Q(collector_name=""),
                name="handover_proxy_named",
            ),
        ]

    def __str__(self) -> str:
        return f"handover {self.pk} of FO-{self.fulfillment_order_id}"


class HandoverLine(models.Model):
    handover = models.ForeignKey(Handover, on_delete=models.CASCADE, related_name="lines")
    fulfillment_order_line = models.ForeignKey(
        FulfillmentOrderLine, on_delete=models.PROTECT, related_name="handover_lines"
    )
    quantity = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="handover_line_qty_gte_1"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x line {self.fulfillment_order_line_id}"
