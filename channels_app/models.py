"""Sales channels, their credentials, and customers known across channels.

The lowest business app: it imports only ``omnilog.core``. Locations a channel sells from are
declared on ``inventory.Location.channels`` (reverse name ``locations``).
"""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper
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


# ------------------------------------------------------------------------ prices and promotions
# Products are referred to by SKU code and category strings (ERP/PIM price feeds are keyed by
# SKU, and channels_app sits below inventory). The pricing engine is ``channels_app.pricing``.


class PriceList(TimeStampedModel):
    """Unit prices per SKU: a base list (no channel, no customer), a channel list, or a B2B
    customer list. For a SKU the customer list wins, then the channel list, then the base list;
    within a scope the higher ``priority``, then ``code``."""

    code = models.SlugField(max_length=32, unique=True)
    name = models.CharField(max_length=100)
    currency = models.CharField(max_length=3, default="EUR")
    channel = models.ForeignKey(
        SalesChannel, null=True, blank=True, on_delete=models.CASCADE, related_name="price_lists"
    )
    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.CASCADE, related_name="price_lists"
    )
    priority = models.IntegerField(default=0, help_text="Higher wins within the same scope.")
    prices_include_tax = models.BooleanField(
        default=True, help_text="Consumer lists are tax included; B2B lists usually are not."
    )
    valid_from = models.DateTimeField(null=True, blank=True)
    valid_until = models.DateTimeField(null=True, blank=True, help_text="Exclusive.")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_from__isnull=True)
                | Q(valid_until__isnull=True)
                | Q(valid_from__lt=models.F("valid_until")),
                name="price_list_valid_window",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class PriceListItem(models.Model):
    price_list = models.ForeignKey(PriceList, on_delete=models.CASCADE, related_name="items")
    sku = models.CharField(max_length=64)
    unit_price = models.DecimalField(max_digits=12, decimal_places=2)
    min_quantity = models.PositiveIntegerField(
        default=1, help_text="Tier: this price applies from this many units on a line."
    )

    class Meta:
        ordering = ["price_list", "sku", "min_quantity"]
        constraints = [
            models.UniqueConstraint(
                fields=["price_list", "sku", "min_quantity"], name="price_list_item_unique"
            ),
            models.CheckConstraint(
                condition=Q(unit_price__gte=0), name="price_list_item_price_gte_0"
            ),
            models.CheckConstraint(
                condition=Q(min_quantity__gte=1), name="price_list_item_min_quantity_gte_1"
            ),
        ]
        indexes = [models.Index(fields=["sku"])]

    def __str__(self) -> str:
        return f"{self.sku} x{self.min_quantity}+ @ {self.unit_price}"


class Promotion(TimeStampedModel):
    """A discount rule; see ``channels_app.pricing.promotions`` for how promotions combine."""

    class Kind(models.TextChoices):
        PERCENT_OFF = "percent_off", "Percent off"
        AMOUNT_OFF = "amount_off", "Amount off (per unit, or off the cart)"
        BUY_X_GET_Y = "buy_x_get_y", "Buy X get Y (value = percent off the Y cheapest)"

    class Target(models.TextChoices):
        PRODUCT = "product", "Products (SKUs)"
        CATEGORY = "category", "Categories"
        CART = "cart", "Whole cart"

    class Segment(models.TextChoices):
        ALL = "", "All customers"
        B2C = "b2c", "Consumers"
        B2B = "b2b", "Businesses"

    code = models.SlugField(max_length=32, unique=True)
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    target = models.CharField(max_length=16, choices=Target.choices)
    value = models.DecimalField(
        max_digits=12, decimal_places=2, help_text="Percent (0-100], or an amount in `currency`."
    )
    skus = ArrayField(models.CharField(max_length=64), default=list, blank=True)
    categories = ArrayField(models.CharField(max_length=64), default=list, blank=True)
    buy_quantity = models.PositiveSmallIntegerField(default=0)
    get_quantity = models.PositiveSmallIntegerField(default=0)
    coupon_code = models.CharField(
        max_length=32, blank=True, default="", help_text="Set: applies only with this code."
    )
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True, help_text="Exclusive.")
    channels = models.ManyToManyField(
        SalesChannel, blank=True, related_name="promotions", help_text="Empty: every channel."
    )
    customer_segment = models.CharField(
        max_length=3, choices=Segment.choices, blank=True, default=Segment.ALL
    )
    priority = models.IntegerField(default=0, help_text="Higher applies first.")
    is_exclusive = models.BooleanField(
        default=False, help_text="Lower-priority promotions do not apply to the same lines."
    )
    stacking_group = models.CharField(
        max_length=32, blank=True, default="", help_text="At most one promotion per group."
    )
    min_cart_amount = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, default="EUR")
    is_active = models.BooleanField(default=True)
    usage_limit = models.PositiveIntegerField(null=True, blank=True)
    times_used = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-priority", "code"]
        constraints = [
            models.UniqueConstraint(
                Upper("coupon_code"),
                condition=~Q(coupon_code=""),
                name="promotion_coupon_code_unique",
            ),
            models.CheckConstraint(
                condition=~Q(kind="amount_off") | Q(value__gt=0),
                name="promotion_amount_gt_0",
            ),
            models.CheckConstraint(
                condition=Q(kind="amount_off") | (Q(value__gt=0) & Q(value__lte=100)),
                name="promotion_percent_in_0_100",
            ),
            models.CheckConstraint(
                condition=~Q(kind="buy_x_get_y")
                | (Q(buy_quantity__gte=1) & Q(get_quantity__gte=1)),
                name="promotion_buy_x_get_y_quantities",
            ),
            models.CheckConstraint(
                condition=~Q(target="product") | ~Q(skus=[]), name="promotion_product_has_skus"
            ),
            models.CheckConstraint(
                condition=~Q(target="category") | ~Q(categories=[]),
                name="promotion_category_has_categories",
            ),
            models.CheckConstraint(
                condition=Q(starts_at__isnull=True)
                | Q(ends_at__isnull=True)
                | Q(starts_at__lt=models.F("ends_at")),
                name="promotion_window",
            ),
            models.CheckConstraint(
                condition=Q(min_cart_amount__isnull=True) | Q(min_cart_amount__gte=0),
                name="promotion_min_cart_amount_gte_0",
            ),
            models.CheckConstraint(
                condition=Q(usage_limit__isnull=True) | Q(times_used__lte=models.F("usage_limit")),
                name="promotion_usage_within_limit",
            ),
        ]
        indexes = [models.Index(fields=["is_active", "coupon_code"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class TaxRate(models.Model):
    """VAT rate of a tax class in a market (FR: standard 20, reduced 5.5 for books...)."""

    country = models.CharField(max_length=2, help_text="Market (ISO 3166-1 alpha-2)")
    tax_class = models.SlugField(max_length=32, default="standard")
    rate = models.DecimalField(max_digits=5, decimal_places=2, help_text="Percent.")

    class Meta:
        ordering = ["country", "tax_class"]
        constraints = [
            models.UniqueConstraint(fields=["country", "tax_class"], name="tax_rate_unique"),
            models.CheckConstraint(
                condition=Q(rate__gte=0) & Q(rate__lte=100), name="tax_rate_in_0_100"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.country} {self.tax_class} {self.rate} %"
