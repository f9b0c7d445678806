"""Exact promise dates: cut-offs, weekends, closed days, holidays, capacity, incoming stock,
opening hours of the preparing store and of the place of collection, DST nights."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal

import pytest

from fulfillment.promise import (
    Availability,
    CartLine,
    IncomingStock,
    UnavailableReason,
    WeeklySchedule,
    promise_options,
)
from fulfillment.routing.types import DeliveryMode
from tests.fulfillment.promise.builders import (
    LYON,
    PRODUCT,
    home,
    option,
    paris,
    pickup_store,
    relay_point,
    request,
    same_day,
    standard,
    store,
    store_schedule,
    warehouse,
    warehouse_schedule,
)

STANDARD = DeliveryMode.HOME_STANDARD


def home_standard(now, **changes):
    return option(promise_options(request(now, **changes)), STANDARD)


def test_just_before_the_cutoff_leaves_today():
    result = home_standard(paris(2026, 3, 3, 16, 44))  # Tuesday; 15 min of preparation
    assert result.availability == Availability.AVAILABLE
    assert result.location_id == 1
    assert result.price == Decimal("5.90")
    assert result.stock_ready_at == paris(2026, 3, 3, 16, 44)
    assert result.prepared_at == paris(2026, 3, 3, 16, 59)
    assert result.dispatch_at == paris(2026, 3, 3, 17, 0)
    assert result.delivery_at == paris(2026, 3, 5, 18, 0)  # two delivery days: Wed, Thu
    assert result.cutoff_at == paris(2026, 3, 3, 16, 45)
    assert result.cutoff_seconds == 60
    assert result.ready_by is None


@pytest.mark.parametrize("minute", [45, 46])
def test_at_or_after_the_cutoff_leaves_the_next_working_day(minute):
    result = home_standard(paris(2026, 3, 3, 16, minute))
    assert result.dispatch_at == paris(2026, 3, 4, 17, 0)
    assert result.delivery_at == paris(2026, 3, 6, 18, 0)
    assert result.cutoff_at == paris(2026, 3, 4, 16, 45)
    assert result.cutoff_seconds == (24 * 60 - (minute - 45)) * 60


def test_friday_evening_waits_for_monday_pickup():
    # Saturday the warehouse works but the carrier does not pick up; Sunday both rest.
    result = home_standard(paris(2026, 3, 6, 18, 0))
    assert result.prepared_at == paris(2026, 3, 6, 18, 15)
    assert result.dispatch_at == paris(2026, 3, 9, 17, 0)
    assert result.delivery_at == paris(2026, 3, 11, 18, 0)
    assert result.cutoff_at == paris(2026, 3, 9, 16, 45)


def test_saturday_delivery_counts_as_a_delivery_day():
    result = home_standard(paris(2026, 3, 5, 9, 0))  # Thursday
    assert result.dispatch_at == paris(2026, 3, 5, 17, 0)
    assert result.delivery_at == paris(2026, 3, 7, 18, 0)  # Fri, Sat


def test_closed_day_of_the_preparing_location_moves_preparation_and_pickup():
    source = warehouse(schedule=warehouse_schedule(closed_days=["2026-03-09"]))
    result = home_standard(paris(2026, 3, 7, 9, 0), sources=[source])  # Saturday morning
    # Prepared on Saturday, but Monday is closed: no pickup before Tuesday.
    assert result.prepared_at == paris(2026, 3, 7, 9, 15)
    assert result.dispatch_at == paris(2026, 3, 10, 17, 0)
    assert result.delivery_at == paris(2026, 3, 12, 18, 0)


def test_carrier_holiday_blocks_pickup_and_delivery():
    holiday = frozenset({date(2026, 5, 1)})  # Friday 1 May
    source = warehouse(carrier_services=(standard(holidays=holiday),))
    after_cutoff = home_standard(paris(2026, 4, 30, 18, 0), sources=[source])
    assert after_cutoff.dispatch_at == paris(2026, 5, 4, 17, 0)
    assert after_cutoff.delivery_at == paris(2026, 5, 6, 18, 0)
    in_transit = home_standard(paris(2026, 4, 29, 10, 0), sources=[source])
    assert in_transit.dispatch_at == paris(2026, 4, 29, 17, 0)
    assert in_transit.delivery_at == paris(2026, 5, 2, 18, 0)  # Thu, (Fri off), Sat


def test_capacity_exhausted_today_spills_to_tomorrow():
    result = home_standard(paris(2026, 3, 3, 10, 0), sources=[warehouse(capacity_today=0)])
    assert result.prepared_at == paris(2026, 3, 4, 6, 15)
    assert result.dispatch_at == paris(2026, 3, 4, 17, 0)


def test_capacity_per_following_day():
    source = warehouse(capacity_today=0, capacity_by_day={date(2026, 3, 4): 0}, daily_capacity=5)
    result = home_standard(paris(2026, 3, 3, 10, 0), sources=[source])
    assert result.prepared_at == paris(2026, 3, 5, 6, 15)
    assert result.dispatch_at == paris(2026, 3, 5, 17, 0)


def test_no_capacity_in_horizon_is_unavailable():
    source = warehouse(capacity_today=0, daily_capacity=0)
    result = home_standard(paris(2026, 3, 3, 10, 0), sources=[source], horizon_days=10)
    assert result.availability == Availability.UNAVAILABLE
    assert result.reason == UnavailableReason.NO_SLOT_IN_HORIZON
    assert result.delivery_at is None


def test_incoming_stock_is_promised_from_its_arrival():
    incoming = (IncomingStock(PRODUCT, 4, paris(2026, 3, 5, 14, 0)),)
    source = warehouse(stock={PRODUCT: 1}, incoming=incoming)
    result = home_standard(paris(2026, 3, 3, 10, 0), sources=[source], lines=[CartLine(PRODUCT, 3)])
    assert result.availability == Availability.AVAILABLE_LATER
    assert result.stock_ready_at == paris(2026, 3, 5, 14, 0)
    assert result.prepared_at == paris(2026, 3, 5, 14, 15)
    assert result.dispatch_at == paris(2026, 3, 5, 17, 0)
    assert result.delivery_at == paris(2026, 3, 7, 18, 0)
    assert result.cutoff_at == paris(2026, 3, 5, 16, 45)


def test_incoming_arrivals_accumulate_until_the_quantity_is_reached():
    incoming = (
        IncomingStock(PRODUCT, 1, paris(2026, 3, 4, 8, 0)),
        IncomingStock(PRODUCT, 1, paris(2026, 3, 6, 8, 0)),
        IncomingStock(PRODUCT, 5, paris(2026, 3, 10, 8, 0)),
    )
    source = warehouse(stock={}, incoming=incoming)
    result = home_standard(paris(2026, 3, 3, 10, 0), sources=[source], lines=[CartLine(PRODUCT, 2)])
    assert result.stock_ready_at == paris(2026, 3, 6, 8, 0)


def test_on_hand_stock_beats_incoming_stock_elsewhere():
    early = warehouse(
        location_id=1, stock={}, incoming=(IncomingStock(PRODUCT, 5, paris(2026, 3, 3, 11, 0)),)
    )
    on_hand = warehouse(location_id=3, code="wh-lyon", position=LYON)
    result = home_standard(paris(2026, 3, 3, 10, 0), sources=[early, on_hand])
    assert result.availability == Availability.AVAILABLE
    assert result.location_id == 3


def test_out_of_stock_everywhere():
    result = home_standard(paris(2026, 3, 3, 10, 0), lines=[CartLine(PRODUCT, 50)])
    assert result.availability == Availability.UNAVAILABLE
    assert result.reason == UnavailableReason.OUT_OF_STOCK
    assert [r.location_id for r in result.rejections] == [1]


def test_carrier_refusal_is_reported():
    source = warehouse(carrier_services=(standard(refusal="too_heavy: 32000 g > 30000 g"),))
    result = home_standard(paris(2026, 3, 3, 10, 0), sources=[source])
    assert result.reason == UnavailableReason.CARRIER_REFUSED
    assert result.detail == "too_heavy: 32000 g > 30000 g"


def test_express_has_its_own_cutoff_and_delivery_days():
    options = promise_options(request(paris(2026, 3, 6, 14, 0)))  # Friday
    result = option(options, DeliveryMode.HOME_EXPRESS)
    assert result.dispatch_at == paris(2026, 3, 6, 15, 0)
    assert result.delivery_at == paris(2026, 3, 9, 13, 0)  # no Saturday express delivery
    assert result.price == Decimal("12.90")


def test_options_follow_the_destination():
    modes = [o.mode for o in promise_options(request(paris(2026, 3, 3, 10, 0)))]
    assert modes == [DeliveryMode.HOME_STANDARD, DeliveryMode.HOME_EXPRESS, DeliveryMode.SAME_DAY]
    at_store = promise_options(
        request(paris(2026, 3, 3, 10, 0), destination=pickup_store(), sources=[warehouse()])
    )
    assert [o.mode for o in at_store] == [
        DeliveryMode.CLICK_AND_COLLECT,
        DeliveryMode.SHIP_TO_STORE,
    ]
    at_relay = promise_options(request(paris(2026, 3, 3, 10, 0), destination=relay_point()))
    assert [o.mode for o in at_relay] == [DeliveryMode.RELAY_POINT]


# Same-day ---------------------------------------------------------------------------------


def same_day_option(now, **changes):
    changes.setdefault("sources", [store(), warehouse()])
    return option(promise_options(request(now, **changes)), DeliveryMode.SAME_DAY)


def test_same_day_before_its_cutoff():
    result = same_day_option(paris(2026, 3, 3, 11, 0))
    assert result.availability == Availability.AVAILABLE
    assert result.location_id == 2
    assert result.prepared_at == paris(2026, 3, 3, 11, 10)
    assert result.dispatch_at == paris(2026, 3, 3, 14, 0)
    assert result.delivery_at == paris(2026, 3, 3, 21, 0)
    # Closed 13:00-14:00: the last 10 working minutes before 14:00 start at 12:50.
    assert result.cutoff_at == paris(2026, 3, 3, 12, 50)


def test_same_day_preparation_pauses_over_lunch():
    # 12:55 + 5 min before the 13:00 close, then 5 min after 14:00: too late for 14:00.
    result = same_day_option(paris(2026, 3, 3, 12, 55))
    assert result.availability == Availability.UNAVAILABLE
    assert result.reason == UnavailableReason.SAME_DAY_CUTOFF_PASSED
    earlier = same_day_option(paris(2026, 3, 3, 12, 49))
    assert earlier.prepared_at == paris(2026, 3, 3, 12, 59)
    assert earlier.cutoff_at == paris(2026, 3, 3, 12, 50)  # 13:00 less 10 working minutes


def test_same_day_store_not_open_yet():
    result = same_day_option(paris(2026, 3, 3, 7, 0))
    assert result.prepared_at == paris(2026, 3, 3, 10, 10)  # the store opens at 10:00
    assert result.delivery_at == paris(2026, 3, 3, 21, 0)


def test_same_day_out_of_range():
    result = same_day_option(paris(2026, 3, 3, 11, 0), destination=home(position=LYON))
    assert result.reason == UnavailableReason.OUT_OF_RANGE


# Click-and-collect --------------------------------------------------------------------------


def collect(now, **changes):
    changes.setdefault("sources", [store(), warehouse()])
    changes.setdefault("destination", pickup_store())
    return option(promise_options(request(now, **changes)), DeliveryMode.CLICK_AND_COLLECT)


def test_click_and_collect_waits_for_the_store_to_open():
    result = collect(paris(2026, 3, 3, 8, 0))
    assert result.availability == Availability.AVAILABLE
    assert result.prepared_at == paris(2026, 3, 3, 10, 10)
    assert result.ready_by == paris(2026, 3, 3, 10, 10)
    assert result.price == Decimal("0.00")
    assert result.cutoff_at == paris(2026, 3, 3, 18, 50)
    assert result.cutoff_seconds == (10 * 60 + 50) * 60


def test_click_and_collect_finishing_at_closing_is_ready_next_opening():
    result = collect(paris(2026, 3, 3, 18, 50))
    assert result.prepared_at == paris(2026, 3, 3, 19, 0)
    assert result.ready_by == paris(2026, 3, 4, 10, 0)
    assert result.cutoff_at == paris(2026, 3, 4, 18, 50)


def test_click_and_collect_saturday_evening_to_monday():
    result = collect(paris(2026, 3, 7, 18, 55))  # closes 19:00, closed Sunday
    assert result.ready_by == paris(2026, 3, 9, 10, 5)


def test_click_and_collect_skips_the_store_closed_day():
    closed = store_schedule(closed_days=["2026-03-04"])
    result = collect(
        paris(2026, 3, 3, 19, 30),
        sources=[store(schedule=closed)],
        destination=pickup_store(schedule=closed),
    )
    assert result.ready_by == paris(2026, 3, 5, 10, 10)


def test_click_and_collect_needs_the_stock_in_the_store():
    result = collect(paris(2026, 3, 3, 10, 0), lines=[CartLine(PRODUCT, 5)])
    assert result.reason == UnavailableReason.OUT_OF_STOCK


def test_store_without_click_and_collect():
    result = collect(paris(2026, 3, 3, 10, 0), destination=pickup_store(is_click_and_collect=False))
    assert result.reason == UnavailableReason.STORE_NOT_CLICK_AND_COLLECT


# Ship-to-store and relay ------------------------------------------------------------------


def test_ship_to_store_is_ready_after_booking_in_inside_opening_hours():
    options = promise_options(
        request(paris(2026, 3, 3, 10, 0), destination=pickup_store(), sources=[warehouse()])
    )
    result = option(options, DeliveryMode.SHIP_TO_STORE)
    assert result.location_id == 1
    assert result.dispatch_at == paris(2026, 3, 3, 18, 0)
    assert result.delivery_at == paris(2026, 3, 4, 8, 0)  # dropped before opening
    assert result.ready_by == paris(2026, 3, 4, 10, 15)  # opens 10:00, 15 min to book in


def test_ship_to_store_delivery_waits_for_an_open_store_day():
    options = promise_options(
        request(paris(2026, 3, 6, 10, 0), destination=pickup_store(), sources=[warehouse()])
    )
    result = option(options, DeliveryMode.SHIP_TO_STORE)
    assert result.delivery_at == paris(2026, 3, 7, 8, 0)  # Saturday: the store opens
    options = promise_options(
        request(paris(2026, 3, 7, 10, 0), destination=pickup_store(), sources=[warehouse()])
    )
    result = option(options, DeliveryMode.SHIP_TO_STORE)
    assert result.dispatch_at == paris(2026, 3, 9, 18, 0)
    assert result.ready_by == paris(2026, 3, 10, 10, 15)


def test_relay_point_ready_inside_its_opening_hours():
    late_opening = WeeklySchedule.from_json({"sat": [["14:00", "18:00"]]})
    options = promise_options(
        request(paris(2026, 3, 4, 10, 0), destination=relay_point(schedule=late_opening))
    )
    result = option(options, DeliveryMode.RELAY_POINT)
    assert result.dispatch_at == paris(2026, 3, 4, 17, 0)
    assert result.delivery_at == paris(2026, 3, 7, 11, 0)  # Thu, Fri, Sat
    assert result.ready_by == paris(2026, 3, 7, 14, 0)
    assert result.price == Decimal("3.90")


def test_relay_point_closed_on_the_delivery_day_moves_it():
    # Thursday dispatch: Fri, Sat, Mon, but the relay is closed on Monday -> Tuesday.
    options = promise_options(request(paris(2026, 3, 5, 10, 0), destination=relay_point()))
    result = option(options, DeliveryMode.RELAY_POINT)
    assert result.delivery_at == paris(2026, 3, 10, 11, 0)
    assert result.ready_by == paris(2026, 3, 10, 11, 0)


def test_relay_point_of_another_carrier_network():
    options = promise_options(
        request(paris(2026, 3, 4, 10, 0), destination=relay_point(carrier_code="other-relay"))
    )
    result = option(options, DeliveryMode.RELAY_POINT)
    assert result.reason == UnavailableReason.NO_CARRIER_SERVICE


# Time zones and DST -----------------------------------------------------------------------


def always_open_warehouse(**changes):
    services = (standard(cutoffs=dict.fromkeys(range(7), time(17, 0))),)
    return warehouse(schedule=WeeklySchedule.from_json({}), carrier_services=services, **changes)


def test_spring_forward_night_preparation():
    # 01:50 CET + 15 min of work = 03:05 CEST (02:00-03:00 does not exist).
    result = home_standard(paris(2026, 3, 29, 1, 50), sources=[always_open_warehouse()])
    assert result.prepared_at == paris(2026, 3, 29, 3, 5)
    assert result.prepared_at.astimezone(UTC) == datetime(2026, 3, 29, 1, 5, tzinfo=UTC)


def test_fall_back_night_preparation():
    # 02:50 CEST (first 02:50) + 15 min = 02:05 CET (the second 02:00-03:00).
    now = paris(2026, 10, 25, 2, 50)
    result = home_standard(now, sources=[always_open_warehouse()])
    assert result.prepared_at.astimezone(UTC) == datetime(2026, 10, 25, 1, 5, tzinfo=UTC)
    assert (result.prepared_at.hour, result.prepared_at.minute, result.prepared_at.fold) == (
        2,
        5,
        1,
    )


def test_countdown_across_the_spring_forward_night_is_a_real_duration():
    result = home_standard(paris(2026, 3, 28, 17, 0), sources=[always_open_warehouse()])
    assert result.dispatch_at == paris(2026, 3, 29, 17, 0)
    assert result.cutoff_at == paris(2026, 3, 29, 16, 45)
    assert result.cutoff_seconds == (22 * 60 + 45) * 60  # 23 h 45 of wall clock, 1 h lost


def test_now_in_another_zone_is_the_same_instant():
    in_utc = paris(2026, 3, 3, 16, 44).astimezone(UTC)
    assert home_standard(in_utc) == home_standard(paris(2026, 3, 3, 16, 44))


def test_location_in_another_time_zone():
    schedule = WeeklySchedule.from_json(
        {d: [["08:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")},
        timezone="Europe/London",
    )
    source = warehouse(schedule=schedule)
    # 16:50 Paris is 15:50 London: 15 min of work ends 16:05, before the 17:00 London cut-off.
    result = home_standard(paris(2026, 3, 3, 16, 50), sources=[source])
    assert result.dispatch_at == paris(2026, 3, 3, 18, 0)
    assert result.cutoff_at.utcoffset().total_seconds() == 0


def test_naive_now_is_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        promise_options(request(datetime(2026, 3, 3, 10, 0)))


def test_opening_hours_json_is_validated():
    with pytest.raises(ValueError, match="unknown weekday"):
        WeeklySchedule.from_json({"monday": [["09:00", "19:00"]]})
    with pytest.raises(ValueError, match="open before it closes"):
        WeeklySchedule.from_json({"mon": [["19:00", "09:00"]]})
    late = WeeklySchedule.from_json({"fri": [["18:00", "24:00"]]})
    assert late.intervals_on(date(2026, 3, 6))[0][1] == paris(2026, 3, 7, 0, 0)


def test_same_day_from_a_source_without_the_service_is_skipped():
    result = same_day_option(paris(2026, 3, 3, 11, 0), sources=[warehouse()])
    assert result.reason == UnavailableReason.NO_CARRIER_SERVICE
    assert same_day(max_distance_km=None).max_distance_km is None
