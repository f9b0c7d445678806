"""Carriers, shipments and their tracking events, relay points, transfer orders.

Shipment and transfer statuses follow the tables in ``fulfillment.shipping_statuses``; only
``fulfillment.services`` changes them. Labels and commercial invoices are stored as PDF bytes
in the row (written in the same transaction as the shipment: a rolled-back creation leaves no
orphan file, and every web process serves them without shared storage).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q

from fulfillment.carriers.types import Service
from fulfillment.customs.types import DeclarationForm, Incoterm
from fulfillment.models import FulfillmentOrder
from fulfillment.shipping_statuses import ShipmentStatus, TransferStatus
from inventory.models import Location, Product, Reservation
from omnilog.core.models import TimeStampedModel, webhook_secret_new
from omnilog.core.webhooks import WebhookVerificationError, secret_check
from orders.models import Order

__all__ = [
    "Carrier",
    "RelayPoint",
    "Shipment",
    "ShipmentEvent",
    "TransferLine",
    "TransferOrder",
]

SERVICE_CHOICES = [(service.value, service.value.replace("_", " ")) for service in Service]


class Carrier(TimeStampedModel):
    """A carrier account. ``adapter_code`` names the adapter in ``fulfillment.carriers``'
    registry (``omnilog-rates`` is the built-in rate table); ``webhook_secret`` verifies the
    carrier's signed status webhooks (Standard Webhooks, ``whsec_...``)."""

    code = models.SlugField(max_length=32, unique=True)
    name = models.CharField(max_length=120)
    adapter_code = models.CharField(max_length=64, default="omnilog-rates")
    webhook_secret = models.CharField(max_length=100, default=webhook_secret_new)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    def clean(self) -> None:
        try:
            secret_check(self.webhook_secret)
        except WebhookVerificationError as error:
            raise ValidationError(
                {"webhook_secret": f"Not a valid webhook secret: {error} (whsec_ + base64)."}
            ) from error


class RelayPoint(TimeStampedModel):
    """A carrier's pick-up shop or parcel locker. Size limits: sides sorted from the longest
    (``max_length_mm >= max_width_mm >= max_height_mm``); a null limit is no limit."""

    carrier = models.ForeignKey(Carrier, on_delete=models.PROTECT, related_name="relay_points")
    point_id = models.CharField(max_length=64, help_text="The carrier's id of the point.")
    name = models.CharField(max_length=120)
    address_line = models.CharField(max_length=200, blank=True, default="")
    postcode = models.CharField(max_length=16, blank=True, default="")
    city = models.CharField(max_length=100, blank=True, default="")
    country = models.CharField(max_length=2, default="FR")
    latitude = models.FloatField()
    longitude = models.FloatField()
    opening_hours = models.JSONField(
        default=dict,
        blank=True,
        help_text='Per weekday, e.g. {"mon": [["09:00", "19:00"]], "sun": []}; lockers 24/7: '
        '{"mon": [["00:00", "24:00"]], ...}.',
    )
    max_weight_grams = models.PositiveIntegerField(null=True, blank=True)
    max_length_mm = models.PositiveIntegerField(null=True, blank=True)
    max_width_mm = models.PositiveIntegerField(null=True, blank=True)
    max_height_mm = models.PositiveIntegerField(null=True, blank=True)
    is_locker = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["carrier_id", "point_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["carrier", "point_id"], name="relay_point_unique_per_carrier"
            ),
            models.CheckConstraint(
                condition=Q(latitude__gte=-90, latitude__lte=90)
                & Q(longitude__gte=-180, longitude__lte=180),
                name="relay_point_coordinates_valid",
            ),
            # Sorted sides: a parcel's sorted sides are compared one by one.
            models.CheckConstraint(
                condition=Q(max_length_mm__isnull=True)
                | Q(max_width_mm__isnull=True)
                | Q(max_length_mm__gte=F("max_width_mm")),
                name="relay_point_length_gte_width",
            ),
            models.CheckConstraint(
                condition=Q(max_width_mm__isnull=True)
                | Q(max_height_mm__isnull=True)
                | Q(max_width_mm__gte=F("max_height_mm")),
                name="relay_point_width_gte_height",
            ),
        ]
        indexes = [models.Index(fields=["is_active", "carrier"])]

    def __str__(self) -> str:
        return f"{self.point_id} {self.name}"


class Shipment(TimeStampedModel):
    """What one carrier takes from one fulfillment order: one or more parcels, one label each.

    ``tracking_number`` is the first parcel's (the shipment's master number); ``parcels``
    lists every parcel with its own number, weight and sides. ``weight_grams`` is the total,
    ``length_mm``/``width_mm``/``height_mm`` the sides of the largest parcel.
    """

    class Status(models.TextChoices):
        """Same set as ``fulfillment.shipping_statuses.ShipmentStatus`` (tested)."""

        LABEL_CREATED = "label_created", "Label created"
        IN_TRANSIT = "in_transit", "In transit"
        OUT_FOR_DELIVERY = "out_for_delivery", "Out for delivery"
        FAILED_ATTEMPT = "failed_attempt", "Failed delivery attempt"
        DELIVERED = "delivered", "Delivered"
        RETURNED_TO_SENDER = "returned_to_sender", "Returned to sender"
        CANCELLED = "cancelled", "Cancelled"

    fulfillment_order = models.ForeignKey(
        FulfillmentOrder, on_delete=models.PROTECT, related_name="shipments"
    )
    carrier = models.ForeignKey(Carrier, on_delete=models.PROTECT, related_name="shipments")
    service = models.CharField(max_length=16, choices=SERVICE_CHOICES)
    tracking_number = models.CharField(max_length=64)
    status = models.CharField(
        max_length=20, choices=Status.choices, default=ShipmentStatus.LABEL_CREATED
    )
    relay_point = models.ForeignKey(
        RelayPoint, null=True, blank=True, on_delete=models.PROTECT, related_name="shipments"
    )
    parcels = models.JSONField(default=list, blank=True)
    weight_grams = models.PositiveIntegerField()
    length_mm = models.PositiveIntegerField()
    width_mm = models.PositiveIntegerField()
    height_mm = models.PositiveIntegerField()
    zone = models.CharField(max_length=16, blank=True, default="")
    price = models.DecimalField(max_digits=10, decimal_places=2)
    currency = models.CharField(max_length=3, default="EUR")
    label_pdf = models.BinaryField(editable=False)
    incoterm = models.CharField(
        max_length=3,
        choices=[(term.value, term.value) for term in Incoterm],
        blank=True,
        default="",
        help_text="Set for parcels leaving the EU customs or VAT territory.",
    )
    customs_form = models.CharField(
        max_length=4,
        choices=[(form.value, form.value) for form in DeclarationForm],
        blank=True,
        default="",
    )
    customs_data = models.JSONField(
        default=dict, blank=True, help_text="CN22/CN23 fields, duties estimate, invoice data."
    )
    commercial_invoice_pdf = models.BinaryField(null=True, blank=True, editable=False)
    shipped_at = models.DateTimeField(null=True, blank=True, help_text="First carrier scan.")
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_by = models.CharField(max_length=150, blank=True, default="")

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["carrier", "tracking_number"], name="shipment_tracking_unique"
            ),
            # One live shipment per fulfillment order: a double click cannot buy two labels.
            models.UniqueConstraint(
                fields=["fulfillment_order"],
                condition=~Q(status="cancelled"),
                name="shipment_one_live_per_fulfillment_order",
            ),
            models.CheckConstraint(condition=Q(weight_grams__gt=0), name="shipment_weight_gt_0"),
        ]
        indexes = [models.Index(fields=["status", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.carrier_id}:{self.tracking_number} ({self.status})"


class ShipmentEvent(models.Model):
    """A status event of a shipment: ours (label created, cancelled) or the carrier's webhook.

    ``carrier_event_id`` is the webhook's ``webhook-id``: unique per carrier, so a redelivered
    webhook is recognised and changes nothing. Our own events have none.
    """

    id = models.BigAutoField(primary_key=True)
    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="events")
    carrier = models.ForeignKey(Carrier, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=20, choices=Shipment.Status.choices)
    from_status = models.CharField(max_length=20, blank=True, default="")
    is_status_change = models.BooleanField(default=True)
    occurred_at = models.DateTimeField()
    received_at = models.DateTimeField(auto_now_add=True)
    description = models.CharField(max_length=300, blank=True, default="")
    place = models.CharField(max_length=120, blank=True, default="")
    carrier_event_id = models.CharField(max_length=128, blank=True, default="")
    raw_payload = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["shipment_id", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["carrier", "carrier_event_id"],
                condition=~Q(carrier_event_id=""),
                name="shipment_event_carrier_id_unique",
            )
        ]
        indexes = [models.Index(fields=["shipment", "id"])]

    def __str__(self) -> str:
        return f"{self.shipment_id}: {self.status} at {self.occurred_at:%Y-%m-%d %H:%M}"


class TransferOrder(TimeStampedModel):
    """Stock moving between two locations (warehouse to store, store to store).

    Shipping moves on hand out of the origin and into ``in_transit`` at the destination (one
    ledger row each); receipt turns in transit into on hand there, discrepancies recorded on
    the line and in the ledger's reason. A click-and-collect transfer names its ``order``.
    """

    class Reason(models.TextChoices):
        CLICK_AND_COLLECT = "click_and_collect", "Click-and-collect (ship to store)"
        REPLENISHMENT = "replenishment", "Replenishment"

    class Status(models.TextChoices):
        """Same set as ``fulfillment.shipping_statuses.TransferStatus`` (tested)."""

        DRAFT = "draft", "Draft"
        SHIPPED = "shipped", "Shipped (in transit)"
        RECEIVED = "received", "Received"
        CANCELLED = "cancelled", "Cancelled"

    from_location = models.ForeignKey(
        Location, on_delete=models.PROTECT, related_name="transfers_out"
    )
    to_location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="transfers_in")
    reason = models.CharField(max_length=20, choices=Reason.choices)
    status = models.CharField(max_length=12, choices=Status.choices, default=TransferStatus.DRAFT)
    expected_arrival = models.DateTimeField(null=True, blank=True)
    order = models.ForeignKey(
        Order, null=True, blank=True, on_delete=models.PROTECT, related_name="transfers"
    )
    note = models.CharField(max_length=200, blank=True, default="")
    shipped_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(null=True, blank=True)
    created_by = models.CharField(max_length=150, blank=True, default="")

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(from_location=F("to_location")), name="transfer_two_locations"
            ),
            models.CheckConstraint(
                condition=~Q(reason="click_and_collect") | Q(order__isnull=False),
                name="transfer_click_and_collect_has_order",
            ),
        ]
        indexes = [
            models.Index(fields=["to_location", "status", "expected_arrival"]),
            models.Index(fields=["from_location", "status"]),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def reference(self) -> str:
        """The ledger's reference for this transfer (``reference_id`` of its movements)."""
        return f"TR-{self.pk}"


class TransferLine(models.Model):
    transfer = models.ForeignKey(TransferOrder, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField()
    quantity_received = models.PositiveIntegerField(null=True, blank=True)
    discrepancy_note = models.CharField(max_length=200, blank=True, default="")
    reservation = models.ForeignKey(
        Reservation,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="An order's reservation at the origin: shipping commits it.",
    )

    class Meta:
        ordering = ["transfer_id", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="transfer_line_qty_gt_0"),
            models.UniqueConstraint(
                fields=["transfer", "product", "reservation"],
                nulls_distinct=False,
                name="transfer_line_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.transfer_id}: {self.quantity} x {self.product_id}"

    @property
    def discrepancy(self) -> int:
        """Received minus shipped (0 until received)."""
        return 0 if self.quantity_received is None else self.quantity_received - self.quantity
