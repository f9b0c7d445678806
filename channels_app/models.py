"""Sales channels, their credentials, and customers known across channels.

The lowest business app: it imports only ``omnilog.core``. Locations a channel sells from are
declared on ``inventory.Location.channels`` (reverse name ``locations``).
"""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from rest_framework_api_key.models import AbstractAPIKey

from omnilog.core.models import TimeStampedModel


class SalesChannel(TimeStampedModel):
    class Kind(models.TextChoices):
        WEB = "web", "Web shop"
        MOBILE_APP = "mobile_app", "Mobile app"
        MARKETPLACE = "marketplace", "Marketplace"
        STORE_POS = "store_pos", "Store till (POS)"
        CALL_CENTRE = "call_centre", "Call centre"
        B2B = "b2b", "B2B partner"
        SOCIAL = "social", "Social network"

    code = models.SlugField(max_length=32, unique=True)
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    currency = models.CharField(max_length=3, default="EUR")
    country = models.CharField(max_length=2, default="FR", help_text="Market (ISO 3166-1 alpha-2)")
    # Stock published to this channel: network ATP minus a buffer, optionally rationed.
    buffer_units = models.PositiveIntegerField(
        default=0, help_text="Units held back per product from the network ATP."
    )
    buffer_percent = models.PositiveSmallIntegerField(
        default=0,
        validators=[MaxValueValidator(100)],
        help_text="Percentage of the network ATP held back per product.",
    )
    rationing_percent = models.PositiveSmallIntegerField(
        default=100,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
        help_text="At most this share of the network ATP is offered (e.g. 30 for a marketplace).",
    )
    last_unit_threshold = models.PositiveIntegerField(
        default=0, help_text="Publish 0 when the channel ATP is below this (last-unit protection)."
    )
    routing_policy = models.CharField(max_length=64, default="default")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(buffer_percent__lte=100), name="channel_buffer_percent_lte_100"
            ),
            models.CheckConstraint(
                condition=Q(rationing_percent__lte=100), name="channel_rationing_percent_lte_100"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class ChannelAPIKey(AbstractAPIKey):
    """A hashed, revocable key; the secret is shown once, at creation, in the admin."""

    channel = models.ForeignKey(SalesChannel, on_delete=models.CASCADE, related_name="api_keys")

    class Meta(AbstractAPIKey.Meta):
        verbose_name = "channel API key"
        verbose_name_plural = "channel API keys"


class Customer(TimeStampedModel):
    """One person or company across every channel (matched by e-mail, phone or loyalty id)."""

    email = models.EmailField(blank=True, default="")
    phone = models.CharField(max_length=32, blank=True, default="")
    loyalty_id = models.CharField(max_length=32, blank=True, default="")
    first_name = models.CharField(max_length=100, blank=True, default="")
    last_name = models.CharField(max_length=100, blank=True, default="")
    # B2B account (empty for consumers).
    company_name = models.CharField(max_length=200, blank=True, default="")
    vat_number = models.CharField(max_length=32, blank=True, default="")
    payment_terms_days = models.PositiveSmallIntegerField(null=True, blank=True)
    is_partial_delivery_allowed = models.BooleanField(default=True)
    first_channel = models.ForeignKey(
        SalesChannel, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["email"], condition=~Q(email=""), name="customer_email_unique"
            ),
            models.UniqueConstraint(
                fields=["loyalty_id"], condition=~Q(loyalty_id=""), name="customer_loyalty_unique"
            ),
        ]
        indexes = [models.Index(fields=["phone"])]

    @property
    def is_business(self) -> bool:
        return bool(self.company_name)

    def __str__(self) -> str:
        name = f"{self.first_name} {self.last_name}".strip() or self.company_name
        return f"{name} <{self.email}>" if self.email else name or f"customer {self.pk}"


class Address(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="addresses")
    label = models.CharField(max_length=50, blank=True, default="")
    line1 = models.CharField(max_length=200)
    line2 = models.CharField(max_length=200, blank=True, default="")
    postcode = models.CharField(max_length=16)
    city = models.CharField(max_length=100)
    country = models.CharField(max_length=2, default="FR")
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    is_default = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"{self.line1}, {self.postcode} {self.city} ({self.country})"
