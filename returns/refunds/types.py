"""The refund calculator's inputs and outputs: frozen dataclasses, Decimal cents, no framework.

Money is ``Decimal`` in cents. Every amount a refund gives back is stated tax included
(``gross``) with its tax part (``tax``); ``net = gross - tax``. A business customer's document is
a credit note, which shows the net amounts with the tax separately: the same figures.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from decimal import Decimal

ZERO = Decimal("0.00")

# Reasons that are the seller's (or its carrier's) fault: no restocking fee, shipping refunded
# under the ``seller_fault`` rule. Stable codes shared with the return request's reason codes.
SELLER_FAULT_REASONS = frozenset({"defective", "wrong_item", "damaged_in_transit"})


class CustomerKind(enum.StrEnum):
    CONSUMER = "b2c"
    BUSINESS = "b2b"


class DocumentType(enum.StrEnum):
    REFUND = "refund"
    CREDIT_NOTE = "credit_note"


class ShippingRefundRule(enum.StrEnum):
    NEVER = "never"
    WHOLE_ORDER = "whole_order"
    """When, with this return, every paid unit of every line has come back."""
    SELLER_FAULT = "seller_fault"
    """When a returned line's reason is one of the policy's ``seller_fault_reasons``."""
    ALWAYS = "always"
    """Claims: the parcel never arrived (or arrived broken), the delivery was not given."""


# ---------------------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class PaidLine:
    """One order line as it was paid for, and what earlier refunds already gave back for it.

    Amounts are in the order's price basis (tax included for consumers, excluded for business
    customers), like the pricing engine's: ``unit_price * quantity - line_discount -
    order_discount`` is what the line cost in that basis. ``order_discount=None`` means the order
    stored only an order-level discount (``PaidOrder.order_discount``): the calculator prorates it
    over such lines by value. ``tax_amount`` is the tax paid on the whole line as stored (``None``:
    computed from ``tax_rate``, a percent such as ``20``). ``quantity`` is the number of units the
    line's amounts pay for. ``refunded_*`` sum earlier refunds of this line, before fees.
    """

    key: int
    quantity: int
    unit_price: Decimal
    line_discount: Decimal = ZERO
    order_discount: Decimal | None = ZERO
    tax_rate: Decimal = ZERO
    tax_amount: Decimal | None = None
    refunded_quantity: int = 0
    refunded_gross: Decimal = ZERO
    refunded_tax: Decimal = ZERO


@dataclass(frozen=True)
class PaidOrder:
    """The order's paid lines, its shipping (tax included) and what was refunded of it."""

    currency: str
    lines: tuple[PaidLine, ...]
    prices_include_tax: bool = True
    order_discount: Decimal = ZERO
    """Order-level promotions that no line's ``order_discount`` holds (prorated over those)."""
    shipping_paid: Decimal = ZERO
    shipping_tax_rate: Decimal = ZERO
    shipping_refunded: Decimal = ZERO
    customer_kind: CustomerKind = CustomerKind.CONSUMER


@dataclass(frozen=True)
class ReturnedUnits:
    """Units of one line given back now. ``restocking_fee_percent=None``: the policy's."""

    key: int
    quantity: int
    reason_code: str
    restocking_fee_percent: Decimal | None = None


@dataclass(frozen=True)
class RefundPolicy:
    restocking_fee_percent: Decimal = ZERO
    fee_exempt_reasons: frozenset[str] = SELLER_FAULT_REASONS
    shipping_refund_rule: ShippingRefundRule = ShippingRefundRule.WHOLE_ORDER
    seller_fault_reasons: frozenset[str] = SELLER_FAULT_REASONS


@dataclass(frozen=True)
class RefundRequest:
    order: PaidOrder
    returned: tuple[ReturnedUnits, ...]
    policy: RefundPolicy = RefundPolicy()


# --------------------------------------------------------------------------------------- outputs


@dataclass(frozen=True)
class LineRefund:
    """What one returned line gives back. ``amount = gross - fee`` (tax included)."""

    key: int
    quantity: int
    reason_code: str
    gross: Decimal
    """The returned units' share of what the line cost, tax included, before fees."""
    tax: Decimal
    net: Decimal
    fee: Decimal
    """Restocking fee kept, tax included."""
    fee_tax: Decimal
    is_fee_exempt: bool
    amount: Decimal


@dataclass(frozen=True)
class RefundComputation:
    """The whole refund. ``total = lines_gross - fees_total + shipping`` (tax included);
    ``tax_total`` is the tax in ``total`` and ``net_total = total - tax_total``."""

    currency: str
    document_type: DocumentType
    lines: tuple[LineRefund, ...]
    lines_gross: Decimal
    fees_total: Decimal
    shipping: Decimal
    shipping_tax: Decimal
    tax_total: Decimal
    net_total: Decimal
    total: Decimal
    is_whole_order_returned: bool
    explanations: tuple[str, ...]


@dataclass(frozen=True)
class RefundProblem:
    """One bad returned line: ``index`` in ``RefundRequest.returned``, the field, a stable code."""

    index: int
    field: str
    code: str
    message: str


class RefundInputError(Exception):
    """The returned lines cannot be refunded (unknown line, too many units...)."""

    def __init__(self, problems: tuple[RefundProblem, ...]) -> None:
        super().__init__("; ".join(f"{p.index}.{p.field}: {p.message}" for p in problems))
        self.problems = problems
