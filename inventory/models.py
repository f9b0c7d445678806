"""Locations, products, stock levels, the stock movement ledger, reservations and feeds.

Stock rules (docs/architecture.md, "Stock"):
- ``StockLevel`` counters are a projection of ``StockMovement``: every counter change is one
  ledger row written in the same transaction by ``inventory.services`` (the only writer).
- PostgreSQL enforces the invariants: counters never negative; reserved + damaged + quality
  control never exceed on hand (CHECK constraints); the ledger refuses UPDATE and DELETE
  (trigger, migration 0002).
- ATP at a location = on hand - reserved - damaged - quality control - safety stock, published
  as max(0, ATP).
"""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import F, Q

from channels_app.models import SalesChannel
from omnilog.core.models import TimeStampedModel


class Location(TimeStampedModel):
    """A place that holds stock. Relay points are not stock locations (see fulfillment)."""

    class Kind(models.TextChoices):
        WAREHOUSE = "warehouse", "Warehouse"
        STORE = "store", "Store"
        DARK_STORE = "dark_store", "Dark store"

    code = models.SlugField(max_length=32, unique=True)
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    address_line = models.CharField(max_length=200, blank=True, default="")
    postcode = models.CharField(max_length=16, blank=True, default="")
    city = models.CharField(max_length=100, blank=True, default="")
    country = models.CharField(max_length=2, default="FR")
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    timezone = models.CharField(max_length=64, default="Europe/Paris")
    opening_hours = models.JSONField(
        default=dict,
        blank=True,
        help_text='Per weekday, e.g. {"mon": [["09:00", "19:00"]], "sun": []}.',
    )
    closed_days = models.JSONField(
        default=list, blank=True, help_text='ISO dates, e.g. ["2026-12-25"].'
    )
    ships_parcels = models.BooleanField(default=False)
    is_click_and_collect = models.BooleanField(default=False)
    is_ship_from_store = models.BooleanField(default=False)
    accepts_returns = models.BooleanField(default=False)
    daily_capacity = models.PositiveIntegerField(default=0, help_text="Orders per day; 0 = none.")
    pick_minutes = models.PositiveSmallIntegerField(default=5)
    pack_minutes = models.PositiveSmallIntegerField(default=5)
    channels = models.ManyToManyField(SalesChannel, blank=True, related_name="locations")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]
        indexes = [models.Index(fields=["kind", "is_active"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class Product(TimeStampedModel):
    """A stock-keeping unit. ``kind`` leaves room for kits (bundles of SKUs)."""

    class Kind(models.TextChoices):
        SIMPLE = "simple", "Simple"

    sku = models.CharField(max_length=32, unique=True)
    ean = models.CharField(max_length=14, unique=True, null=True, blank=True)
    name = models.CharField(max_length=200)
    category = models.CharField(max_length=64, db_index=True, blank=True, default="")
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.SIMPLE)
    weight_grams = models.PositiveIntegerField(default=0)
    length_mm = models.PositiveIntegerField(default=0)
    width_mm = models.PositiveIntegerField(default=0)
    height_mm = models.PositiveIntegerField(default=0)
    tax_class = models.CharField(
        max_length=16,
        default="standard",
        help_text="Tax class the pricing engine looks up per market (standard, reduced, ...).",
    )
    hs_code = models.CharField(max_length=12, blank=True, default="")
    country_of_origin = models.CharField(max_length=2, blank=True, default="")
    is_backorderable = models.BooleanField(default=False)
    preorder_date = models.DateField(null=True, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["sku"]

    def __str__(self) -> str:
        return f"{self.sku} {self.name}"


class StockLevel(models.Model):
    """Counters per (product, location). Written only by ``inventory.services``."""

    # No single-column FK indexes: (product, location) is unique and (location, product) is
    # indexed, so both lead with each key; two fewer indexes to write on 1M+ rows.
    product = models.ForeignKey(
        Product, on_delete=models.PROTECT, related_name="stock_levels", db_index=False
    )
    location = models.ForeignKey(
        Location, on_delete=models.PROTECT, related_name="stock_levels", db_index=False
    )
    on_hand = models.IntegerField(default=0, help_text="Physical units, damaged and QC included.")
    reserved = models.IntegerField(default=0, help_text="Units promised to orders and holds.")
    damaged = models.IntegerField(default=0)
    quality_control = models.IntegerField(default=0)
    safety_stock = models.IntegerField(
        default=0, help_text="Buffer kept out of ATP (configuration, not a physical quantity)."
    )
    in_transit = models.IntegerField(default=0, help_text="Units travelling towards here.")
    incoming = models.IntegerField(default=0, help_text="Units expected from suppliers.")
    incoming_expected_date = models.DateField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["product", "location"], name="stock_level_unique"),
            models.CheckConstraint(condition=Q(on_hand__gte=0), name="stock_on_hand_gte_0"),
            models.CheckConstraint(condition=Q(reserved__gte=0), name="stock_reserved_gte_0"),
            models.CheckConstraint(condition=Q(damaged__gte=0), name="stock_damaged_gte_0"),
            models.CheckConstraint(
                condition=Q(quality_control__gte=0), name="stock_quality_control_gte_0"
            ),
            models.CheckConstraint(
                condition=Q(safety_stock__gte=0), name="stock_safety_stock_gte_0"
            ),
            models.CheckConstraint(condition=Q(in_transit__gte=0), name="stock_in_transit_gte_0"),
            models.CheckConstraint(condition=Q(incoming__gte=0), name="stock_incoming_gte_0"),
            # Nothing is promised or set aside that is not physically there.
            models.CheckConstraint(
                condition=Q(on_hand__gte=F("reserved") + F("damaged") + F("quality_control")),
                name="stock_allocations_within_on_hand",
            ),
        ]
        indexes = [models.Index(fields=["location", "product"])]

    def __str__(self) -> str:
        return f"{self.product_id}@{self.location_id}: {self.on_hand} on hand"

    @property
    def atp(self) -> int:
        """Available to promise here, never negative as published."""
        return max(
            0,
            self.on_hand - self.reserved - self.damaged - self.quality_control - self.safety_stock,
        )


class StockMovement(models.Model):
    """Append-only ledger: one row per change of any stock counter.

    Summing the deltas per stock level gives its counters (``manage.py stock_check``).
    ``occurred_at`` is when the change happened at the source (a snapshot's as-of time);
    ``recorded_at`` is when Omnilog wrote it (used to replay changes after a late snapshot).
    """

    class Kind(models.TextChoices):
        RECEIPT = "receipt", "Receipt"
        SALE = "sale", "Sale / commit"
        RESERVATION = "reservation", "Reservation"
        RELEASE = "release", "Release"
        EXPIRY = "expiry", "Hold expired"
        ALLOCATION = "allocation", "Allocation (moved between locations)"
        TRANSFER_OUT = "transfer_out", "Transfer out"
        TRANSFER_IN = "transfer_in", "Transfer in"
        ADJUSTMENT = "adjustment", "Adjustment"
        COUNT = "count", "Count / snapshot"
        RETURN = "return", "Return"
        DAMAGE = "damage", "Damage"
        QC_HOLD = "qc_hold", "Quality-control hold"
        QC_RELEASE = "qc_release", "Quality-control release"
        INCOMING = "incoming", "Incoming from supplier"
        SHORTAGE = "shortage", "Reservation shorted by a stock loss"
        REPAIR = "repair", "Integrity repair"

    id = models.BigAutoField(primary_key=True)
    # Indexed by (stock_level, id) below, which serves every lookup by level.
    stock_level = models.ForeignKey(
        StockLevel, on_delete=models.PROTECT, related_name="movements", db_index=False
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    delta_on_hand = models.IntegerField(default=0)
    delta_reserved = models.IntegerField(default=0)
    delta_damaged = models.IntegerField(default=0)
    delta_quality_control = models.IntegerField(default=0)
    delta_in_transit = models.IntegerField(default=0)
    delta_incoming = models.IntegerField(default=0)
    reason = models.CharField(max_length=200, blank=True, default="")
    reference_type = models.CharField(max_length=32, blank=True, default="")
    reference_id = models.CharField(max_length=64, blank=True, default="")
    actor = models.CharField(max_length=150, blank=True, default="")
    source = models.CharField(
        max_length=64, blank=True, default="", help_text="api, admin, wms:<code>, pos:<code>, ..."
    )
    occurred_at = models.DateTimeField()
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["stock_level", "id"]),
            # The snapshot replay reads recent non-snapshot rows only (inventory.services.feeds):
            # leaving snapshot rows out keeps a replay from scanning the previous snapshot's.
            models.Index(
                fields=["recorded_at"],
                condition=~Q(reference_type="feed_job"),
                name="stock_movement_replay_idx",
            ),
            models.Index(fields=["reference_type", "reference_id"]),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.kind} on level {self.stock_level_id}"


class Reservation(TimeStampedModel):
    """Units held at one stock level for an order line or a short hold.

    ``scope = pool``: a network-level promise (home delivery) parked on one of the channel's
    locations; routing may move it. ``scope = location``: bound to that location (click-and-
    collect store, or allocated by routing). ``quantity`` is what is still held; it reaches 0
    when the reservation is committed, released or expired.
    """

    class Kind(models.TextChoices):
        ORDER = "order", "Order"
        HOLD = "hold", "Short hold (cart, quote)"

    class Scope(models.TextChoices):
        POOL = "pool", "Channel pool"
        LOCATION = "location", "Location"

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        COMMITTED = "committed", "Committed"
        RELEASED = "released", "Released"
        EXPIRED = "expired", "Expired"

    stock_level = models.ForeignKey(
        StockLevel, on_delete=models.PROTECT, related_name="reservations"
    )
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="+")
    channel = models.ForeignKey(
        SalesChannel, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.ORDER)
    scope = models.CharField(max_length=8, choices=Scope.choices, default=Scope.LOCATION)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    quantity = models.IntegerField(help_text="Units still held.")
    quantity_committed = models.IntegerField(default=0)
    reference_type = models.CharField(max_length=32, blank=True, default="")
    reference_id = models.CharField(max_length=64, blank=True, default="")
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=0), name="reservation_quantity_gte_0"),
            models.CheckConstraint(
                condition=Q(quantity_committed__gte=0), name="reservation_committed_gte_0"
            ),
            models.CheckConstraint(
                condition=Q(status="active", quantity__gt=0) | ~Q(status="active"),
                name="reservation_active_holds_units",
            ),
        ]
        indexes = [
            models.Index(
                fields=["expires_at"],
                condition=Q(status="active", expires_at__isnull=False),
                name="reservation_expiry_idx",
            ),
            models.Index(fields=["reference_type", "reference_id"]),
            models.Index(fields=["stock_level", "status"]),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.quantity} x {self.product_id}@{self.location_id} ({self.status})"


class ChannelStockRule(models.Model):
    """A channel buffer for one product or one category, overriding the channel's default."""

    channel = models.ForeignKey(SalesChannel, on_delete=models.CASCADE, related_name="stock_rules")
    product = models.ForeignKey(Product, null=True, blank=True, on_delete=models.CASCADE)
    category = models.CharField(max_length=64, blank=True, default="")
    buffer_units = models.PositiveIntegerField(default=0)
    buffer_percent = models.PositiveSmallIntegerField(default=0)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(Q(product__isnull=False) & Q(category=""))
                | (Q(product__isnull=True) & ~Q(category="")),
                name="channel_stock_rule_product_xor_category",
            ),
            models.CheckConstraint(
                condition=Q(buffer_percent__lte=100), name="channel_stock_rule_percent_lte_100"
            ),
            models.UniqueConstraint(
                fields=["channel", "product"],
                condition=Q(product__isnull=False),
                name="channel_stock_rule_product_unique",
            ),
            models.UniqueConstraint(
                fields=["channel", "category"],
                condition=~Q(category=""),
                name="channel_stock_rule_category_unique",
            ),
        ]

    def __str__(self) -> str:
        target = (self.product_id and f"product {self.product_id}") or f"category {self.category}"
        return f"{self.channel_id}: {target}"


class FeedSource(TimeStampedModel):
    """A system that reports stock (a WMS, a store till), with its ordering cursor."""

    class Kind(models.TextChoices):
        WMS = "wms", "Warehouse management system"
        POS = "pos", "Store till"
        ERP = "erp", "ERP"

    code = models.SlugField(max_length=32, unique=True)
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    locations = models.ManyToManyField(Location, blank=True, related_name="feed_sources")
    last_sequence = models.BigIntegerField(default=0)
    last_snapshot_at = models.DateTimeField(null=True, blank=True)
    is_resync_requested = models.BooleanField(default=False)

    def __str__(self) -> str:
        return self.code


class FeedMessage(models.Model):
    """A delta message from a source: applied once, in sequence order."""

    class Status(models.TextChoices):
        HELD = "held", "Held (waiting for a gap to fill)"
        APPLIED = "applied", "Applied"
        REJECTED = "rejected", "Rejected"
        SUPERSEDED = "superseded", "Superseded by a snapshot"

    source = models.ForeignKey(FeedSource, on_delete=models.CASCADE, related_name="messages")
    message_id = models.CharField(max_length=100)
    sequence = models.BigIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices)
    payload = models.JSONField()
    occurred_at = models.DateTimeField()
    received_at = models.DateTimeField(auto_now_add=True)
    applied_at = models.DateTimeField(null=True, blank=True)
    errors = models.JSONField(default=list, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "message_id"], name="feed_message_id_unique"),
            models.UniqueConstraint(fields=["source", "sequence"], name="feed_message_seq_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.source_id}#{self.sequence} {self.status}"


class FeedJob(TimeStampedModel):
    """A snapshot import run on the ``stock`` queue, with progress and row errors."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        REJECTED = "rejected", "Rejected (bad rows, nothing applied)"

    class Mode(models.TextChoices):
        ALL_OR_NOTHING = "all_or_nothing", "All or nothing"
        APPLY_VALID = "apply_valid", "Apply valid rows"

    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        JSON = "json", "JSON"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    source = models.ForeignKey(FeedSource, on_delete=models.PROTECT, related_name="jobs")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    mode = models.CharField(max_length=16, choices=Mode.choices, default=Mode.ALL_OR_NOTHING)
    format = models.CharField(max_length=4, choices=Format.choices, default=Format.CSV)
    as_of = models.DateTimeField()
    sequence = models.BigIntegerField(
        null=True, blank=True, help_text="The source's last sequence included in the snapshot."
    )
    file_path = models.CharField(max_length=500)
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    changed_rows = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True, help_text="The first row errors.")
    message = models.TextField(blank=True, default="")
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"snapshot {self.id} from {self.source_id} ({self.status})"


from inventory.models_master_data import *  # noqa: E402, F403
from inventory.models_replenishment import *  # noqa: E402, F403
from inventory.models_supply import *  # noqa: E402, F403
