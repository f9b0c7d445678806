"""Hypothesis properties: promises never lie about time, and move the right way."""

from __future__ import annotations

from datetime import UTC, time, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from fulfillment.promise import Availability, CartLine, IncomingStock, promise_options
from fulfillment.routing.types import DeliveryMode
from tests.fulfillment.promise.builders import (
    PRODUCT,
    option,
    paris,
    pickup_store,
    relay_point,
    request,
    standard,
    store,
    warehouse,
)

START = paris(2026, 3, 20, 0, 0)  # a fortnight that spans the spring-forward night
minutes = st.integers(min_value=0, max_value=14 * 24 * 60)
cutoff_times = st.builds(time, st.integers(8, 20), st.sampled_from([0, 15, 30, 45]))
destinations = st.sampled_from(["home", "store", "relay"])


def _destination(kind):
    return {"home": None, "store": pickup_store(), "relay": relay_point()}[kind]


def _sources(stock, incoming_offset, cutoff):
    incoming: tuple[IncomingStock, ...] = ()
    if incoming_offset is not None:
        incoming = (IncomingStock(PRODUCT, 5, START + timedelta(minutes=incoming_offset)),)
    services = (standard(cutoffs=dict.fromkeys(range(5), cutoff)),)
    base = warehouse().carrier_services[1:]
    return (
        warehouse(stock={PRODUCT: stock}, incoming=incoming, carrier_services=services + base),
        store(stock={PRODUCT: stock}),
    )


def _promised(result):
    if result.availability == Availability.UNAVAILABLE:
        return None
    return result.promised_at.astimezone(UTC)


@settings(max_examples=150, deadline=None)
@given(
    offset=minutes,
    stock=st.integers(0, 3),
    incoming=st.none() | minutes,
    cutoff=cutoff_times,
    kind=destinations,
)
def test_dates_are_ordered_and_never_before_now(offset, stock, incoming, cutoff, kind):
    now = START + timedelta(minutes=offset)
    options = promise_options(
        request(
            now,
            sources=_sources(stock, incoming, cutoff),
            destination=_destination(kind),
            lines=[CartLine(PRODUCT, 2)],
        )
    )
    for result in options:
        if result.availability == Availability.UNAVAILABLE:
            assert result.reason is not None
            assert result.promised_at is None
            continue
        stock_ready_at, prepared_at = result.stock_ready_at, result.prepared_at
        cutoff_at, promised_at = result.cutoff_at, result.promised_at
        assert stock_ready_at is not None
        assert prepared_at is not None
        assert cutoff_at is not None
        assert promised_at is not None
        assert now <= stock_ready_at <= prepared_at
        assert cutoff_at > now
        assert (result.cutoff_seconds or 0) > 0
        assert promised_at >= prepared_at
        if result.dispatch_at is not None:
            assert result.delivery_at is not None
            assert prepared_at < result.dispatch_at <= result.delivery_at
        if result.ready_by is not None:
            schedule = pickup_store().schedule if kind == "store" else relay_point().schedule
            ready = result.ready_by.astimezone(UTC)
            assert any(
                opening <= ready < closing
                for opening, closing in schedule.intervals_on(schedule.local_date(ready))
            )


@settings(max_examples=100, deadline=None)
@given(
    offset=minutes,
    later_by=st.integers(1, 3 * 24 * 60),
    stock=st.integers(0, 3),
    incoming=st.none() | minutes,
    kind=destinations,
)
def test_ordering_later_never_gives_an_earlier_date(offset, later_by, stock, incoming, kind):
    sources = _sources(stock, incoming, time(17, 0))
    now = START + timedelta(minutes=offset)
    first = promise_options(request(now, sources=sources, destination=_destination(kind)))
    second = promise_options(
        request(now + timedelta(minutes=later_by), sources=sources, destination=_destination(kind))
    )
    for earlier, later in zip(first, second, strict=True):
        if _promised(earlier) is not None and _promised(later) is not None:
            assert _promised(later) >= _promised(earlier)


@settings(max_examples=100, deadline=None)
@given(offset=minutes, stock=st.integers(0, 3), first=cutoff_times, second=cutoff_times)
def test_a_later_cutoff_never_gives_a_later_date(offset, stock, first, second):
    early, late = sorted([first, second])
    now = START + timedelta(minutes=offset)
    with_early = option(
        promise_options(request(now, sources=_sources(stock, 0, early))),
        DeliveryMode.HOME_STANDARD,
    )
    with_late = option(
        promise_options(request(now, sources=_sources(stock, 0, late))),
        DeliveryMode.HOME_STANDARD,
    )
    assert _promised(with_late) <= _promised(with_early)


def _rank(result):
    order = [Availability.AVAILABLE, Availability.AVAILABLE_LATER, Availability.UNAVAILABLE]
    promised = _promised(result)
    return (order.index(result.availability), promised or START + timedelta(days=365))


@settings(max_examples=100, deadline=None)
@given(
    offset=minutes,
    stock=st.integers(0, 3),
    extra=st.integers(1, 3),
    incoming=st.none() | minutes,
    kind=destinations,
)
def test_more_stock_never_worsens_availability(offset, stock, extra, incoming, kind):
    now = START + timedelta(minutes=offset)
    lines = [CartLine(PRODUCT, 2)]
    less = promise_options(
        request(now, sources=_sources(stock, incoming, time(17, 0)),
                destination=_destination(kind), lines=lines)
    )  # fmt: skip
    more = promise_options(
        request(now, sources=_sources(stock + extra, incoming, time(17, 0)),
                destination=_destination(kind), lines=lines)
    )  # fmt: skip
    for before, after in zip(less, more, strict=True):
        assert _rank(after) <= _rank(before)
