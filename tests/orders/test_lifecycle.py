"""Order lifecycle services: transitions, hold, release, cancel, payment, unpaid expiry."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from inventory.models import Reservation
from inventory.services import reservations_expire, stock_hold_confirm
from omnilog.core.errors import Conflict, NotFound, ValidationFailed
from orders.models import Order, OrderEvent
from orders.services.lifecycle import (
    order_cancel,
    order_hold,
    order_payment_update,
    order_release,
    order_transition,
    orders_expire_unpaid,
)
from tests.inventory.helpers import assert_ledger_consistent
from tests.orders.lifecycle_support import (
    active,
    events,
    line,
    place,
    reserved,
    shop,
    snapshot,
    topics,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(db):  # type: ignore[no-untyped-def]
    return shop()


def test_hold_and_release_write_events_and_outbox(world) -> None:  # type: ignore[no-untyped-def]
    order = place(world["web"], {"SHIRT": 2})
    version = order.version

    held = order_hold(
        order_id=order.id, reason="Fraud check", actor="anna", channel_id=world["web"].id
    )
    assert (held.status, held.hold_reason, held.version) == ("on_hold", "Fraud check", version + 1)
    released = order_release(order_id=order.id, actor="anna", source="admin")

    order.refresh_from_db()
    assert (order.status, order.hold_reason, order.version) == ("placed", "", version + 2)
    assert released.status == "placed"
    assert events(order)[-2:] == [("held", "placed", "on_hold"), ("released", "on_hold", "placed")]
    hold_event, release_event = OrderEvent.objects.filter(order=order).order_by("id")[1:]
    assert (hold_event.actor, hold_event.channel_id, hold_event.message) == (
        "anna",
        world["web"].id,
        "Fraud check",
    )
    assert hold_event.details == {"reason": "Fraud check"}
    assert (release_event.source, release_event.details) == (
        "admin",
        {"hold_reason": "Fraud check"},
    )
    assert topics(order) == ["order.placed", "order.on_hold", "order.placed"]
    # Stock stays reserved through a hold.
    assert active(line(order, "SHIRT")) == [("wh-paris", 2, "order", "pool")]


def test_invalid_transition_is_refused_and_writes_nothing(world) -> None:  # type: ignore[no-untyped-def]
    order = place(world["web"], {"SHIRT": 1})
    before = snapshot(order)

    with pytest.raises(Conflict) as refused:
        order_transition(order=order, to_status="shipped", actor="anna")
    assert refused.value.code == "invalid_transition"
    assert refused.value.details == {
        "from_status": "placed",
        "to_status": "shipped",
        "allowed": ["backordered", "cancelled", "on_hold", "routed"],
    }
    with pytest.raises(Conflict) as not_held:
        order_release(order_id=order.id, actor="anna")
    assert not_held.value.code == "invalid_transition"
    assert snapshot(order) == before


def test_transition_rechecks_the_status_under_the_lock(world) -> None:  # type: ignore[no-untyped-def]
    order = place(world["web"], {"SHIRT": 1})
    stale = Order.objects.get(pk=order.pk)
    order_transition(order=order, to_status="cancelled", actor="anna")

    with pytest.raises(Conflict):
        order_transition(order=stale, to_status="routed", actor="anna")
    assert Order.objects.get(pk=order.pk).status == "cancelled"


def test_hold_needs_a_reason(world) -> None:  # type: ignore[no-untyped-def]
    order = place(world["web"], {"SHIRT": 1})
    with pytest.raises(ValidationFailed) as refused:
        order_hold(order_id=order.id, reason="  ", actor="anna")
    assert [e.field for e in refused.value.field_errors] == ["reason"]


def test_another_channel_cannot_act_on_the_order(world) -> None:  # type: ignore[no-untyped-def]
    order = place(world["web"], {"SHIRT": 1})
    with pytest.raises(NotFound) as refused:
        order_hold(order_id=order.id, reason="x", actor="api", channel_id=world["other"].id)
    assert refused.value.code == "order_not_found"


def test_partial_cancel_releases_exactly_those_units(world) -> None:  # type: ignore[no-untyped-def]
    order = place(world["web"], {"SHIRT": 5, "SHOES": 2})
    shirt = line(order, "SHIRT")

    order_cancel(order_id=order.id, lines=[(shirt.id, 3)], reason="Customer request", actor="anna")

    shirt.refresh_from_db()
    assert (shirt.quantity, shirt.quantity_cancelled, shirt.quantity_open) == (5, 3, 2)
    assert active(shirt) == [("wh-paris", 2, "order", "pool")]
    assert reserved(world["shirt"], world["warehouse"]) == 2
    assert reserved(world["shoes"], world["warehouse"]) == 2
    order.refresh_from_db()
    assert order.status == "placed"
    event = OrderEvent.objects.filter(order=order).latest("id")
    assert (event.kind, event.to_status, event.message) == ("cancelled", "", "Customer request")
    assert event.details == {
        "reason": "Customer request",
        "lines": [{"line_number": 1, "sku": "SHIRT", "quantity": 3}],
        "released_units": 3,
    }
    assert topics(order) == ["order.placed", "order.lines_cancelled"]
    assert_ledger_consistent()


def test_partial_cancel_takes_the_youngest_reservation_first(world) -> None:  # type: ignore[no-untyped-def]
    from inventory.services import ReserveLine, stock_reserve

    order = place(world["web"], {"SHIRT": 2})
    shirt = line(order, "SHIRT")
    # A second, younger reservation of the same line, at the store (as routing could leave).
    stock_reserve(
        lines=[
            ReserveLine(
                product_id=world["shirt"].id,
                quantity=1,
                location_id=world["store"].id,
                reference_id=str(shirt.id),
            )
        ],
        reference_type="order_line",
    )
    shirt.quantity = 3
    shirt.save(update_fields=["quantity"])

    order_cancel(order_id=order.id, lines=[(shirt.id, 2)], reason="Too many", actor="anna")

    assert active(shirt) == [("wh-paris", 1, "order", "pool")]
    assert reserved(world["shirt"], world["store"]) == 0
    assert reserved(world["shirt"], world["warehouse"]) == 1
    assert_ledger_consistent()


def test_full_cancel_releases_everything(world) -> None:  # type: ignore[no-untyped-def]
    order = place(world["web"], {"SHIRT": 5, "SHOES": 2})
    order_cancel(
        order_id=order.id, lines=[(line(order, "SHOES").id, 1)], reason="First", actor="anna"
    )

    order_cancel(
        order_id=order.id, reason="Changed my mind", actor="api", channel_id=order.channel_id
    )

    order.refresh_from_db()
    assert order.status == "cancelled"
    assert [(row.quantity_cancelled, row.quantity_open) for row in order.lines.order_by("id")] == [
        (5, 0),
        (2, 0),
    ]
    assert reserved(world["shirt"], world["warehouse"]) == 0
    assert reserved(world["shoes"], world["warehouse"]) == 0
    assert not Reservation.objects.filter(status="active").exists()
    assert events(order)[-1] == ("cancelled", "placed", "cancelled")
    assert OrderEvent.objects.filter(order=order).latest("id").details == {
        "reason": "Changed my mind",
        "lines": [
            {"line_number": 1, "sku": "SHIRT", "quantity": 5},
            {"line_number": 2, "sku": "SHOES", "quantity": 1},
        ],
        "released_units": 6,
    }
    assert topics(order) == ["order.placed", "order.lines_cancelled", "order.cancelled"]
    assert_ledger_consistent()


def test_cancelling_the_last_open_units_cancels_the_order(world) -> None:  # type: ignore[no-untyped-def]
    order = place(world["web"], {"HAT": 1})
    order_cancel(order_id=order.id, lines=[(line(order, "HAT").id, 1)], reason="x", actor="a")
    assert Order.objects.get(pk=order.pk).status == "cancelled"
    assert topics(order) == ["order.placed", "order.cancelled"]


def test_cancelling_fulfilled_units_is_refused(world) -> None:  # type: ignore[no-untyped-def]
    order = place(world["web"], {"SHIRT": 3})
    shirt = line(order, "SHIRT")
    shirt.quantity_fulfilled = 2  # as fulfillment would have recorded it
    shirt.save(update_fields=["quantity_fulfilled"])
    before = snapshot(order)

    with pytest.raises(ValidationFailed) as refused:
        order_cancel(order_id=order.id, lines=[(shirt.id, 2)], reason="x", actor="anna")

    (error,) = refused.value.field_errors
    assert (error.field, error.code) == ("lines.0.quantity", "exceeds_open")
    assert error.message == (
        "Only 1 unit(s) open: 2 fulfilled and 0 cancelled cannot be cancelled."
    )
    assert snapshot(order) == before


def test_cancel_refused_once_shipped_or_already_cancelled(world) -> None:  # type: ignore[no-untyped-def]
    order = place(world["web"], {"SHIRT": 1})
    order_cancel(order_id=order.id, reason="x", actor="anna")
    before = snapshot(order)
    with pytest.raises(Conflict) as refused:
        order_cancel(order_id=order.id, reason="again", actor="anna")
    assert refused.value.code == "invalid_transition"
    assert snapshot(order) == before


def test_cancel_validates_every_line(world) -> None:  # type: ignore[no-untyped-def]
    order = place(world["web"], {"SHIRT": 1})
    other = place(world["web"], {"HAT": 1}, email="other@example.com")
    shirt = line(order, "SHIRT")
    with pytest.raises(ValidationFailed) as refused:
        order_cancel(
            order_id=order.id,
            lines=[(line(other, "HAT").id, 1), (shirt.id, 0), (shirt.id, 1), (shirt.id, 1)],
            reason="x",
            actor="anna",
        )
    assert [(e.field, e.code) for e in refused.value.field_errors] == [
        ("lines.0.line_id", "not_found"),
        ("lines.1.quantity", "min_value"),
        ("lines.3.line_id", "duplicate"),
    ]


def test_payment_pending_to_authorised_turns_holds_into_order_reservations(world) -> None:  # type: ignore[no-untyped-def]
    order = place(world["web"], {"SHIRT": 2, "HAT": 1}, payment_status="pending")
    shirt = line(order, "SHIRT")
    hold = Reservation.objects.get(reference_id=str(shirt.id))
    assert (hold.kind, hold.expires_at is not None) == ("hold", True)

    order_payment_update(
        order_id=order.id, payment_status="authorised", actor="psp", channel_id=order.channel_id
    )

    order.refresh_from_db()
    assert order.payment_status == "authorised"
    assert active(shirt) == [("wh-paris", 2, "order", "pool")]
    assert list(
        Reservation.objects.filter(reference_type="order_line").values_list("kind", "expires_at")
    ) == [("order", None), ("order", None)]
    event = OrderEvent.objects.filter(order=order).latest("id")
    assert (event.kind, event.message, event.details) == (
        "payment",
        "Payment authorised",
        {"from": "pending", "to": "authorised", "confirmed_reservations": 2},
    )
    assert topics(order) == ["order.placed", "order.payment_updated"]
    # The expiry job no longer touches them, even long after the hold's end.
    assert reservations_expire(now=timezone.now() + timedelta(days=1)) == 0
    assert reserved(world["shirt"], world["warehouse"]) == 2
    # Reported again: nothing changes, nothing is written.
    before = snapshot(order)
    order_payment_update(order_id=order.id, payment_status="authorised", actor="psp")
    assert snapshot(order) == before
    assert_ledger_consistent()


def test_stock_hold_confirm_is_idempotent_and_skips_inactive(world) -> None:  # type: ignore[no-untyped-def]
    order = place(world["web"], {"SHIRT": 1, "HAT": 1}, payment_status="pending")
    shirt_hold, hat_hold = Reservation.objects.filter(reference_type="order_line").order_by("id")
    order_cancel(order_id=order.id, lines=[(line(order, "HAT").id, 1)], reason="x", actor="a")

    assert [r.id for r in stock_hold_confirm(reservation_ids=[shirt_hold.id, hat_hold.id])] == [
        shirt_hold.id
    ]
    assert stock_hold_confirm(reservation_ids=[shirt_hold.id, hat_hold.id]) == []
    hat_hold.refresh_from_db()
    assert (hat_hold.kind, hat_hold.status) == ("hold", "released")


def test_pending_again_extends_the_holds(world, settings) -> None:  # type: ignore[no-untyped-def]
    settings.RESERVATION_PAYMENT_TTL = 3600
    order = place(world["web"], {"SHIRT": 1}, payment_status="pending")
    hold = Reservation.objects.get(reference_type="order_line")
    first_expiry = hold.expires_at

    order_payment_update(order_id=order.id, payment_status="pending", actor="psp")

    hold.refresh_from_db()
    assert hold.expires_at is not None
    assert first_expiry is not None
    assert hold.expires_at > first_expiry
    event = OrderEvent.objects.filter(order=order).latest("id")
    assert (event.kind, event.details["extended_reservations"]) == ("payment", 1)


def test_payment_failed_holds_the_order_and_a_later_payment_releases_it(world) -> None:  # type: ignore[no-untyped-def]
    order = place(world["web"], {"SHIRT": 1}, payment_status="pending")

    order_payment_update(order_id=order.id, payment_status="failed", actor="psp")
    order.refresh_from_db()
    assert (order.status, order.hold_reason, order.payment_status) == (
        "on_hold",
        "Payment failed",
        "failed",
    )
    order_payment_update(order_id=order.id, payment_status="captured", actor="psp")
    order.refresh_from_db()
    assert (order.status, order.hold_reason, order.payment_status) == ("placed", "", "captured")
    assert events(order) == [
        ("placed", "", "placed"),
        ("payment", "", ""),
        ("held", "placed", "on_hold"),
        ("payment", "", ""),
        ("released", "on_hold", "placed"),
    ]
    assert active(line(order, "SHIRT")) == [("wh-paris", 1, "order", "pool")]


def test_invalid_payment_transition_is_refused(world) -> None:  # type: ignore[no-untyped-def]
    order = place(world["web"], {"SHIRT": 1}, payment_status="captured")
    before = snapshot(order)
    with pytest.raises(Conflict) as refused:
        order_payment_update(order_id=order.id, payment_status="pending", actor="psp")
    assert refused.value.code == "invalid_payment_transition"
    with pytest.raises(ValidationFailed):
        order_payment_update(order_id=order.id, payment_status="paid", actor="psp")
    assert snapshot(order) == before


def test_orders_expire_unpaid_cancels_orders_whose_holds_expired(world) -> None:  # type: ignore[no-untyped-def]
    unpaid = place(world["web"], {"SHIRT": 2}, payment_status="pending")
    paid = place(world["web"], {"SHIRT": 1}, payment_status="pending", email="b@example.com")
    fresh = place(world["web"], {"HAT": 1}, email="c@example.com")
    order_payment_update(order_id=paid.id, payment_status="authorised", actor="psp")
    assert orders_expire_unpaid() == 0  # nothing expired yet

    assert reservations_expire(now=timezone.now() + timedelta(hours=2)) == 1
    assert orders_expire_unpaid() == 1
    assert orders_expire_unpaid() == 0  # idempotent

    statuses = dict(Order.objects.values_list("id", "status"))
    assert (statuses[unpaid.id], statuses[paid.id], statuses[fresh.id]) == (
        "cancelled",
        "placed",
        "placed",
    )
    event = OrderEvent.objects.filter(order=unpaid).latest("id")
    assert (event.kind, event.actor, event.source, event.to_status) == (
        "cancelled",
        "system",
        "beat",
        "cancelled",
    )
    assert event.details == {
        "reason": "Payment not received before the reservation expired",
        "lines": [{"line_number": 1, "sku": "SHIRT", "quantity": 2}],
        "released_units": 0,
        "cause": "payment_expired",
    }
    assert line(unpaid, "SHIRT").quantity_cancelled == 2
    assert reserved(world["shirt"], world["warehouse"]) == 1
    assert_ledger_consistent()
