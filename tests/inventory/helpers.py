"""Assertions shared by the inventory tests."""

from __future__ import annotations

from django.db.models import Sum

from inventory.models import Reservation, StockLevel, StockMovement
from inventory.services.integrity import stock_check


def assert_ledger_consistent() -> None:
    """Counters = ledger and reserved = active reservations, for every level."""
    report = stock_check()
    assert report.drifts == (), report.drifts


def level(product, location) -> StockLevel:  # type: ignore[no-untyped-def]
    return StockLevel.objects.get(product=product, location=location)


def active_reserved(product) -> int:  # type: ignore[no-untyped-def]
    total = Reservation.objects.filter(product=product, status="active").aggregate(
        total=Sum("quantity")
    )["total"]
    return int(total or 0)


def movement_kinds(product, location) -> list[str]:  # type: ignore[no-untyped-def]
    return list(
        StockMovement.objects.filter(stock_level__product=product, stock_level__location=location)
        .order_by("id")
        .values_list("kind", flat=True)
    )
