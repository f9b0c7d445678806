"""Fulfillment: routing rules, routing decisions, fulfillment orders per location.

Routing rule sets map 1:1 onto the pure core's ``RuleSet`` / ``Rule``
(``fulfillment.routing.types``); ``fulfillment.services.rule_sets`` converts them. Every routing
run stores a ``RoutingDecision`` (inputs, verdicts, chosen plan), and every location that
serves part of an order gets a ``FulfillmentOrder`` whose status follows
``fulfillment.statuses.FULFILLMENT_TRANSITIONS``.
"""

from __future__ import annotations

from dataclasses import fields as dataclass_fields

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q

from fulfillment.routing.types import CostWeights, DeliveryMode, FailureAction, SplitKind
from fulfillment.statuses import FulfillmentStatus
from inventory.models import Location, Reservation
from omnilog.core.models import TimeStampedModel
from orders.models import Order, OrderLine

CONDITION_KEYS = {
    "channels": list,
    "delivery_modes": list,
    "countries": list,
    "min_priority": int,
    "promise_within_hours": int,
}


class LocationGroup(TimeStampedModel):
    """A named set of locations that rules may filter on (e.g. ``paris-stores``)."""

    name = models.SlugField(max_length=64, unique=True)
    description = models.CharField(max_length=200, blank=True, default="")
    locations = models.ManyToManyField(Location, blank=True, related_name="routing_groups")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class RoutingRuleSet(TimeStampedModel):
    """Ordered rules for the orders matching ``conditions``; the first matching set is used.

    ``version`` is bumped by every change (``fulfillment.services.rule_sets``), and each decision
    records the version it ran with. Draft sets are never used for live routing (what-if only).
    """

    name = models.SlugField(max_length=64, unique=True)
    description = models.CharField(max_length=200, blank=True, default="")
    priority = models.PositiveSmallIntegerField(
        default=100, help_text="Lower first: rule sets are tried in this order."
    )
    version = models.PositiveIntegerField(default=1)
    is_active = models.BooleanField(default=True)
    is_draft = models.BooleanField(default=False, help_text="What-if only, never live.")
    conditions = models.JSONField(
        default=dict,
        blank=True,
        help_text='Empty lists match everything, e.g. {"channels": ["web"], "delivery_modes": '
        '["click_and_collect"], "countries": ["FR"], "min_priority": 1, '
        '"promise_within_hours": 24}.',
    )
    weights = models.JSONField(
        default=dict,
        blank=True,
        help_text="Cost weights overriding the defaults, e.g. "
        '{"split_penalty": 6, "distance_per_km": 0.02}.',
    )

    class Meta:
        ordering = ["priority", "name"]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"

    def clean(self) -> None:
        errors: dict[str, list[str]] = {}
        if not isinstance(self.conditions, dict):
            errors["conditions"] = ["An object is expected."]
        else:
            for key, value in self.conditions.items():
                expected = CONDITION_KEYS.get(key)
                if expected is None:
                    errors.setdefault("conditions", []).append(f"Unknown condition {key!r}.")
                elif value is not None and not isinstance(value, expected):
                    errors.setdefault("conditions", []).append(
                        f"{key}: a {expected.__name__} is expected."
                    )
            modes = self.conditions.get("delivery_modes") or []
            unknown = [mode for mode in modes if mode not in set(DeliveryMode)]
            if unknown:
                errors.setdefault("conditions", []).append(f"Unknown delivery modes {unknown}.")
        known_weights = {field.name for field in dataclass_fields(CostWeights)}
        if not isinstance(self.weights, dict):
            errors["weights"] = ["An object is expected."]
        else:
            for key, value in self.weights.items():
                if key not in known_weights:
                    errors.setdefault("weights", []).append(f"Unknown weight {key!r}.")
                elif isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                    errors.setdefault("weights", []).append(f"{key}: a number >= 0 is expected.")
        if errors:
            raise ValidationError(errors)


class RoutingRule(models.Model):
    """One rule of a set: location filters, a split policy and what to do on failure."""

    class LocationKind(models.TextChoices):
        WAREHOUSE = "warehouse", "Warehouse"
        STORE = "store", "Store"
        DARK_STORE = "dark_store", "Dark store"

    rule_set = models.ForeignKey(RoutingRuleSet, on_delete=models.CASCADE, related_name="rules")
    position = models.PositiveSmallIntegerField(default=1)
    name = models.CharField(max_length=64)
    location_groups = models.ManyToManyField(
        LocationGroup, blank=True, related_name="rules", help_text="None: any group."
    )
    location_kinds = models.JSONField(
        default=list, blank=True, help_text='Empty: any kind, e.g. ["warehouse", "store"].'
    )
    max_distance_km = models.FloatField(null=True, blank=True)
    require_ship_from_store = models.BooleanField(default=False)
    require_capacity = models.BooleanField(default=True)
    respect_safety_stock = models.BooleanField(default=True)
    split = models.CharField(
        max_length=16,
        choices=[(kind.value, kind.value.replace("_", " ")) for kind in SplitKind],
        default=SplitKind.FREE,
    )
    max_locations = models.PositiveSmallIntegerField(default=1)
    on_failure = models.CharField(
        max_length=20,
        choices=[(action.value, action.value.replace("_", " ")) for action in FailureAction],
        default=FailureAction.NEXT_RULE,
    )
    cancel_after_days = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["rule_set_id", "position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["rule_set", "position"], name="routing_rule_position_unique"
            ),
            models.CheckConstraint(
                condition=Q(max_locations__gte=1), name="routing_rule_max_locations_gte_1"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.position}. {self.name}"

    def clean(self) -> None:
        kinds = self.location_kinds
        valid = {kind.value for kind in self.LocationKind}
        if not isinstance(kinds, list) or any(kind not in valid for kind in kinds):
            raise ValidationError({"location_kinds": f"A list of {sorted(valid)} is expected."})
        if self.on_failure == FailureAction.CANCEL_AFTER_DAYS and self.cancel_after_days < 1:
            raise ValidationError({"cancel_after_days": "At least one day."})


class RoutingDecision(models.Model):
    """One routing run of one order: what the core saw, why, and what it chose.

    ``order_version`` is the order's version the run was made for; one decision per version
    (routing bumps the version, so a redelivered task finds it moved on and does nothing).
    """

    class Trigger(models.TextChoices):
        PLACED = "placed", "Order placed"
        REJECTED = "rejected", "Lines rejected by a location"
        SLA_TIMEOUT = "sla_timeout", "Not accepted in time"
        ALLOCATION_CANCELLED = "allocation_cancelled", "Allocation cancelled"
        RETRY = "retry", "Retry (stock arrived / sweep)"
        MANUAL = "manual", "Manual"

    class Outcome(models.TextChoices):
        ROUTED = "routed", "Routed"
        PARTIAL = "partial", "Partly routed, rest backordered"
        PARKED = "parked", "Parked (waits for stock)"
        BACKORDERED = "backordered", "Backordered"
        CANCEL = "cancel", "Cancelled (short too long)"

    id = models.BigAutoField(primary_key=True)
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="routing_decisions")
    order_version = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)
    trigger = models.CharField(max_length=24, choices=Trigger.choices)
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    rule_set = models.CharField(max_length=64, blank=True, default="")
    rule_set_version = models.PositiveIntegerField(default=0)
    rule = models.CharField(max_length=64, blank=True, default="")
    rules_tried = models.JSONField(default=list, blank=True)
    total_cost = models.FloatField(default=0)
    cost_components = models.JSONField(default=dict, blank=True)
    demand = models.JSONField(default=dict, blank=True, help_text="The core's input demand.")
    candidates = models.JSONField(default=list, blank=True, help_text="The core's candidates.")
    verdicts = models.JSONField(default=list, blank=True, help_text="Failed filters, costs.")
    assignments = models.JSONField(default=list, blank=True)
    shortfalls = models.JSONField(default=list, blank=True)
    lost_races = models.JSONField(
        default=list, blank=True, help_text="Plans refused under lock before this one."
    )
    search = models.CharField(max_length=32, blank=True, default="")
    plans_evaluated = models.PositiveIntegerField(default=0)
    duration_ms = models.FloatField(default=0)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["order", "order_version"], name="routing_decision_order_version_unique"
            )
        ]
        indexes = [
            models.Index(fields=["order", "-id"]),
            models.Index(fields=["outcome", "created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.order_id} v{self.order_version}: {self.outcome}"


class FulfillmentOrder(TimeStampedModel):
    """The part of an order one location prepares."""

    class Status(models.TextChoices):
        """Same set as ``fulfillment.statuses.FulfillmentStatus`` (tested)."""

        CREATED = "created", "Created"
        ACCEPTED = "accepted", "Accepted"
        PICKING = "picking", "Picking"
        PICKED = "picked", "Picked"
        PACKED = "packed", "Packed"
        SHIPPED = "shipped", "Shipped"
        READY_FOR_PICKUP = "ready_for_pickup", "Ready for pickup"
        DELIVERED = "delivered", "Delivered"
        COLLECTED = "collected", "Collected"
        REJECTED = "rejected", "Rejected"
        CANCELLED = "cancelled", "Cancelled"

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="fulfillment_orders")
    location = models.ForeignKey(
        Location, on_delete=models.PROTECT, related_name="fulfillment_orders"
    )
    routing_decision = models.ForeignKey(
        RoutingDecision, on_delete=models.PROTECT, related_name="fulfillment_orders"
    )
    status = models.CharField(
        max_length=20, choices=Status.choices, default=FulfillmentStatus.CREATED
    )
    delivery_mode = models.CharField(max_length=20)
    accept_by = models.DateTimeField(help_text="The location must accept before this (SLA).")
    accepted_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        ordering = ["-id"]
        constraints = [
            # One routing run creates at most one fulfillment order per location: a replayed
            # run cannot duplicate them.
            models.UniqueConstraint(
                fields=["order", "location", "routing_decision"],
                name="fulfillment_order_once_per_decision",
            )
        ]
        indexes = [
            models.Index(fields=["location", "status", "-created_at"]),
            models.Index(fields=["accept_by"], condition=Q(status="created"), name="fo_sla_idx"),
            models.Index(fields=["order", "status"]),
        ]

    def __str__(self) -> str:
        return f"FO-{self.pk} {self.order_id}@{self.location_id} ({self.status})"


class FulfillmentOrderLine(models.Model):
    fulfillment_order = models.ForeignKey(
        FulfillmentOrder, on_delete=models.CASCADE, related_name="lines"
    )
    order_line = models.ForeignKey(OrderLine, on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField()
    quantity_rejected = models.PositiveIntegerField(default=0)
    rejection_reason = models.CharField(max_length=200, blank=True, default="")
    reservation = models.ForeignKey(
        Reservation, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["fulfillment_order_id", "id"]
        constraints = [
            # One line per (order line, reservation): units of one order line held by two
            # reservations at the location (two pool rows merged there) stay two lines.
            models.UniqueConstraint(
                fields=["fulfillment_order", "order_line", "reservation"],
                name="fulfillment_line_unique",
            ),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="fulfillment_line_qty_gt_0"),
            models.CheckConstraint(
                condition=Q(quantity_rejected__lte=F("quantity")),
                name="fulfillment_line_rejected_within_quantity",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.fulfillment_order_id}: {self.quantity} x line {self.order_line_id}"

    @property
    def quantity_open(self) -> int:
        return self.quantity - self.quantity_rejected
