"""Candidate filters per delivery mode and rule, each failure with a reason a human can read.

Every filter is evaluated (no short-circuit) so that the explanation lists all the reasons a
location was left out, e.g. ``("distance 412 km > max 50 km", "capacity exhausted")``.

By delivery mode:

- home standard / relay point: parcels shipped from warehouses and ship-from-store stores that
  can prepare the parcel in the horizon (``ready_at`` known); relay also needs the relay
  point's carrier;
- home express: the same, but the parcel must be ready today (the carrier's cut-off);
- same-day: stores (or dark stores) ready today, within the policy's same-day radius, with
  capacity left;
- click-and-collect / ship-to-store: the pickup store must offer click-and-collect; any other
  location may send a transfer to it when it can prepare it in the horizon.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from fulfillment.routing.costs import usable_stock
from fulfillment.routing.types import Candidate, DeliveryMode, LocationKind, Rule

PARCEL_MODES = frozenset(
    {DeliveryMode.HOME_STANDARD, DeliveryMode.HOME_EXPRESS, DeliveryMode.RELAY_POINT}
)
PICKUP_MODES = frozenset({DeliveryMode.CLICK_AND_COLLECT, DeliveryMode.SHIP_TO_STORE})
STORE_KINDS = frozenset({LocationKind.STORE, LocationKind.DARK_STORE})


class Screened:
    """One candidate after the filters: its distance, what failed, what passed."""

    __slots__ = ("candidate", "distance_km", "failed", "is_pickup_store", "passed")

    def __init__(
        self,
        candidate: Candidate,
        distance_km: float | None,
        failed: tuple[str, ...],
        passed: tuple[str, ...],
        *,
        is_pickup_store: bool,
    ) -> None:
        self.candidate = candidate
        self.distance_km = distance_km
        self.failed = failed
        self.passed = passed
        self.is_pickup_store = is_pickup_store


def _same_day(moment: datetime, now: datetime) -> bool:
    if moment.tzinfo is not None and now.tzinfo is not None:
        moment = moment.astimezone(now.tzinfo)
    return moment.date() == now.date()


def _km(value: float) -> str:
    return f"{value:.0f}" if value >= 10 else f"{value:.1f}"


class Screener:
    """The filters of one rule for one demand, with everything that does not depend on the
    candidate worked out once (routing screens thousands of candidates per decision)."""

    def __init__(
        self,
        *,
        mode: DeliveryMode,
        rule: Rule,
        products: Sequence[int],
        relay_carrier: str,
        pickup_location_id: int | None,
        same_day_radius_km: float,
        now: datetime,
    ) -> None:
        self.rule = rule
        self.products = tuple(products)
        self.pickup_location_id = pickup_location_id if mode in PICKUP_MODES else None
        self.kinds = rule.location_kinds
        self.kinds_text = ", ".join(sorted(rule.location_kinds))
        self.groups = rule.location_groups
        self.groups_text = ", ".join(sorted(rule.location_groups))
        self.max_distance = rule.max_distance_km
        self.is_parcel = mode in PARCEL_MODES
        self.ship_from_store = self.is_parcel or rule.require_ship_from_store
        self.is_same_day = mode == DeliveryMode.SAME_DAY
        self.radius = same_day_radius_km
        self.today_only = mode in (DeliveryMode.HOME_EXPRESS, DeliveryMode.SAME_DAY)
        self.carrier = relay_carrier if mode == DeliveryMode.RELAY_POINT else ""
        self.capacity = rule.require_capacity or self.is_same_day
        self.now = now
        self._applicable: dict[tuple[LocationKind, bool], tuple[str, ...]] = {}
        self._passed: dict[tuple[tuple[str, ...], tuple[str, ...]], tuple[str, ...]] = {}
        # When the stock filter fails, every product is missing: its reason is the same text
        # for every candidate, worked out once.
        plural = "s" if len(self.products) > 1 else ""
        listed = ", ".join(str(product) for product in self.products)
        self.no_stock_reason = f"no stock of product{plural} {listed}"

    def applicable(self, kind: LocationKind, *, is_pickup: bool) -> tuple[str, ...]:
        """The names of the filters a candidate of ``kind`` is checked against, in order."""
        key = (kind, is_pickup)
        names = self._applicable.get(key)
        if names is None:
            found: list[str] = []
            if is_pickup:
                found += ["click_and_collect", "open"]
            else:
                found += ["kind"] if self.kinds else []
                found += ["group"] if self.groups else []
                found += ["distance"] if self.max_distance is not None else []
                is_store = kind == LocationKind.STORE
                found += ["ship_from_store"] if is_store and self.ship_from_store else []
                found += ["parcels"] if self.is_parcel else []
                found += ["store", "same_day_radius"] if self.is_same_day else []
                found += ["cut_off"]
                found += ["carrier"] if self.carrier else []
            found += ["capacity"] if self.capacity else []
            found += ["stock"]
            names = self._applicable[key] = tuple(found)
        return names

    def _has_stock(self, candidate: Candidate) -> bool:
        """Whether ``candidate`` has usable units of at least one demanded product."""
        if self.rule.respect_safety_stock:
            atp = candidate.stock
            return any(atp.get(product, 0) > 0 for product in self.products)
        for product in self.products:
            if usable_stock(candidate, product, respect_safety_stock=False) > 0:
                return True
        return False

    def _passes_all(self, candidate: Candidate, distance_km: float | None) -> bool:
        """True when ``candidate`` (not the pickup store; modes other than same-day) passes
        every filter ``screen`` would apply; False when one fails or the case is not covered.
        Must agree with ``screen``'s checks below."""
        if self.is_same_day or candidate.location_id == self.pickup_location_id:
            return False
        kind = candidate.kind
        if self.kinds and kind not in self.kinds:
            return False
        if self.groups and not candidate.groups & self.groups:
            return False
        maximum = self.max_distance
        if maximum is not None and (distance_km is None or distance_km > maximum):
            return False
        if self.ship_from_store and kind == LocationKind.STORE and not candidate.is_ship_from_store:
            return False
        if self.is_parcel and not candidate.ships_parcels:
            return False
        ready_at = candidate.ready_at
        if ready_at is None or (self.today_only and not _same_day(ready_at, self.now)):
            return False
        if self.carrier and self.carrier not in candidate.carriers:
            return False
        if self.capacity and candidate.capacity_left <= 0:
            return False
        return self._has_stock(candidate)

    def screen(self, candidate: Candidate, distance_km: float | None) -> Screened:
        """Apply the rule's location filters and the delivery mode's to one candidate."""
        if self._passes_all(candidate, distance_km):
            # The common case, without building any reason: every applicable filter passed.
            return Screened(
                candidate,
                distance_km,
                (),
                self.applicable(candidate.kind, is_pickup=False),
                is_pickup_store=False,
            )
        names: list[str] = []  # of the failed filters
        reasons: list[str] = []
        is_pickup = candidate.location_id == self.pickup_location_id
        kind = candidate.kind
        if is_pickup:
            if not candidate.is_click_and_collect:
                names.append("click_and_collect")
                reasons.append("click-and-collect disabled")
            if candidate.ready_at is None:
                names.append("open")
                reasons.append("cannot be ready (closed)")
        else:
            if self.kinds and kind not in self.kinds:
                names.append("kind")
                reasons.append(f"kind {kind} not in rule ({self.kinds_text})")
            if self.groups and not candidate.groups & self.groups:
                names.append("group")
                reasons.append(f"not in location groups {self.groups_text}")
            if self.max_distance is not None:
                if distance_km is None:
                    names.append("distance")
                    reasons.append("distance unknown (no coordinates)")
                elif distance_km > self.max_distance:
                    names.append("distance")
                    limit = f"{self.max_distance:g}"
                    reasons.append(f"distance {_km(distance_km)} km > max {limit} km")
            if (
                self.ship_from_store
                and kind == LocationKind.STORE
                and not candidate.is_ship_from_store
            ):
                names.append("ship_from_store")
                reasons.append("ship-from-store disabled")
            if self.is_parcel and not candidate.ships_parcels:
                names.append("parcels")
                reasons.append("does not ship parcels")
            if self.is_same_day:
                if kind not in STORE_KINDS:
                    names.append("store")
                    reasons.append("not a store (same-day ships from stores)")
                if distance_km is None:
                    names.append("same_day_radius")
                    reasons.append("distance unknown (no coordinates)")
                elif distance_km > self.radius:
                    names.append("same_day_radius")
                    radius = f"{self.radius:g}"
                    reasons.append(f"distance {_km(distance_km)} km > same-day radius {radius} km")
            ready_at = candidate.ready_at
            if ready_at is None or (self.today_only and not _same_day(ready_at, self.now)):
                names.append("cut_off")
                reasons.append("cannot meet cut-off")
            if self.carrier and self.carrier not in candidate.carriers:
                names.append("carrier")
                reasons.append(f"carrier {self.carrier} not served")
        if self.capacity and candidate.capacity_left <= 0:
            names.append("capacity")
            reasons.append("capacity exhausted")
        if not self._has_stock(candidate):
            names.append("stock")
            reasons.append(self.no_stock_reason)
        applicable = self.applicable(kind, is_pickup=is_pickup)
        if names:
            # Few distinct (filters, failures) pairs per rule: the passed names are cached.
            key = (applicable, tuple(names))
            passed = self._passed.get(key)
            if passed is None:
                passed = self._passed[key] = tuple(name for name in applicable if name not in names)
        else:
            passed = applicable
        return Screened(
            candidate,
            0.0 if is_pickup else distance_km,
            tuple(reasons),
            passed,
            is_pickup_store=is_pickup,
        )
