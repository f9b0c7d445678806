"""Builders for the picking planner tests: open lines, strategies, random instances."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from fulfillment.picking.types import DeliveryService, OpenLine, PickingStrategy

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CUTOFF = NOW.replace(hour=16)  # the standard carrier's collection today
EXPRESS_CUTOFF = NOW.replace(hour=13)


def line(
    fulfillment_order_id: int,
    line_id: int,
    bin_location: str,
    *,
    sku: str = "",
    quantity: int = 1,
    service: DeliveryService = DeliveryService.STANDARD,
    carrier: str = "colissimo",
    cutoff: datetime | None = CUTOFF,
    ready_by: datetime | None = None,
    weight_grams: int = 100,
) -> OpenLine:
    """A line of fulfillment order ``fulfillment_order_id`` (order id = that + 1000)."""
    return OpenLine(
        fulfillment_order_id=fulfillment_order_id,
        order_id=fulfillment_order_id + 1000,
        line_id=line_id,
        sku=sku or f"SKU-{line_id}",
        ean=f"30000000{line_id:05d}",
        quantity=quantity,
        bin_location=bin_location,
        weight_grams=weight_grams,
        service=service,
        carrier=carrier,
        carrier_cutoff_at=cutoff,
        ready_by=ready_by,
    )


SERVICES = tuple(DeliveryService)
AISLES = ("A", "B", "C", "D", "E")


def random_lines(rng: random.Random, *, orders: int, max_lines: int = 4) -> list[OpenLine]:
    """``orders`` fulfillment orders of 1..max_lines lines, services and cut-offs mixed, a few
    unknown bins, some SKUs shared (same bin) between orders."""
    lines: list[OpenLine] = []
    line_id = 1
    for fulfillment_order_id in range(1, orders + 1):
        service = rng.choice(SERVICES)
        if service == DeliveryService.CLICK_AND_COLLECT:
            cutoff = None
            ready_by: datetime | None = NOW + timedelta(minutes=rng.randrange(0, 600, 30))
            carrier = ""
        else:
            cutoff = NOW + timedelta(hours=rng.choice((-1, 0, 2, 4, 7)))
            ready_by = None
            carrier = rng.choice(("colissimo", "chronopost", "dpd"))
        for _ in range(rng.randint(1, max_lines)):
            product = rng.randint(1, 40)
            if product % 13 == 0:
                bin_location = f"DOCK {product}"
            else:
                bin_location = f"{AISLES[product % 5]}-{product:02d}-{product % 3}-A"
            lines.append(
                OpenLine(
                    fulfillment_order_id=fulfillment_order_id,
                    order_id=10_000 + fulfillment_order_id,
                    line_id=line_id,
                    sku=f"SKU-{product}",
                    ean=f"3{product:012d}",
                    quantity=rng.randint(1, 6),
                    bin_location=bin_location,
                    weight_grams=rng.randint(50, 2_000),
                    service=service,
                    carrier=carrier,
                    carrier_cutoff_at=cutoff,
                    ready_by=ready_by,
                )
            )
            line_id += 1
    return lines


def random_strategy(rng: random.Random) -> PickingStrategy:
    from datetime import time

    from fulfillment.picking.types import WalkPath

    return PickingStrategy(
        batch_max_lines=rng.randint(1, 6),
        batch_max_units=rng.randint(1, 12),
        cluster_totes=rng.randint(1, 5),
        cluster_max_units=rng.choice((None, rng.randint(1, 20))),
        max_wave_lines=rng.randint(1, 30),
        wave_cutoffs=rng.choice(((), (time(10), time(14)), (time(12),))),
        is_click_and_collect_own_wave=rng.random() < 0.5,
        walk_path=rng.choice(tuple(WalkPath)),
    )
