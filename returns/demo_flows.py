"""Demo order history for the flow analytics (``manage.py seed_demo_flows``).

Places ``count`` orders through the real services on the demo data of ``seed_demo`` (capture,
routing, acceptance, a few rejections and cancellations, picking by scan, packing, labels,
shipping and the carrier's signed delivery webhooks, or ready for pickup and handover), then
moves each order's timestamps into the past: the order (placed, promise), its timeline events,
routing decisions, fulfillment orders' stage times, shipments and shipment events. Stock ledger
rows are left at the time they were written (the ledger refuses updates).

Deterministic: order ``n`` draws everything from ``random.Random(seed * 1_000_003 + n)``; its
external id ``demo-flow-<n>`` makes a second run skip it. Orders that stay open (accepted,
not prepared) come after the others, so planning a pick list never takes their lines.
This module lives in ``returns`` (the top app) because it drives every app's services; the
analytics package is not a Django app and cannot hold a command.
"""

from __future__ import annotations

import json
import logging
import random
import time as clock
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import F, Max
from django.utils import timezone

from channels_app.models import Customer, SalesChannel
from fulfillment.models import (
    Carrier,
    FulfillmentOrder,
    FulfillmentOrderLine,
    PickTask,
    RoutingDecision,
    Shipment,
    ShipmentEvent,
)
from fulfillment.picking.boxes import BOX_CATALOGUE
from fulfillment.services.carrier_events import carrier_event_receive
from fulfillment.services.fulfillment_orders import (
    fulfillment_order_accept,
    fulfillment_order_reject,
)
from fulfillment.services.lifecycle import (
    fulfillment_order_handover,
    fulfillment_order_ready_for_pickup,
    fulfillment_order_ship,
)
from fulfillment.services.no_show import pickup_no_show_handle
from fulfillment.services.packing import pack_close, pack_scan, parcel_box_suggestion
from fulfillment.services.picking import pick_confirm_scan, picking_plan_location
from fulfillment.services.routing import order_route
from fulfillment.services.shipping import shipment_create
from inventory.models import Location, Product, StockLevel
from omnilog.core.errors import ApplicationError
from omnilog.core.webhooks import signed_headers
from orders.models import Order, OrderEvent
from orders.services.cancel import order_cancel
from orders.services.capture import order_place
from orders.services.inputs import AddressInput, CustomerInput, DeliveryInput, LineInput, OrderInput
from returns.models import ReturnRequest
from returns.services.common import Actor
from returns.services.receiving import return_receive
from returns.services.requests import (
    ReturnInput,
    ReturnLineInput,
    return_approve,
    return_request_create,
)

logger = logging.getLogger(__name__)
ACTOR = "demo:flows"
CARRIER = "omnilog-rates"
ADDRESSES = (
    AddressInput(
        line1="1 rue de Rivoli", postcode="75001", city="Paris", latitude=48.8606, longitude=2.3376
    ),
    AddressInput(
        line1="10 place Bellecour",
        postcode="69002",
        city="Lyon",
        latitude=45.7578,
        longitude=4.8320,
    ),
    AddressInput(
        line1="5 quai de la Fosse",
        postcode="44000",
        city="Nantes",
        latitude=47.2125,
        longitude=-1.5636,
    ),
)
CANCEL_REASONS = ("customer changed mind", "payment failed", "duplicate order")
RETURN_SHARE = 0.16
RETURN_REASONS = ("wrong_size", "changed_mind", "defective", "not_as_described", "late")
REJECT_REASONS = ("damaged on the shelf", "not found in the bin")


@dataclass
class Flow:
    """One order's planned story and the moments it is given."""

    number: int
    rng: random.Random
    placed: datetime
    mode: str
    outcome: str  # delivered, in_transit, collected, ready, open, cancelled, rejected
    marks: list[tuple[int, int, datetime]] = field(default_factory=list)  # event id ranges


@dataclass(frozen=True)
class FlowsReport:
    created: int
    skipped: int
    failed: int


def _slowness(code: str) -> float:
    """Some locations are slow (the bottlenecks the dashboard should find): every 4th code."""
    return 3.0 if zlib.crc32(code.encode()) % 4 == 0 else 1.0


def _outcome(rng: random.Random, mode: str) -> str:
    roll = rng.random()
    if roll < 0.07:
        return "cancelled"
    if roll < 0.12:
        return "rejected"
    if roll < 0.22:
        return "open"
    if mode == "click_and_collect":
        return "ready" if roll < 0.30 else "no_show" if roll < 0.38 else "collected"
    return "in_transit" if roll < 0.30 else "delivered"


class _Catalogue:
    """Products with stock to sell, per warehouse pool and per click-and-collect store."""

    def __init__(self) -> None:
        levels = (
            StockLevel.objects.filter(product__ean__isnull=False, location__is_active=True)
            .annotate(free=F("on_hand") - F("reserved") - F("damaged") - F("quality_control"))
            .filter(free__gte=6)
            .order_by("location__code", "product__sku")
            .values_list("location__kind", "location_id", "product__sku")
        )
        self.warehouse: list[str] = []
        self.stores: dict[int, list[str]] = {}
        for kind, location_id, sku in levels.iterator():
            if kind == Location.Kind.WAREHOUSE:
                self.warehouse.append(sku)
            else:
                self.stores.setdefault(location_id, []).append(sku)
        self.warehouse = sorted(set(self.warehouse))
        stores = Location.objects.filter(
            pk__in=self.stores, is_click_and_collect=True, is_active=True
        ).order_by("code")
        self.store_channels = {
            store.pk: (store.code, sorted(c.code for c in store.channels.all()))
            for store in stores.prefetch_related("channels")
        }


def _mark(flow: Flow, before: int, moment: datetime) -> int:
    last = OrderEvent.objects.aggregate(last=Max("id"))["last"] or 0
    flow.marks.append((before, last, moment))
    return last


def _carrier_says(carrier: Carrier, tracking: str, status: str, moment: datetime) -> None:
    body = json.dumps(
        {"tracking_number": tracking, "status": status, "occurred_at": moment.isoformat()}
    ).encode()
    headers = signed_headers(
        secret=carrier.webhook_secret,
        message_id=f"demo-{tracking}-{status}",
        timestamp=int(clock.time()),
        body=body,
    )
    carrier_event_receive(carrier_code=CARRIER, headers=headers, body=body)


def _pick(fo: FulfillmentOrder) -> None:
    """Plan the location's accepted lines and walk every pick list holding this order's
    lines, stop by stop (a list may also hold lines of an order whose story stopped early)."""
    picking_plan_location(location_id=fo.location_id)
    lists = (
        PickTask.objects.filter(fulfillment_order_line__fulfillment_order=fo)
        .values_list("pick_list_id", flat=True)
        .distinct()
    )
    tasks = PickTask.objects.filter(pick_list_id__in=list(lists), status=PickTask.Status.OPEN)
    for task in tasks.order_by("pick_list_id", "sequence", "id"):
        pick_confirm_scan(
            pick_list_id=task.pick_list_id, ean=task.ean, quantity=task.quantity, actor=ACTOR
        )


def _pack(fo: FulfillmentOrder, eans: dict[str, str]) -> None:
    lines = FulfillmentOrderLine.objects.filter(fulfillment_order=fo).select_related("order_line")
    for line in lines:
        for _ in range(line.quantity_picked):
            pack_scan(fulfillment_order_id=fo.pk, ean=eans[line.order_line.sku], actor=ACTOR)
    # A basket no catalogue box fits goes in the largest one, measured as packed.
    fits = parcel_box_suggestion(fulfillment_order_id=fo.pk)
    largest = max(BOX_CATALOGUE, key=lambda box: box.length_mm * box.width_mm * box.height_mm)
    pack_close(
        fulfillment_order_id=fo.pk,
        weight_grams=800,
        box_code="" if fits else largest.code,
        dimensions=None if fits else (600, 400, 400),
        actor=ACTOR,
    )


def _hours(rng: random.Random, low: float, high: float, factor: float = 1.0) -> timedelta:
    return timedelta(hours=rng.uniform(low, high) * factor)


class _Story:
    """Runs one flow through the services, noting when each step should have happened."""

    def __init__(
        self, flow: Flow, carrier: Carrier, eans: dict[str, str], return_stores: list[int]
    ) -> None:
        self.flow = flow
        self.rng = flow.rng
        self.carrier = carrier
        self.eans = eans
        self.mark = OrderEvent.objects.aggregate(last=Max("id"))["last"] or 0
        self.stamps: dict[int, dict[str, datetime]] = {}  # fulfillment order id -> fields
        self.decisions: dict[int, datetime] = {}
        self.returns: dict[int, dict[str, datetime]] = {}
        self.return_stores = return_stores

    def step(self, moment: datetime) -> datetime:
        self.mark = _mark(self.flow, self.mark, moment)
        return moment

    def route(self, order: Order, moment: datetime) -> None:
        known = set(RoutingDecision.objects.filter(order=order).values_list("id", flat=True))
        order.refresh_from_db()
        order_route(order_id=order.pk, expected_version=order.version, trigger="placed")
        for decision in RoutingDecision.objects.filter(order=order).exclude(id__in=known):
            self.decisions[decision.pk] = moment
        self.step(moment)

    def created(self, order: Order) -> list[FulfillmentOrder]:
        return list(
            FulfillmentOrder.objects.filter(order=order, status=FulfillmentOrder.Status.CREATED)
            .exclude(pk__in=self.stamps)
            .select_related("location")
            .order_by("id")
        )

    def prepare(self, order: Order, fo: FulfillmentOrder, routed: datetime) -> None:
        flow, rng = self.flow, self.rng
        factor = _slowness(fo.location.code)
        times = self.stamps.setdefault(fo.pk, {"created_at": routed})
        accepted = routed + _hours(rng, 0.2, 2.5, factor)
        fulfillment_order_accept(fulfillment_order_id=fo.pk, actor=ACTOR)
        times["accepted_at"] = self.step(accepted)
        if flow.outcome == "open":
            return
        _pick(fo)
        times["picked_at"] = self.step(accepted + _hours(rng, 0.3, 2.0, factor))
        _pack(fo, self.eans)
        times["packed_at"] = packed = self.step(times["picked_at"] + _hours(rng, 0.1, 0.8))
        if flow.mode == "click_and_collect":
            fulfillment_order_ready_for_pickup(fulfillment_order_id=fo.pk, actor=ACTOR)
            times["ready_for_pickup_at"] = ready = self.step(packed + _hours(rng, 0.2, 1, factor))
            if flow.outcome == "collected":
                fulfillment_order_handover(fulfillment_order_id=fo.pk, actor=ACTOR)
                times["collected_at"] = self.step(ready + _hours(rng, 2, 40))
                self.give_back(order, fo, times["collected_at"])
            return
        service = "express" if flow.mode == "home_express" else "standard"
        shipment = shipment_create(
            fulfillment_order_id=fo.pk, carrier_code=CARRIER, service=service, actor=ACTOR
        )
        fulfillment_order_ship(fulfillment_order_id=fo.pk, actor=ACTOR)
        times["shipped_at"] = shipped = self.step(packed + _hours(rng, 1, 6))
        Shipment.objects.filter(pk=shipment.pk).update(created_at=packed)
        ShipmentEvent.objects.filter(shipment=shipment, carrier_event_id="").update(
            occurred_at=packed, received_at=packed
        )
        tracking = shipment.tracking_number
        _carrier_says(self.carrier, tracking, "in_transit", shipped + timedelta(hours=1))
        self.step(shipped + timedelta(hours=1))
        if flow.outcome == "delivered":
            transit = (8, 20) if flow.mode == "home_express" else (18, 60)
            delivered = shipped + _hours(rng, *transit)
            _carrier_says(
                self.carrier, tracking, "out_for_delivery", delivered - timedelta(hours=3)
            )
            _carrier_says(self.carrier, tracking, "delivered", delivered)
            self.step(delivered)
            self.give_back(order, fo, delivered)

    def give_back(self, order: Order, fo: FulfillmentOrder, since: datetime) -> None:
        """About one order in six comes back (a store that takes returns, or a carrier
        pickup): requested, approved, received at the store or the returns warehouse."""
        rng = self.rng
        if rng.random() >= RETURN_SHARE or self.return_stores is None:
            return
        order.refresh_from_db()
        lines = [line for line in order.lines.order_by("line_number") if line.quantity_fulfilled]
        if not lines:
            return
        line = rng.choice(lines)
        store = rng.choice(self.return_stores) if self.return_stores else None
        has_address = bool((order.shipping_address or {}).get("postcode"))
        mode = (
            "store"
            if store is not None and (rng.random() < 0.6 or not has_address)
            else ("carrier_pickup")
        )
        if mode == "carrier_pickup" and not has_address:
            return
        actor = Actor(name=ACTOR, source="demo")
        try:
            rma = return_request_create(
                order_id=order.pk,
                data=ReturnInput(
                    lines=(ReturnLineInput(line.line_number, 1, rng.choice(RETURN_REASONS)),),
                    mode=mode,
                    location_id=store if mode == "store" else None,
                    pickup_address=order.shipping_address if mode == "carrier_pickup" else {},
                ),
                actor=actor,
            )
        except ApplicationError as error:  # a policy refuses it: no return for this order
            fields = [f"{e.field}: {e.code}" for e in error.field_errors]
            logger.info("demo return of %s refused: %s %s", order.number, error.message, fields)
            return
        requested = self.step(since + _hours(rng, 20, 120))
        self.returns[rma.pk] = {"created_at": requested}
        if rma.status == ReturnRequest.Status.REQUESTED:
            rma = return_approve(return_id=rma.pk, actor=actor)
        self.returns[rma.pk]["approved_at"] = self.step(requested + _hours(rng, 0.5, 8))
        received_at = rma.location_id or fo.location_id
        return_receive(return_id=rma.pk, location_id=received_at, actor=actor)
        self.returns[rma.pk]["received_at"] = self.step(
            self.returns[rma.pk]["approved_at"] + _hours(rng, 20, 90)
        )

    def run(self, order: Order) -> None:
        flow, rng = self.flow, self.rng
        self.step(flow.placed)
        if flow.outcome == "cancelled":
            order_cancel(order_id=order.pk, reason=rng.choice(CANCEL_REASONS), actor=ACTOR)
            self.step(flow.placed + _hours(rng, 0.1, 3))
            return
        routed = flow.placed + timedelta(minutes=rng.uniform(1, 15))
        self.route(order, routed)
        pending = self.created(order)
        if pending and flow.outcome == "rejected":
            fo = pending[0]
            lines = FulfillmentOrderLine.objects.filter(fulfillment_order=fo).order_by("id")
            rejected_at = routed + _hours(rng, 0.3, 2, _slowness(fo.location.code))
            self.stamps[fo.pk] = {"created_at": routed}
            fulfillment_order_reject(
                fulfillment_order_id=fo.pk,
                lines=[(line.pk, line.quantity, rng.choice(REJECT_REASONS)) for line in lines],
                actor=ACTOR,
            )
            for decision in RoutingDecision.objects.filter(order=order).exclude(
                id__in=self.decisions
            ):
                self.decisions[decision.pk] = rejected_at
            routed = self.step(rejected_at)
            flow.outcome = "delivered" if flow.mode != "click_and_collect" else "collected"
            pending = self.created(order)
        for fo in pending:
            self.prepare(order, fo, routed)

    def no_show(self, order: Order) -> None:
        """The no-show sweep's handling of the (now old) ready pickup: reminder, then cancel;
        its timeline events are dated when the sweep would have run."""
        for fo_id, times in self.stamps.items():
            ready = times.get("ready_for_pickup_at")
            if ready is None:
                continue
            for days in (3, 7):
                before = OrderEvent.objects.aggregate(last=Max("id"))["last"] or 0
                pickup_no_show_handle(fulfillment_order_id=fo_id, now=timezone.now())
                OrderEvent.objects.filter(order=order, id__gt=before).update(
                    created_at=ready + timedelta(days=days, hours=1)
                )

    def stamp(self, order: Order) -> None:
        """Move the order's moments to the planned ones."""
        delta = self.flow.placed - order.placed_at
        order.refresh_from_db()
        promised = order.promised_at + delta if order.promised_at else None
        Order.objects.filter(pk=order.pk).update(
            placed_at=self.flow.placed,
            created_at=self.flow.placed,
            promised_at=promised,
            promised_date=timezone.localdate(promised) if promised else order.promised_date,
            late_notified_at=None,
        )
        for low, high, moment in self.flow.marks:
            OrderEvent.objects.filter(order=order, id__gt=low, id__lte=high).update(
                created_at=moment
            )
        for return_id, moments in self.returns.items():
            ReturnRequest.objects.filter(pk=return_id).update(**moments)
        for decision_id, moment in self.decisions.items():
            RoutingDecision.objects.filter(pk=decision_id).update(created_at=moment)
        for fo_id, times in self.stamps.items():
            fo = FulfillmentOrder.objects.get(pk=fo_id)
            shift = {"accept_by": times["created_at"] + (fo.accept_by - fo.created_at)}
            FulfillmentOrder.objects.filter(pk=fo_id).update(**times, **shift)


def _plan(
    *,
    number: int,
    seed: int,
    now: datetime,
    days: int,
    catalogue: _Catalogue,
    channels: list[str],
    customers: list[str],
) -> tuple[Flow, dict[str, Any]]:
    rng = random.Random(seed * 1_000_003 + number)  # noqa: S311 (demo data, not secrets)
    stores = sorted(catalogue.store_channels)
    mode = rng.choices(["home_standard", "home_express", "click_and_collect"], [55, 12, 33])[0]
    if mode == "click_and_collect" and not stores:
        mode = "home_standard"
    outcome = _outcome(rng, mode)
    recent = outcome in ("open", "ready", "in_transit")
    days_ago = rng.uniform(0.5, 4) if recent else rng.uniform(3, max(4, days))
    if outcome == "no_show":  # ready long enough for the no-show sweep to cancel it
        days_ago = rng.uniform(10, max(11, days))
    placed = (now - timedelta(days=days_ago)).replace(microsecond=0)
    store_code = ""
    if mode == "click_and_collect":
        store = rng.choice(stores)
        store_code, sellers = catalogue.store_channels[store]
        choices = [code for code in sellers if code in channels] or channels
        skus = rng.sample(
            catalogue.stores[store], min(rng.randint(1, 2), len(catalogue.stores[store]))
        )
    else:
        choices = channels
        skus = rng.sample(catalogue.warehouse, min(rng.randint(1, 3), len(catalogue.warehouse)))
    weights = {"web": 40, "app": 25, "marketplace": 10, "callcentre": 8, "b2b": 4, "pos": 6}
    channel = rng.choices(choices, [weights.get(code, 5) for code in choices])[0]
    spec = {
        "channel": channel,
        "email": rng.choice(customers),
        "skus": skus,
        "quantities": [rng.randint(1, 2) for _ in skus],
        "store": store_code,
        "address": rng.choice(ADDRESSES),
    }
    return Flow(number=number, rng=rng, placed=placed, mode=mode, outcome=outcome), spec


def flows_seed(
    *,
    count: int,
    days: int,
    seed: int,
    now: datetime | None = None,
    on_progress: Callable[[int], None] = lambda units: None,
) -> FlowsReport:
    """Place and play ``count`` demo orders (see the module docstring); returns the counts.

    An order whose story a service refuses (no stock left, a rule) is counted as failed and
    left as far as it got.
    """
    moment = now or timezone.now()
    catalogue = _Catalogue()
    channels = sorted(SalesChannel.objects.filter(is_active=True).values_list("code", flat=True))
    customers = list(
        Customer.objects.exclude(email="")
        .order_by("id")
        .values_list("email", flat=True)[: max(20, count // 3)]
    )
    if not catalogue.warehouse or not channels or not customers:
        raise ApplicationError("No demo data: run manage.py seed_demo first.", code="no_demo_data")
    carrier = Carrier.objects.get(code=CARRIER)
    return_stores = list(
        Location.objects.filter(kind=Location.Kind.STORE, accepts_returns=True, is_active=True)
        .order_by("code")
        .values_list("id", flat=True)
    )
    channel_ids = dict(SalesChannel.objects.values_list("code", "id"))
    plans = [
        _plan(
            number=number,
            seed=seed,
            now=moment,
            days=days,
            catalogue=catalogue,
            channels=channels,
            customers=customers,
        )
        for number in range(count)
    ]
    # Orders left open come last: planning a location's pick list takes every accepted line.
    plans.sort(key=lambda item: (item[0].outcome == "open", item[0].number))
    existing = set(
        Order.objects.filter(external_id__startswith="demo-flow-").values_list(
            "external_id", flat=True
        )
    )
    eans = {
        sku: str(ean)
        for sku, ean in Product.objects.filter(ean__isnull=False).values_list("sku", "ean")
    }
    created = skipped = failed = 0
    route_on_place = getattr(settings, "FULFILLMENT_ROUTE_ON_PLACE", True)
    settings.FULFILLMENT_ROUTE_ON_PLACE = False  # routed here, in the story's order
    try:
        for flow, spec in plans:
            external_id = f"demo-flow-{flow.number:05d}"
            if external_id in existing:
                skipped += 1
                on_progress(1)
                continue
            story = _Story(flow, carrier, eans, return_stores)
            delivery = (
                DeliveryInput(mode=flow.mode, store_code=spec["store"])
                if flow.mode == "click_and_collect"
                else DeliveryInput(mode=flow.mode, address=spec["address"])
            )
            try:
                placed = order_place(
                    channel_id=channel_ids[spec["channel"]],
                    data=OrderInput(
                        customer=CustomerInput(email=spec["email"]),
                        lines=tuple(
                            LineInput(sku=sku, quantity=quantity)
                            for sku, quantity in zip(spec["skus"], spec["quantities"], strict=True)
                        ),
                        delivery=delivery,
                        external_id=external_id,
                        payment_status="authorised",
                    ),
                    actor=ACTOR,
                )
            except ApplicationError as error:
                logger.info(
                    "demo flow %s not placed: %s (%s)", external_id, error.message, error.code
                )
                failed += 1
                on_progress(1)
                continue
            order = Order.objects.get(pk=placed.pk)
            try:
                story.run(order)
            except ApplicationError as error:
                logger.info("demo flow %s stopped: %s (%s)", external_id, error.message, error.code)
                failed += 1
            story.stamp(order)
            if flow.outcome == "no_show":
                story.no_show(order)
            created += 1
            on_progress(1)
    finally:
        settings.FULFILLMENT_ROUTE_ON_PLACE = route_on_place
    return FlowsReport(created=created, skipped=skipped, failed=failed)
