"""Cents: quantisation (ROUND_HALF_UP), tax conversion, largest-remainder proration."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
HUNDRED = Decimal(100)


def money(amount: Decimal) -> Decimal:
    """``amount`` rounded to cents, half up (``0.005`` -> ``0.01``)."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def percent_of(amount: Decimal, percent: Decimal) -> Decimal:
    return money(amount * percent / HUNDRED)


def excluding_tax(gross: Decimal, rate: Decimal) -> Decimal:
    """The net part of a tax-included amount; the tax is ``gross - excluding_tax(...)``."""
    return money(gross * HUNDRED / (HUNDRED + rate))


def including_tax(net: Decimal, rate: Decimal) -> Decimal:
    """The tax-included amount of a tax-excluded one."""
    return net + percent_of(net, rate)


def prorate(total: Decimal, weights: Sequence[Decimal]) -> tuple[Decimal, ...]:
    """Split ``total`` over ``weights`` in cents that add up exactly to ``total``.

    Largest remainder: each share is first rounded down to the cent, then the cents left over go
    one by one to the largest remainders; ties go to the earliest weight (callers pass weights in
    a canonical order). Zero weights get nothing. Precondition: ``total`` is in cents,
    ``0 <= total <= sum(weights)`` is not required but every weight is ``>= 0``.

    >>> prorate(Decimal("10.00"), [Decimal("1"), Decimal("1"), Decimal("1")])
    (Decimal('3.34'), Decimal('3.33'), Decimal('3.33'))
    """
    weight_sum = sum(weights, ZERO)
    if not weights or weight_sum <= 0 or total == 0:
        return tuple(ZERO for _ in weights)
    exact = [total * weight / weight_sum for weight in weights]
    floors = [share.quantize(CENT, rounding=ROUND_DOWN) for share in exact]
    left_cents = int((total - sum(floors, ZERO)) / CENT)
    order = sorted(
        range(len(weights)),
        key=lambda index: (-(exact[index] - floors[index]), index),
    )
    shares = list(floors)
    for index in order[:left_cents]:
        shares[index] += CENT
    return tuple(shares)
