"""The pricing engine: a pure core (no Django), used by every door.

``price_cart(PricingRequest) -> PricedCart``. Inputs are built from the database by
``channels_app.selectors.cart_price``; tests and simulations build them directly.
"""

from channels_app.pricing.engine import price_cart
from channels_app.pricing.types import (
    AppliedPromotion,
    CartLine,
    CouponRejection,
    CustomerSegment,
    DiscountShare,
    LineProblem,
    PricedCart,
    PricedLine,
    PriceListData,
    PriceTier,
    PricingContext,
    PricingError,
    PricingRequest,
    PromotionData,
    PromotionKind,
    PromotionTarget,
    RejectedCoupon,
    TaxBreakdown,
)

__all__ = [
    "AppliedPromotion",
    "CartLine",
    "CouponRejection",
    "CustomerSegment",
    "DiscountShare",
    "LineProblem",
    "PriceListData",
    "PriceTier",
    "PricedCart",
    "PricedLine",
    "PricingContext",
    "PricingError",
    "PricingRequest",
    "PromotionData",
    "PromotionKind",
    "PromotionTarget",
    "RejectedCoupon",
    "TaxBreakdown",
    "price_cart",
]
