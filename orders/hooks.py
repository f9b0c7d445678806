"""After-commit hooks of the order lifecycle: where work for higher layers is queued.

``orders`` sits below ``fulfillment`` and cannot import it. A placed order is announced twice:
the ``order.placed`` outbox event (written in the capture transaction, delivered to webhook
subscribers and any consumer), and :func:`order_placed_hooks`, which ``order_place`` registers
with ``transaction.on_commit`` so that it runs only once the order is durable.

The hooks themselves live in the higher layers and register here explicitly, at app-ready
time (``fulfillment.apps.FulfillmentConfig.ready`` registers the routing hook). This keeps the
import direction downward and makes the wiring visible: ``order_placed_hook_list()`` says what
runs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import DatabaseError

logger = logging.getLogger(__name__)

OrderPlacedHook = Callable[[int], None]

_order_placed: list[OrderPlacedHook] = []


def order_placed_hook_register(hook: OrderPlacedHook) -> None:
    """Run ``hook(order_id)`` after every order placement commits (registering twice: once)."""
    if hook not in _order_placed:
        _order_placed.append(hook)


def order_placed_hook_unregister(hook: OrderPlacedHook) -> None:
    if hook in _order_placed:
        _order_placed.remove(hook)


def order_placed_hook_list() -> tuple[OrderPlacedHook, ...]:
    return tuple(_order_placed)


def order_placed_hooks(order_id: int) -> None:
    """Run after the transaction that placed ``order_id`` commits: every registered hook.

    Hooks must be fast and free of database writes (they run in the web request after commit;
    typically they queue a task). A failing hook is logged and does not stop the others, nor
    undo the order: the outbox event is the durable record, and routing's beat sweep picks up
    placed orders whose task never arrived.
    """
    for hook in tuple(_order_placed):
        try:
            hook(order_id)
        except Exception:
            logger.exception("order placed hook %r failed for order %s", hook, order_id)


# Cancelled lines: run *inside* the cancelling transaction, so that the higher layers' records
# (fulfillment orders) change with the order lines and the released stock, or not at all.
OrderLinesCancelledHook = Callable[[int, tuple[int, ...], str, str], object]

_order_lines_cancelled: list[OrderLinesCancelledHook] = []


def order_lines_cancelled_hook_register(hook: OrderLinesCancelledHook) -> None:
    """Run ``hook(order_id, order_line_ids, reason, actor)`` in every cancellation's
    transaction (full or partial), after the lines and their reservations were updated
    (registering twice: once)."""
    if hook not in _order_lines_cancelled:
        _order_lines_cancelled.append(hook)


def order_lines_cancelled_hook_unregister(hook: OrderLinesCancelledHook) -> None:
    if hook in _order_lines_cancelled:
        _order_lines_cancelled.remove(hook)


def order_lines_cancelled_hook_list() -> tuple[OrderLinesCancelledHook, ...]:
    return tuple(_order_lines_cancelled)


def order_lines_cancelled_hooks(
    *, order_id: int, order_line_ids: tuple[int, ...], reason: str, actor: str
) -> None:
    """Precondition: inside the cancelling transaction, holding the order's and its lines'
    locks. Unlike the placed hooks, an exception propagates and rolls the cancellation back:
    a cancelled line must never stay in an open fulfillment order."""
    for hook in tuple(_order_lines_cancelled):
        hook(order_id, order_line_ids, reason, actor)


# The delivery promise of an order being placed: computed by a higher layer (fulfillment's
# promise core) and stored by capture in the capture transaction. One provider at most.
OrderPromiseProvider = Callable[[Any, Sequence[Any]], datetime | None]

_order_promise_providers: list[OrderPromiseProvider] = []


def order_promise_provider_register(provider: OrderPromiseProvider) -> None:
    """Make ``provider(order, lines)`` compute the promised moment of every placed order
    (replacing any earlier provider)."""
    _order_promise_providers[:] = [provider]


def order_promise_provider_unregister(provider: OrderPromiseProvider) -> None:
    if provider in _order_promise_providers:
        _order_promise_providers.remove(provider)


def order_promise(order: Any, lines: Sequence[Any]) -> datetime | None:
    """The promised moment of ``order`` (delivered home, or ready for collection), or None
    when no provider is registered, none is available, or the provider failed (logged: a
    promise must never stop an order). Precondition: inside the capture transaction, before
    the order's stock is reserved; the provider only reads. A database error propagates (the
    transaction is unusable after it)."""
    if not _order_promise_providers:
        return None
    try:
        return _order_promise_providers[0](order, lines)
    except DatabaseError:
        raise
    except Exception:
        logger.exception("order promise provider failed for order %s", order.pk)
        return None


# Delivery checks at capture: a higher layer refuses a delivery it can never serve (a unit too
# heavy or too large for the chosen relay point), before anything is written. Each check gets
# ``(mode, relay_point_code, units)`` with units ``(sku, weight_grams, (length, width,
# height))`` and returns human reasons (empty: fine). Checks only read.
DeliveryUnit = tuple[str, int, tuple[int, int, int]]
OrderDeliveryCheck = Callable[[str, str, Sequence[DeliveryUnit]], list[str]]

_order_delivery_checks: list[OrderDeliveryCheck] = []


def order_delivery_check_register(check: OrderDeliveryCheck) -> None:
    """Run ``check`` on every delivery of every order being placed (registering twice: once)."""
    if check not in _order_delivery_checks:
        _order_delivery_checks.append(check)


def order_delivery_check_unregister(check: OrderDeliveryCheck) -> None:
    if check in _order_delivery_checks:
        _order_delivery_checks.remove(check)


def order_delivery_refusals(
    *, mode: str, relay_point_code: str, units: Sequence[DeliveryUnit]
) -> list[str]:
    """Every registered check's reasons for refusing this delivery (empty: accepted)."""
    return [
        reason
        for check in tuple(_order_delivery_checks)
        for reason in check(mode, relay_point_code, units)
    ]


# Edit guards: run inside the edit's transaction, under the order's row lock, before anything
# is written. A higher layer refuses an edit its own records cannot follow (fulfillment: units
# already held by open fulfillment orders) by raising (``Conflict``); the exception propagates
# and the edit writes nothing. Guards only read.
OrderEditGuard = Callable[[int], None]

_order_edit_guards: list[OrderEditGuard] = []


def order_edit_guard_register(guard: OrderEditGuard) -> None:
    """Run ``guard(order_id)`` before every order edit writes anything (registering twice:
    once)."""
    if guard not in _order_edit_guards:
        _order_edit_guards.append(guard)


def order_edit_guard_unregister(guard: OrderEditGuard) -> None:
    if guard in _order_edit_guards:
        _order_edit_guards.remove(guard)


def order_edit_guard_list() -> tuple[OrderEditGuard, ...]:
    return tuple(_order_edit_guards)


def order_edit_guards(order_id: int) -> None:
    """Precondition: inside the edit's transaction, holding the order's row lock. An exception
    propagates (the edit is refused, nothing written)."""
    for guard in tuple(_order_edit_guards):
        guard(order_id)


# Edited orders: like the placed hooks, run after the edit's transaction commits, with the
# order's new version (a higher layer queues routing again for what the edit changed).
OrderEditedHook = Callable[[int, int], None]

_order_edited: list[OrderEditedHook] = []


def order_edited_hook_register(hook: OrderEditedHook) -> None:
    """Run ``hook(order_id, version)`` after every accepted edit commits (registering twice:
    once)."""
    if hook not in _order_edited:
        _order_edited.append(hook)


def order_edited_hook_unregister(hook: OrderEditedHook) -> None:
    if hook in _order_edited:
        _order_edited.remove(hook)


def order_edited_hook_list() -> tuple[OrderEditedHook, ...]:
    return tuple(_order_edited)


def order_edited_hooks(order_id: int, version: int) -> None:
    """Run after the edit commits: every registered hook. Same contract as
    :func:`order_placed_hooks` (fast, no database writes; a failure is logged, the edit
    stands; routing's beat sweep still finds the order)."""
    for hook in tuple(_order_edited):
        try:
            hook(order_id, version)
        except Exception:
            logger.exception("order edited hook %r failed for order %s", hook, order_id)


# Pickup slot booking at capture: a higher layer (fulfillment's slots) says whether a
# click-and-collect slot is offered and has a place left. Called inside the capture transaction,
# before the order is written, once per slotted delivery in store id order; the booker may lock
# (fulfillment locks the store's policy row so that counting and booking are atomic: the lock
# holds until capture commits). One booker at most.
@dataclass(frozen=True)
class PickupSlotAnswer:
    """``end`` of the booked slot, or a refusal ``code`` and human ``message``."""

    end: datetime | None
    code: str = ""
    message: str = ""


OrderPickupSlotBooker = Callable[[int, datetime, datetime | None], PickupSlotAnswer]

_order_pickup_slot_bookers: list[OrderPickupSlotBooker] = []


def order_pickup_slot_booker_register(booker: OrderPickupSlotBooker) -> None:
    """Make ``booker(store_id, start, end)`` check every pickup slot of every order being
    placed (replacing any earlier booker)."""
    _order_pickup_slot_bookers[:] = [booker]


def order_pickup_slot_booker_unregister(booker: OrderPickupSlotBooker) -> None:
    if booker in _order_pickup_slot_bookers:
        _order_pickup_slot_bookers.remove(booker)


def order_pickup_slot_book(
    *, store_id: int, start: datetime, end: datetime | None
) -> PickupSlotAnswer:
    """The registered booker's answer; without one, the slot as given (``end`` required by the
    caller). Precondition: inside the capture transaction; an exception propagates."""
    if not _order_pickup_slot_bookers:
        return PickupSlotAnswer(end=end)
    return _order_pickup_slot_bookers[0](store_id, start, end)


# Curbside bays: how many bays a store has (fulfillment's store policy), for the tracking
# page's "I'm here" form. One provider at most; without one, no curbside check-in.
OrderCurbsideBays = Callable[[int], int]

_order_curbside_bays: list[OrderCurbsideBays] = []


def order_curbside_bays_register(provider: OrderCurbsideBays) -> None:
    """Make ``provider(store_id)`` answer a store's number of curbside bays (replacing any
    earlier provider)."""
    _order_curbside_bays[:] = [provider]


def order_curbside_bays_unregister(provider: OrderCurbsideBays) -> None:
    if provider in _order_curbside_bays:
        _order_curbside_bays.remove(provider)


def order_curbside_bays(store_id: int) -> int:
    """Bays of ``store_id`` (0: no curbside pickup there, or no provider). Reads only."""
    if not _order_curbside_bays:
        return 0
    return _order_curbside_bays[0](store_id)
