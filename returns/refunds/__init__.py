"""Pure refund calculator (no framework): what a return gives back, line by line.

``refund_compute(RefundRequest) -> RefundComputation``. ``returns.services.refunds`` builds the
request from an order's stored pricing; tests build it directly.
"""

from returns.refunds.calculator import cents, line_costs, refund_compute
from returns.refunds.types import (
    SELLER_FAULT_REASONS,
    CustomerKind,
    DocumentType,
    LineRefund,
    PaidLine,
    PaidOrder,
    RefundComputation,
    RefundInputError,
    RefundPolicy,
    RefundProblem,
    RefundRequest,
    ReturnedUnits,
    ShippingRefundRule,
)

__all__ = [
    "SELLER_FAULT_REASONS",
    "CustomerKind",
    "DocumentType",
    "LineRefund",
    "PaidLine",
    "PaidOrder",
    "RefundComputation",
    "RefundInputError",
    "RefundPolicy",
    "RefundProblem",
    "RefundRequest",
    "ReturnedUnits",
    "ShippingRefundRule",
    "cents",
    "line_costs",
    "refund_compute",
]
