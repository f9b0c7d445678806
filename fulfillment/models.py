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
    picked_at = models.DateTimeField(null=True, blank=True)
    packed_at = models.DateTimeField(null=True, blank=True)
    shipped_at = models.DateTimeField(null=True, blank=True)
    ready_for_pickup_at = models.DateTimeField(null=True, blank=True)
    collected_at = models.DateTimeField(null=True, blank=True)
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
    quantity_picked = models.PositiveIntegerField(default=0)
    quantity_packed = models.PositiveIntegerField(default=0)
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
            # A unit is either rejected or picked, never both; only picked units are packed.
            models.CheckConstraint(
                condition=Q(quantity__gte=F("quantity_rejected") + F("quantity_picked")),
                name="fulfillment_line_picked_within_open",
            ),
            models.CheckConstraint(
                condition=Q(quantity_packed__lte=F("quantity_picked")),
                name="fulfillment_line_packed_within_picked",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.fulfillment_order_id}: {self.quantity} x line {self.order_line_id}"

    @property
    def quantity_open(self) -> int:
        return self.quantity - self.quantity_rejected


# --- Picking and packing -----------------------------------------------------------------------
# The planner (``fulfillment.picking``) is pure; these rows are what the services persist from
# its plan and what scanning moves along. Bins live here, not on inventory's stock levels:
# a bin is a picking concern of one location.


class PickingStrategy(TimeStampedModel):
    """How one location picks: the planner's ``PickingStrategy`` fields (limits are maxima)."""

    class WalkPath(models.TextChoices):
        SERPENTINE = "serpentine", "Serpentine (S-shape)"
        SEQUENTIAL = "sequential", "Sequential (every aisle ascending)"

    location = models.OneToOneField(
        Location, on_delete=models.CASCADE, related_name="picking_strategy"
    )
    batch_max_lines = models.PositiveIntegerField(default=20)
    batch_max_units = models.PositiveIntegerField(default=40)
    cluster_totes = models.PositiveIntegerField(default=8)
    cluster_max_units = models.PositiveIntegerField(null=True, blank=True)
    max_wave_lines = models.PositiveIntegerField(default=400)
    hot_services = models.JSONField(
        default=list, blank=True, help_text='Empty: express and same-day, e.g. ["express"].'
    )
    wave_cutoffs = models.JSONField(
        default=list, blank=True, help_text='Times of day in the location\'s zone: ["11:00"].'
    )
    is_click_and_collect_own_wave = models.BooleanField(default=True)
    walk_path = models.CharField(max_length=16, choices=WalkPath.choices, default="serpentine")
    wave_lead_minutes = models.PositiveIntegerField(default=120)
    minimum_lead_minutes = models.PositiveIntegerField(default=20)
    aisle_change_bays = models.PositiveIntegerField(default=10)

    class Meta:
        verbose_name_plural = "picking strategies"
        constraints = [
            models.CheckConstraint(
                condition=Q(batch_max_lines__gte=1)
                & Q(batch_max_units__gte=1)
                & Q(cluster_totes__gte=1)
                & Q(max_wave_lines__gte=1),
                name="picking_strategy_limits_gte_1",
            )
        ]

    def __str__(self) -> str:
        return f"Picking strategy of location {self.location_id}"


class ProductBin(models.Model):
    """Where a product is picked at a location: a bin path such as ``A-03-2-B``."""

    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="product_bins")
    product = models.ForeignKey("inventory.Product", on_delete=models.CASCADE, related_name="bins")
    bin_location = models.CharField(max_length=32)

    class Meta:
        ordering = ["location_id", "bin_location"]
        constraints = [
            models.UniqueConstraint(fields=["location", "product"], name="product_bin_unique")
        ]

    def __str__(self) -> str:
        return f"{self.bin_location} @ {self.location_id}"


class PickWave(models.Model):
    """One wave of one planning run at a location (``code`` is the planner's ``W01``...)."""

    class Kind(models.TextChoices):
        HOT = "hot", "Hot (express, same-day)"
        CLICK_AND_COLLECT = "click_and_collect", "Click-and-collect"
        REGULAR = "regular", "Regular"

    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="pick_waves")
    code = models.CharField(max_length=16)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    cutoff_at = models.DateTimeField(null=True, blank=True)
    release_at = models.DateTimeField()
    planned_at = models.DateTimeField()
    carriers = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-planned_at", "code"]
        indexes = [models.Index(fields=["location", "-planned_at"])]

    def __str__(self) -> str:
        return f"{self.code} @ {self.location_id} ({self.planned_at:%Y-%m-%d %H:%M})"


class PickList(models.Model):
    """A batch (mono-line orders, sorted to pack) or cluster (one tote per order) walk."""

    class Kind(models.TextChoices):
        BATCH = "batch", "Batch"
        CLUSTER = "cluster", "Cluster"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        IN_PROGRESS = "in_progress", "In progress"
        DONE = "done", "Done"

    wave = models.ForeignKey(PickWave, on_delete=models.CASCADE, related_name="pick_lists")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="pick_lists")
    code = models.CharField(max_length=24, help_text="The planner's id, e.g. W01-B01.")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN)
    picker = models.CharField(max_length=150, blank=True, default="")
    order_count = models.PositiveIntegerField(default=0)
    line_count = models.PositiveIntegerField(default=0)
    unit_count = models.PositiveIntegerField(default=0)
    weight_grams = models.PositiveIntegerField(default=0)
    walk_score = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["location", "status", "id"])]
        permissions = [("pick_and_pack", "Can pick, pack, ship and hand over at a location")]

    def __str__(self) -> str:
        return f"PL-{self.pk} {self.code}"


class PickTask(models.Model):
    """One allocation of one stop: take ``quantity`` of ``sku`` at ``bin_location`` for one
    fulfillment-order line, into ``tote`` (cluster) or later to ``sort_slot`` (batch).

    Stops are the tasks sharing ``sequence`` in a list. An open task holds its line: a line is
    in at most one open task (planning twice never duplicates it).
    """

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        DONE = "done", "Done"

    pick_list = models.ForeignKey(PickList, on_delete=models.CASCADE, related_name="tasks")
    sequence = models.PositiveIntegerField()
    fulfillment_order_line = models.ForeignKey(
        FulfillmentOrderLine, on_delete=models.CASCADE, related_name="pick_tasks"
    )
    bin_location = models.CharField(max_length=32, blank=True, default="")
    sku = models.CharField(max_length=32)
    ean = models.CharField(max_length=14, blank=True, default="")
    quantity = models.PositiveIntegerField()
    quantity_picked = models.PositiveIntegerField(default=0)
    quantity_short = models.PositiveIntegerField(default=0)
    tote = models.PositiveIntegerField(null=True, blank=True)
    sort_slot = models.PositiveIntegerField(null=True, blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)

    class Meta:
        ordering = ["pick_list_id", "sequence", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["fulfillment_order_line"],
                condition=Q(status="open"),
                name="pick_task_one_open_per_line",
            ),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="pick_task_qty_gt_0"),
            models.CheckConstraint(
                condition=Q(quantity__gte=F("quantity_picked") + F("quantity_short")),
                name="pick_task_done_within_quantity",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.pick_list_id}#{self.sequence} {self.quantity} x {self.sku}"

    @property
    def quantity_remaining(self) -> int:
        return self.quantity - self.quantity_picked - self.quantity_short


class Parcel(TimeStampedModel):
    """A box being packed (open) or closed with its measured weight and dimensions."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        CLOSED = "closed", "Closed"

    fulfillment_order = models.ForeignKey(
        FulfillmentOrder, on_delete=models.CASCADE, related_name="parcels"
    )
    number = models.PositiveSmallIntegerField(help_text="1, 2, ... within the order.")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    box_code = models.CharField(max_length=16, blank=True, default="")
    suggested_box_code = models.CharField(max_length=16, blank=True, default="")
    weight_grams = models.PositiveIntegerField(default=0)
    length_mm = models.PositiveIntegerField(default=0)
    width_mm = models.PositiveIntegerField(default=0)
    height_mm = models.PositiveIntegerField(default=0)
    packed_by = models.CharField(max_length=150, blank=True, default="")
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["fulfillment_order_id", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["fulfillment_order", "number"], name="parcel_number_unique"
            ),
            models.UniqueConstraint(
                fields=["fulfillment_order"],
                condition=Q(status="open"),
                name="parcel_one_open_per_fulfillment_order",
            ),
        ]

    def __str__(self) -> str:
        return f"FO-{self.fulfillment_order_id} parcel {self.number} ({self.status})"


class PackedItem(models.Model):
    """Units of one fulfillment-order line scanned into one parcel."""

    parcel = models.ForeignKey(Parcel, on_delete=models.CASCADE, related_name="items")
    fulfillment_order_line = models.ForeignKey(
        FulfillmentOrderLine, on_delete=models.CASCADE, related_name="packed_items"
    )
    quantity = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["parcel_id", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["parcel", "fulfillment_order_line"], name="packed_item_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x line {self.fulfillment_order_line_id} in {self.parcel_id}"


from fulfillment.models_shipping import *  # noqa: E402, F403
from fulfillment.models_store import *  # noqa: E402, F403
