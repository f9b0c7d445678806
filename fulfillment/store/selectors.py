"""Reads of the store screens: the pickup queue, a store's policy.

The queue reads every open pickup fulfillment order of the store in one query (order fields
joined, units summed) and classifies it in Python, so the page costs the same number of
queries for 3 orders or 500 (tested).
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import F, Max, Sum
from django.utils import timezone

from fulfillment.models import FulfillmentOrder, FulfillmentOrderLine, ProductBin
from fulfillment.models_store import StorePolicy
from fulfillment.statuses import FulfillmentStatus
from inventory.models import Location
from orders.models import DeliveryMode

PICKUP_MODES = (DeliveryMode.CLICK_AND_COLLECT, DeliveryMode.SHIP_TO_STORE)
F_ = FulfillmentStatus
TO_PREPARE = frozenset({F_.CREATED, F_.ACCEPTED})
PREPARING = frozenset({F_.PICKING, F_.PICKED, F_.PACKED})
QUEUE_STATUSES = TO_PREPARE | PREPARING | {F_.READY_FOR_PICKUP}
# Ageing: minutes left to the promise at or under which an order is "soon" (then "late").
SOON_MINUTES = 60
# Cards rendered per column (the counts are always complete).
COLUMN_LIMIT = 20


@dataclass(frozen=True)
class QueueCard:
    fulfillment_order_id: int
    status: str
    order_id: int
    order_number: str
    customer_name: str
    units: int
    due_at: datetime
    promised_at: datetime | None
    slot_start: datetime | None
    slot_end: datetime | None
    curbside_arrived_at: datetime | None
    curbside_bay: int | None
    ready_at: datetime | None
    minutes_to_due: int
    age: str  # ok / soon / late

    @property
    def age_label(self) -> str:
        if self.age == "late":
            return f"Late by {_duration(-self.minutes_to_due)}"
        return f"Due in {_duration(self.minutes_to_due)}"

    @property
    def is_curbside(self) -> bool:
        return self.curbside_arrived_at is not None


@dataclass(frozen=True)
class QueueColumn:
    key: str
    title: str
    cards: tuple[QueueCard, ...]
    count: int

    @property
    def hidden(self) -> int:
        return self.count - len(self.cards)


@dataclass(frozen=True)
class Queue:
    store_id: int
    now: datetime
    columns: tuple[QueueColumn, ...]
    no_show_after_days: int

    def column(self, key: str) -> QueueColumn:
        return next(column for column in self.columns if column.key == key)


def _duration(minutes: int) -> str:
    if minutes < 60:
        return f"{minutes} min"
    hours, rest = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {rest:02d}"
    return f"{hours // 24} days"


def store_policy_of(location_id: int) -> StorePolicy:
    """The store's policy row, or an unsaved one with the defaults."""
    return StorePolicy.objects.filter(location_id=location_id).first() or StorePolicy(
        location_id=location_id
    )


_FINGERPRINT_SQL = """
SELECT count(*)::text || ':' || coalesce(sum(hashtextextended(concat_ws('|',
    fo.id, fo.status, fo.created_at, fo.ready_for_pickup_at, o.number, o.customer_first_name,
    o.customer_last_name, o.promised_at, o.pickup_slot_start, o.pickup_slot_end,
    o.curbside_arrived_at, o.curbside_bay, units.open), 0)), 0)::text || ':' ||
    coalesce((SELECT concat_ws('|', p.preparation_minutes, p.no_show_reminder_days)
              FROM {policy} p WHERE p.location_id = %(location)s), 'defaults')
FROM {fulfillment_order} fo
JOIN {order} o ON o.id = fo.order_id
CROSS JOIN LATERAL (
    SELECT sum(line.quantity - line.quantity_rejected) AS open
    FROM {line} line WHERE line.fulfillment_order_id = fo.id) units
WHERE fo.location_id = %(location)s AND fo.delivery_mode = ANY(%(modes)s)
  AND fo.status = ANY(%(statuses)s)
"""


def store_queue_fingerprint(*, location: Location) -> str:
    """A digest of everything the queue shows for the store (its open pickup orders with the
    order fields and open units the cards show, and the policy's delays), computed by
    PostgreSQL in one query (a sum of 64-bit row hashes: no sort, no big string): equal
    fingerprints (within the same minute) render the same board, so the rendered board can be
    cached under it."""
    from django.db import connection

    from fulfillment.models_store import StorePolicy
    from orders.models import Order

    sql = _FINGERPRINT_SQL.format(
        policy=StorePolicy._meta.db_table,
        fulfillment_order=FulfillmentOrder._meta.db_table,
        order=Order._meta.db_table,
        line=FulfillmentOrderLine._meta.db_table,
    )
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            {
                "location": location.pk,
                "modes": [str(mode) for mode in PICKUP_MODES],
                "statuses": sorted(str(status) for status in QUEUE_STATUSES),
            },
        )
        (fingerprint,) = cursor.fetchone()
    return str(fingerprint)


def _age(minutes_to_due: int) -> str:
    if minutes_to_due < 0:
        return "late"
    if minutes_to_due <= SOON_MINUTES:
        return "soon"
    return "ok"


def _card(row: Mapping[str, Any], now: datetime, preparation: timedelta) -> QueueCard:
    due = (
        row["order__promised_at"]
        or row["order__pickup_slot_start"]
        or row["created_at"] + (preparation)
    )
    minutes = int((due - now).total_seconds() // 60)
    names = (row["order__customer_first_name"], row["order__customer_last_name"])
    name = " ".join(part for part in names if part)
    return QueueCard(
        fulfillment_order_id=row["id"],
        status=row["status"],
        order_id=row["order_id"],
        order_number=row["order__number"],
        customer_name=name,
        units=row["units"] or 0,
        due_at=due,
        promised_at=row["order__promised_at"],
        slot_start=row["order__pickup_slot_start"],
        slot_end=row["order__pickup_slot_end"],
        curbside_arrived_at=row["order__curbside_arrived_at"],
        curbside_bay=row["order__curbside_bay"],
        ready_at=row["ready_for_pickup_at"],
        minutes_to_due=minutes,
        age=_age(minutes),
    )


def _sort_key(card: QueueCard) -> tuple[Any, ...]:
    far = datetime.max.replace(tzinfo=card.due_at.tzinfo)
    return (card.promised_at or far, card.slot_start or far, card.fulfillment_order_id)


def store_queue(*, location: Location, now: datetime | None = None) -> Queue:
    """The store's open pickup orders in five columns: to prepare, preparing, ready, overdue
    (not ready and past the promise) and no-show (ready longer than the policy's reminder
    delay). Sorted by promised time, then slot; curbside arrivals first among the ready ones.
    Two queries (policy, orders) whatever the number of orders.
    """
    moment = now or timezone.now()
    policy = store_policy_of(location.pk)
    preparation = timedelta(minutes=policy.preparation_minutes)
    no_show_before = moment - timedelta(days=policy.no_show_reminder_days)
    rows = (
        FulfillmentOrder.objects.filter(
            location=location, delivery_mode__in=PICKUP_MODES, status__in=list(QUEUE_STATUSES)
        )
        .values(
            "id",
            "status",
            "created_at",
            "ready_for_pickup_at",
            "order_id",
            "order__number",
            "order__customer_first_name",
            "order__customer_last_name",
            "order__promised_at",
            "order__pickup_slot_start",
            "order__pickup_slot_end",
            "order__curbside_arrived_at",
            "order__curbside_bay",
        )
        .annotate(units=Sum(F("lines__quantity") - F("lines__quantity_rejected")))
        .order_by()
    )
    buckets: dict[str, list[QueueCard]] = {
        key: [] for key in ("to_prepare", "preparing", "ready", "overdue", "no_show")
    }
    for row in rows:
        card = _card(row, moment, preparation)
        if card.status == F_.READY_FOR_PICKUP:
            stale = card.ready_at is not None and card.ready_at < no_show_before
            buckets["no_show" if stale and not card.is_curbside else "ready"].append(card)
        elif card.age == "late":
            buckets["overdue"].append(card)
        elif card.status in TO_PREPARE:
            buckets["to_prepare"].append(card)
        else:
            buckets["preparing"].append(card)
    for key, cards in buckets.items():
        if key == "ready":
            cards.sort(
                key=lambda card: (
                    not card.is_curbside,
                    card.curbside_arrived_at or moment,
                    *_sort_key(card),
                )
            )
        else:
            cards.sort(key=_sort_key)
    titles = {
        "to_prepare": "To prepare",
        "preparing": "Preparing",
        "ready": "Ready",
        "overdue": "Overdue",
        "no_show": "No-show",
    }
    return Queue(
        store_id=location.pk,
        now=moment,
        no_show_after_days=policy.no_show_reminder_days,
        columns=tuple(
            QueueColumn(
                key=key,
                title=titles[key],
                cards=tuple(cards[:COLUMN_LIMIT]),
                count=len(cards),
            )
            for key, cards in buckets.items()
        ),
    )


@dataclass(frozen=True)
class PickLine:
    line_id: int
    sku: str
    ean: str
    name: str
    bin_location: str
    quantity: int  # open units (ordered here minus rejected)
    picked: int
    rejected: int
    rejection_reason: str
    initials: str
    hue: int

    @property
    def left(self) -> int:
        return self.quantity - self.picked

    @property
    def is_done(self) -> bool:
        return self.left <= 0


@dataclass(frozen=True)
class PickSheet:
    lines: tuple[PickLine, ...]

    @property
    def units(self) -> int:
        return sum(line.quantity for line in self.lines)

    @property
    def picked(self) -> int:
        return sum(line.picked for line in self.lines)

    @property
    def percent(self) -> int:
        return round(100 * self.picked / self.units) if self.units else 100


def _initials(name: str) -> str:
    words = [word for word in name.replace("-", " ").split() if word[:1].isalnum()]
    return "".join(word[0] for word in words[:2]).upper() or "?"


def pick_sheet(*, fulfillment_order: FulfillmentOrder) -> PickSheet:
    """The order's lines with product, bin (the pick task's, else the store's ``ProductBin``),
    open, picked and rejected units, and an initials tile (products have no image). Two
    queries."""
    lines = list(
        FulfillmentOrderLine.objects.filter(fulfillment_order=fulfillment_order)
        .select_related("order_line__product")
        .annotate(task_bin=Max("pick_tasks__bin_location"))
        .order_by("id")
    )
    bins = dict(
        ProductBin.objects.filter(
            location_id=fulfillment_order.location_id,
            product_id__in={line.order_line.product_id for line in lines},
        ).values_list("product_id", "bin_location")
    )
    return PickSheet(
        lines=tuple(
            PickLine(
                line_id=line.pk,
                sku=line.order_line.sku,
                ean=line.order_line.product.ean or "",
                name=line.order_line.name,
                bin_location=line.task_bin or bins.get(line.order_line.product_id, ""),
                quantity=line.quantity - line.quantity_rejected,
                picked=line.quantity_picked,
                rejected=line.quantity_rejected,
                rejection_reason=line.rejection_reason,
                initials=_initials(line.order_line.name),
                hue=zlib.crc32(line.order_line.sku.encode()) % 360,
            )
            for line in lines
        )
    )


@dataclass(frozen=True)
class HandoverLineRow:
    line_id: int
    sku: str
    name: str
    packed: int
    handed_over: int

    @property
    def left(self) -> int:
        return self.packed - self.handed_over


def handover_sheet(*, fulfillment_order: FulfillmentOrder) -> tuple[HandoverLineRow, ...]:
    """The order's lines with packed units and what earlier (partial) handovers took."""
    lines = (
        FulfillmentOrderLine.objects.filter(fulfillment_order=fulfillment_order)
        .select_related("order_line")
        .annotate(handed=Sum("handover_lines__quantity"))
        .order_by("id")
    )
    return tuple(
        HandoverLineRow(
            line_id=line.pk,
            sku=line.order_line.sku,
            name=line.order_line.name,
            packed=line.quantity_packed,
            handed_over=line.handed or 0,
        )
        for line in lines
        if line.quantity_packed
    )


def store_order_find(*, location: Location, text: str) -> FulfillmentOrder | None:
    """The store's pickup fulfillment order for an order number as typed (``OM-000123``,
    ``om-123`` or ``123``), the most recent first; None when there is none."""
    value = text.strip().upper()
    digits = value.removeprefix("OM-").removeprefix("OM")
    number = f"OM-{int(digits):06d}" if digits.isdigit() and len(digits) <= 12 else value
    return (
        FulfillmentOrder.objects.select_related("order")
        .filter(location=location, delivery_mode__in=PICKUP_MODES, order__number=number)
        .order_by("-id")
        .first()
    )
