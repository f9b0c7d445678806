"""Handover at the counter (or curbside): pickup code checked, proxy pickups, partial handovers.

``pickup_handover`` runs in one transaction. Lock order, as in ``lifecycle``: the order, its
lines, the fulfillment order, its pickup code, its lines, then the reservations and stock
levels (``lifecycle._commit_lines``). It checks the code (digest, not locked, not expired,
not used), records a ``Handover`` with its ``HandoverLine``s, commits the handed-over units
(on hand and reserved drop together, one ``sale`` movement per line), and when nothing is left
to hand over marks the code used, the fulfillment order ``collected`` and the order
``collected`` (every unit fulfilled or cancelled). Units not handed over stay ready, under the
same code.

A refused handover changes nothing, with one deliberate exception: a wrong code counts
(``PickupCode.failed_attempts``, the code locked at the store's ``code_max_attempts``; the
staff user's guessing window in the cache). That counter is committed on its own, then the
refusal is raised; nothing else was written.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from fulfillment.models import FulfillmentOrder
from fulfillment.models_store import Handover, HandoverLine, PickupCode
from fulfillment.services.fulfillment_orders import _fulfillment_order_lock, _order_id_of
from fulfillment.services.lifecycle import (
    _all_fulfilled,
    _commit_lines,
    _lock_lines,
    fulfillment_order_step,
    handed_over_units,
    order_advance,
)
from fulfillment.services.pickup_codes import (
    code_guess_failed,
    code_guesses_check,
    code_matches,
    qr_payload_parse,
    store_policy_get,
)
from fulfillment.statuses import FulfillmentStatus
from omnilog.core.errors import ApplicationError, Conflict, FieldError, ValidationFailed
from omnilog.core.outbox import outbox_emit
from orders.models import Order, OrderEvent, OrderLine
from orders.services.timeline import order_event_write, order_lines_lock, order_lock
from orders.statuses import OrderStatus

RELATIONS = (Handover.Relation.CUSTOMER.value, Handover.Relation.PROXY.value)


@dataclass(frozen=True)
class HandoverRequest:
    """What the counter enters. ``lines`` ((fulfillment order line id, units)); None = every
    unit left. ``code``: the 6 digits or the QR payload ``OMNI:<fo id>:<code>``."""

    code: str
    relation: str = Handover.Relation.CUSTOMER.value
    collector_name: str = ""
    proxy_relation: str = ""
    id_checked: bool = False
    lines: Sequence[tuple[int, int]] | None = None
    curbside_bay: int | None = None


@dataclass(frozen=True)
class HandoverResult:
    handover: Handover
    units: int
    units_left: int
    is_complete: bool


def _validate(request: HandoverRequest, fulfillment_order_id: int) -> str:
    """The 6-digit code (from the QR payload too); field errors for everything else."""
    errors = []
    code = request.code.strip()
    scanned = qr_payload_parse(code)
    if scanned is not None:
        if scanned[0] != fulfillment_order_id:
            errors.append(
                FieldError("code", "This QR code belongs to another order.", "wrong_order")
            )
        code = scanned[1]
    if not code:
        errors.append(FieldError("code", "Enter or scan the pickup code.", "required"))
    elif not (len(code) == 6 and code.isdigit()):
        errors.append(FieldError("code", "A pickup code has 6 digits.", "invalid"))
    if request.relation not in RELATIONS:
        errors.append(FieldError("relation", "The customer or a proxy.", "invalid_choice"))
    if request.relation == Handover.Relation.PROXY:
        if not request.collector_name.strip():
            errors.append(FieldError("collector_name", "Name the person collecting.", "required"))
        if not request.id_checked:
            errors.append(
                FieldError(
                    "id_checked", "Check the identity document of a proxy.", "id_not_checked"
                )
            )
    if request.lines is not None:
        for index, (_, units) in enumerate(request.lines):
            if units < 0:
                errors.append(FieldError(f"lines.{index}.quantity", "At least 0.", "min_value"))
        if not any(units > 0 for _, units in request.lines) and not errors:
            errors.append(FieldError("lines", "Hand over at least one item.", "required"))
    if errors:
        raise ValidationFailed("The handover is not valid.", field_errors=errors)
    return code


def _code_refusal(
    pickup_code: PickupCode | None, code: str, max_attempts: int, moment: datetime
) -> tuple[ApplicationError | None, bool]:
    """(why the code is refused or None when it is right, whether a wrong attempt was
    counted on the locked row: the caller saves it)."""
    if pickup_code is None:
        return Conflict(
            "No pickup code was issued for this order: send one from the order first.",
            code="no_pickup_code",
        ), False
    if pickup_code.locked_at is not None:
        return Conflict(
            "This pickup code is locked after too many wrong attempts: a store manager must "
            "send the customer a new one.",
            code="code_locked",
        ), False
    if pickup_code.used_at is not None:
        return Conflict("This pickup code was already used.", code="code_used"), False
    if pickup_code.expires_at <= moment:
        expired = timezone.localtime(pickup_code.expires_at)
        return Conflict(
            f"This pickup code expired on {expired:%d/%m/%Y}: a store manager can send the "
            "customer a new one.",
            code="code_expired",
        ), False
    if code_matches(pickup_code, code):
        return None, False
    pickup_code.failed_attempts += 1
    left = max_attempts - pickup_code.failed_attempts
    if left <= 0:
        pickup_code.locked_at = moment
        return Conflict(
            "Wrong pickup code. The code is now locked after too many wrong attempts: a store "
            "manager must send the customer a new one.",
            code="code_locked",
        ), True
    return ValidationFailed(
        f"Wrong pickup code. {left} attempt{'s' if left != 1 else ''} left before it is locked.",
        code="wrong_code",
        field_errors=[FieldError("code", "Wrong pickup code.", "wrong_code")],
        details={"attempts_left": left},
    ), True


def pickup_handover(
    *,
    fulfillment_order_id: int,
    request: HandoverRequest,
    actor: str,
    staff_key: str,
    now: datetime | None = None,
) -> HandoverResult:
    """Hand a ready pickup order (or part of it) over against its pickup code.

    ``staff_key`` identifies the staff user for the guessing window (``too_many_attempts``,
    429). Raises ``ValidationFailed`` (bad input, wrong code: field ``code``, more units than
    are left), ``Conflict`` (``order_cancelled``, ``not_ready``, ``no_pickup_code``,
    ``code_locked``, ``code_expired``, ``code_used``). Only a wrong code writes anything.
    """
    moment = now or timezone.now()
    code = _validate(request, fulfillment_order_id)
    code_guesses_check(staff_key)
    refusal: ApplicationError | None = None
    with transaction.atomic():
        order = order_lock(order_id=_order_id_of(fulfillment_order_id))
        if order.status == OrderStatus.CANCELLED:
            raise Conflict(
                f"Order {order.number} is cancelled: nothing to hand over.",
                code="order_cancelled",
            )
        order_lines = order_lines_lock(order=order)
        fulfillment_order = _fulfillment_order_lock(fulfillment_order_id)
        if fulfillment_order.status != FulfillmentStatus.READY_FOR_PICKUP:
            raise Conflict(
                f"Order {order.number} is {fulfillment_order.get_status_display().lower()} "
                "here, not ready for pickup.",
                code="not_ready",
                details={"status": fulfillment_order.status},
            )
        pickup_code = (
            PickupCode.objects.select_for_update()
            .filter(fulfillment_order=fulfillment_order)
            .first()
        )
        policy = store_policy_get(fulfillment_order.location_id)
        refusal, counted = _code_refusal(pickup_code, code, policy.code_max_attempts, moment)
        if refusal is not None and not counted:
            raise refusal
        if refusal is not None:
            assert pickup_code is not None
            pickup_code.save(update_fields=["failed_attempts", "locked_at", "updated_at"])
        else:
            assert pickup_code is not None
            result = _hand_over(
                order=order,
                order_lines=order_lines,
                fulfillment_order=fulfillment_order,
                pickup_code=pickup_code,
                request=request,
                actor=actor,
                moment=moment,
            )
    if refusal is not None:
        # Committed above: the attempt counts. Nothing else was written.
        code_guess_failed(staff_key)
        raise refusal
    return result


def _hand_over(
    *,
    order: Order,
    order_lines: list[OrderLine],
    fulfillment_order: FulfillmentOrder,
    pickup_code: PickupCode,
    request: HandoverRequest,
    actor: str,
    moment: datetime,
) -> HandoverResult:
    """Precondition: inside ``pickup_handover``'s transaction, every lock above held."""
    own = _lock_lines(fulfillment_order)
    handed = handed_over_units(fulfillment_order.pk)
    left = {line.pk: line.quantity_packed - handed.get(line.pk, 0) for line in own}
    wanted = dict(request.lines) if request.lines is not None else dict(left)
    errors = []
    for index, (line_id, units) in enumerate(
        request.lines if request.lines is not None else list(left.items())
    ):
        if line_id not in left:
            errors.append(FieldError(f"lines.{index}.line_id", "Not a line of it.", "invalid"))
        elif units > left[line_id]:
            errors.append(
                FieldError(
                    f"lines.{index}.quantity",
                    f"At most {left[line_id]} left to hand over.",
                    "out_of_range",
                )
            )
    units = sum(wanted.values())
    if not errors and units == 0:
        errors.append(FieldError("lines", "Nothing is left to hand over.", "required"))
    if errors:
        raise ValidationFailed("The handover is not valid.", field_errors=errors)
    is_proxy = request.relation == Handover.Relation.PROXY
    handover = Handover.objects.create(
        fulfillment_order=fulfillment_order,
        actor=actor[:150],
        relation=request.relation,
        collector_name=request.collector_name.strip()[:150],
        proxy_relation=request.proxy_relation.strip()[:64] if is_proxy else "",
        id_checked=request.id_checked,
        curbside_bay=request.curbside_bay,
    )
    HandoverLine.objects.bulk_create(
        HandoverLine(handover=handover, fulfillment_order_line_id=line_id, quantity=quantity)
        for line_id, quantity in sorted(wanted.items())
        if quantity > 0
    )
    committed = _commit_lines(
        lines=own,
        order_lines=order_lines,
        actor=actor,
        quantities={key: value for key, value in wanted.items() if value > 0},
    )
    units_left = sum(left.values()) - units
    who = (
        f"{handover.collector_name} ({handover.proxy_relation or 'proxy'}) for the customer"
        if is_proxy
        else "the customer"
    )
    details = {
        "fulfillment_order_id": fulfillment_order.pk,
        "handover_id": handover.pk,
        "relation": handover.relation,
        "id_checked": handover.id_checked,
        "lines": committed,
        "units_left": units_left,
        **({"curbside_bay": request.curbside_bay} if request.curbside_bay else {}),
    }
    order_event_write(
        order=order,
        kind=OrderEvent.Kind.PICKUP,
        actor=actor,
        source="store",
        message=(
            f"Handed over to {who}"
            + (" (ID checked)" if handover.id_checked else "")
            + (f": {units} item(s), {units_left} still waiting" if units_left else "")
        ),
        details=details,
    )
    if units_left:
        outbox_emit(
            topic="fulfillment_order.partially_collected",
            aggregate_type="fulfillment_order",
            aggregate_id=fulfillment_order.pk,
            payload={"order_id": order.pk, **details},
        )
    else:
        pickup_code.used_at = moment
        pickup_code.save(update_fields=["used_at", "updated_at"])
        fulfillment_order_step(
            order=order,
            fulfillment_order=fulfillment_order,
            target=FulfillmentStatus.COLLECTED,
            actor=actor,
            moment=moment,
            details={"lines": committed, "handover_id": handover.pk},
        )
        if _all_fulfilled(order_lines):
            order_advance(
                order=order,
                target=OrderStatus.COLLECTED,
                actor=actor,
                message=f"Collected at {fulfillment_order.location.code}",
            )
    return HandoverResult(
        handover=handover, units=units, units_left=units_left, is_complete=not units_left
    )
