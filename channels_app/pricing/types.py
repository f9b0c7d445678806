"""The pricing engine's inputs and outputs: frozen dataclasses, Decimal money, no framework.

Money is ``Decimal`` quantised to cents. Every amount in a priced cart is expressed in the
cart's *price basis*: tax included (``prices_include_tax=True``, consumers) or tax excluded
(business customers). Each line also carries both ``total_excluding_tax`` and
``total_including_tax`` so that any door can show either.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal


class CustomerSegment(enum.StrEnum):
    B2C = "b2c"
    B2B = "b2b"


class PromotionKind(enum.StrEnum):
    PERCENT_OFF = "percent_off"
    """``value`` percent off the targeted amount (0 < value <= 100)."""
    AMOUNT_OFF = "amount_off"
    """``value`` off each targeted unit (product/category target) or off the cart (cart target)."""
    BUY_X_GET_Y = "buy_x_get_y"
    """For every ``buy + get`` targeted units, the ``get`` cheapest are ``value`` percent off."""


class PromotionTarget(enum.StrEnum):
    PRODUCT = "product"
    CATEGORY = "category"
    CART = "cart"


class CouponRejection(enum.StrEnum):
    """Why a coupon code given by the customer does not reduce the cart (stable codes)."""

    UNKNOWN = "unknown"
    INACTIVE = "inactive"
    NOT_STARTED = "not_started"
    EXPIRED = "expired"
    NOT_VALID_FOR_CHANNEL = "not_valid_for_channel"
    NOT_VALID_FOR_CUSTOMER = "not_valid_for_customer"
    CURRENCY_MISMATCH = "currency_mismatch"
    USAGE_LIMIT_REACHED = "usage_limit_reached"
    MIN_CART_AMOUNT_NOT_REACHED = "min_cart_amount_not_reached"
    NO_ELIGIBLE_LINES = "no_eligible_lines"
    SUPERSEDED_IN_STACKING_GROUP = "superseded_in_stacking_group"
    BLOCKED_BY_EXCLUSIVE_PROMOTION = "blocked_by_exclusive_promotion"
    NO_DISCOUNT = "no_discount"


# ---------------------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class CartLine:
    """One line to price. ``category`` and ``tax_class`` come from the product catalogue."""

    sku: str
    quantity: int
    category: str = ""
    tax_class: str = "standard"


@dataclass(frozen=True)
class PriceTier:
    """``unit_price`` applies from ``min_quantity`` units on the line."""

    min_quantity: int
    unit_price: Decimal


@dataclass(frozen=True)
class PriceListData:
    """A price list: base (no channel, no customer), channel, or customer (B2B) list.

    Precedence for a SKU: customer list, then channel list, then base list; within a scope the
    higher ``priority``, then ``code``. A list without a tier reached by the quantity is skipped.
    """

    code: str
    currency: str
    prices_include_tax: bool
    prices: Mapping[str, tuple[PriceTier, ...]]
    priority: int = 0
    channel_code: str | None = None
    customer_id: int | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None


@dataclass(frozen=True)
class PromotionData:
    """A promotion as the engine sees it. Amounts are in the cart's price basis and currency.

    ``starts_at``/``ends_at`` form the half-open window ``[starts_at, ends_at)``. Empty
    ``channel_codes`` means every channel; ``segment=None`` means every customer. Promotions with
    a ``coupon_code`` apply only when the customer gives that code. ``priority``: higher first.
    """

    code: str
    name: str
    kind: PromotionKind
    target: PromotionTarget
    value: Decimal
    skus: frozenset[str] = frozenset()
    categories: frozenset[str] = frozenset()
    buy_quantity: int = 0
    get_quantity: int = 0
    coupon_code: str = ""
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    channel_codes: frozenset[str] = frozenset()
    segment: CustomerSegment | None = None
    priority: int = 0
    is_exclusive: bool = False
    stacking_group: str = ""
    min_cart_amount: Decimal | None = None
    currency: str = ""
    is_active: bool = True
    is_usage_exhausted: bool = False

    @property
    def is_line_level(self) -> bool:
        """Line promotions apply before cart promotions."""
        return self.target is not PromotionTarget.CART or self.kind is PromotionKind.BUY_X_GET_Y


@dataclass(frozen=True)
class PricingContext:
    """Who asks, where and when. ``prices_include_tax`` is the cart's price basis."""

    channel_code: str
    country: str
    currency: str
    at: datetime
    segment: CustomerSegment = CustomerSegment.B2C
    customer_id: int | None = None
    prices_include_tax: bool = True


@dataclass(frozen=True)
class PricingRequest:
    context: PricingContext
    lines: tuple[CartLine, ...]
    price_lists: tuple[PriceListData, ...] = ()
    promotions: tuple[PromotionData, ...] = ()
    tax_rates: Mapping[str, Decimal] = field(default_factory=dict)
    """Percent rates of the context's market, by tax class (``{"standard": Decimal("20")}``)."""
    coupon_codes: tuple[str, ...] = ()


# --------------------------------------------------------------------------------------- outputs


@dataclass(frozen=True)
class DiscountShare:
    """The part of one promotion's discount borne by one line."""

    promotion_code: str
    amount: Decimal


@dataclass(frozen=True)
class PricedLine:
    sku: str
    quantity: int
    category: str
    tax_class: str
    price_list_code: str
    unit_price: Decimal
    """List price of one unit, in the cart's price basis."""
    subtotal: Decimal
    """``unit_price * quantity``."""
    line_discounts: tuple[DiscountShare, ...]
    """Product, category and buy-X-get-Y promotions, in application order."""
    cart_discounts: tuple[DiscountShare, ...]
    """This line's prorated share of each cart-level promotion."""
    discount_total: Decimal
    total: Decimal
    """``subtotal - discount_total``: what the line costs, in the cart's price basis."""
    tax_rate: Decimal
    """Percent (``20.00``)."""
    tax_amount: Decimal
    total_excluding_tax: Decimal
    total_including_tax: Decimal


@dataclass(frozen=True)
class AppliedPromotion:
    code: str
    name: str
    level: str
    """``line`` or ``cart``."""
    amount: Decimal
    line_indexes: tuple[int, ...]
    """Indexes (in the request's order) of the lines that bear a share of ``amount``."""
    coupon_code: str = ""


@dataclass(frozen=True)
class RejectedCoupon:
    code: str
    reason: CouponRejection


@dataclass(frozen=True)
class TaxBreakdown:
    tax_class: str
    rate: Decimal
    base: Decimal
    """Taxable amount (excluding tax) of the lines at this rate."""
    amount: Decimal


@dataclass(frozen=True)
class PricedCart:
    """A priced cart. Every total is the exact sum of the lines' figures."""

    currency: str
    prices_include_tax: bool
    lines: tuple[PricedLine, ...]
    subtotal: Decimal
    discounts: tuple[AppliedPromotion, ...]
    discount_total: Decimal
    total: Decimal
    """In the cart's price basis (``subtotal - discount_total``)."""
    total_excluding_tax: Decimal
    tax_total: Decimal
    total_including_tax: Decimal
    taxes: tuple[TaxBreakdown, ...]
    applied_coupons: tuple[str, ...]
    rejected_coupons: tuple[RejectedCoupon, ...]

    @property
    def grand_total(self) -> Decimal:
        """What the customer pays: always tax included."""
        return self.total_including_tax


@dataclass(frozen=True)
class LineProblem:
    line_index: int
    field: str
    code: str
    message: str


class PricingError(Exception):
    """The cart cannot be priced (a SKU without a price, a tax class without a rate...)."""

    def __init__(self, problems: tuple[LineProblem, ...]) -> None:
        super().__init__("; ".join(f"line {p.line_index}: {p.message}" for p in problems))
        self.problems = problems
