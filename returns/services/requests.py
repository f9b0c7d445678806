"""Return requests: create (eligibility checked under the order's lock), approve (with the
return label for relay drop-off and carrier pickup), refuse, cancel, and the parcel's way back
(dropped off, in transit).

A refused request writes nothing: every bad field is reported at once with its path
(``lines.0.quantity``), checked first without locks, then again under the order's lock so two
concurrent requests cannot return the same units twice.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from inventory.models import Location, Product
from omnilog.core.errors import FieldError, NotFound, ValidationFailed
from orders.models import Order, OrderLine
from orders.services.timeline import order_lock
from returns.models import ReturnLine, ReturnMode, ReturnReason, ReturnRequest
from returns.selectors import Returnable, order_returnable
from returns.services.common import (
    Actor,
    field_errors_raise,
    return_event,
    return_lock,
    return_move,
    rma_number_next,
)
from returns.services.labels import ReturnLabel, relay_point_find, return_label_build
from returns.statuses import ReturnStatus

MAX_LINES = 200
MAX_PHOTOS = 5
MAX_URL_LENGTH = 500
LABELLED_MODES = frozenset({ReturnMode.RELAY_DROP_OFF, ReturnMode.CARRIER_PICKUP})

REFUSALS = {
    "not_returnable": "This product cannot be returned.",
    "not_delivered": "Nothing of this line has reached the customer yet.",
    "window_closed": "The return window of this line has closed.",
    "nothing_left": "Every unit of this line is already being returned.",
}


@dataclass(frozen=True)
class ReturnLineInput:
    line_number: int
    quantity: int
    reason_code: str


@dataclass(frozen=True)
class ReturnInput:
    lines: tuple[ReturnLineInput, ...]
    mode: str
    location_id: int | None = None
    relay_point_code: str = ""
    pickup_address: Mapping[str, Any] = field(default_factory=dict)
    note: str = ""
    photo_urls: tuple[str, ...] = ()


def _max_photos() -> int:
    return int(getattr(settings, "RETURNS_MAX_PHOTOS", MAX_PHOTOS))


def returns_warehouse() -> Location | None:
    """Where parcels come back by default: the first active warehouse accepting returns, else
    the first active warehouse."""
    warehouses = Location.objects.filter(kind=Location.Kind.WAREHOUSE, is_active=True)
    return (
        warehouses.filter(accepts_returns=True).order_by("id").first()
        or warehouses.order_by("id").first()
    )


def _photo_errors(urls: Sequence[str]) -> list[FieldError]:
    errors = []
    if len(urls) > _max_photos():
        errors.append(FieldError("photo_urls", f"At most {_max_photos()} photos.", "max_length"))
    for index, url in enumerate(urls):
        parts = urlsplit(url)
        if len(url) > MAX_URL_LENGTH or parts.scheme != "https" or not parts.netloc:
            errors.append(
                FieldError(f"photo_urls.{index}", "An https URL (500 characters at most).", "url")
            )
    return errors


def _location_errors(data: ReturnInput) -> tuple[Location | None, list[FieldError]]:
    errors: list[FieldError] = []
    location = None
    if data.mode not in ReturnMode.values:
        errors.append(
            FieldError("mode", f"One of {', '.join(ReturnMode.values)}.", "invalid_choice")
        )
    if data.location_id is not None:
        location = Location.objects.filter(
            pk=data.location_id, is_active=True, accepts_returns=True
        ).first()
        if location is None:
            errors.append(FieldError("location", "No active location taking returns.", "not_found"))
    elif data.mode in LABELLED_MODES:
        location = returns_warehouse()
        if location is None:
            errors.append(FieldError("location", "No warehouse to return to.", "required"))
    if data.mode == ReturnMode.RELAY_DROP_OFF and (
        not data.relay_point_code or relay_point_find(data.relay_point_code) is None
    ):
        errors.append(FieldError("relay_point", "Unknown relay point.", "not_found"))
    if data.mode == ReturnMode.STORE and location is not None and location.kind == "warehouse":
        errors.append(FieldError("location", "A store, for a return brought in.", "invalid"))
    return location, errors


def _line_errors(
    data: ReturnInput, lines: Mapping[int, OrderLine], returnable: Returnable
) -> list[FieldError]:
    errors: list[FieldError] = []
    if not data.lines:
        errors.append(FieldError("lines", "At least one line.", "required"))
    if len(data.lines) > MAX_LINES:
        errors.append(FieldError("lines", f"At most {MAX_LINES} lines.", "max_length"))
    seen: set[int] = set()
    for index, item in enumerate(data.lines):
        line = lines.get(item.line_number)
        if item.reason_code not in ReturnReason.values:
            errors.append(
                FieldError(f"lines.{index}.reason_code", "Unknown reason.", "invalid_choice")
            )
        if line is None:
            errors.append(
                FieldError(f"lines.{index}.line_number", "No such line in this order.", "not_found")
            )
            continue
        if item.line_number in seen:
            errors.append(FieldError(f"lines.{index}.line_number", "Listed twice.", "duplicate"))
        seen.add(item.line_number)
        found = returnable.line(line.pk)
        if item.quantity <= 0:
            errors.append(FieldError(f"lines.{index}.quantity", "Must be positive.", "min_value"))
        elif found is None or found.refusal_code:
            code = found.refusal_code if found else "not_returnable"
            errors.append(FieldError(f"lines.{index}.quantity", REFUSALS[code], code))
        elif item.quantity > found.quantity_returnable:
            errors.append(
                FieldError(
                    f"lines.{index}.quantity",
                    f"At most {found.quantity_returnable} units of this line may be returned.",
                    "too_many",
                )
            )
    return errors


def _check(order: Order, data: ReturnInput, *, locked: bool = False) -> Returnable:
    """Every field error of ``data`` against ``order`` as it is now (raise if any)."""
    lines = {line.line_number: line for line in OrderLine.objects.filter(order=order)}
    returnable = order_returnable(order=order, now=timezone.now())
    _, location_errors = _location_errors(data) if not locked else (None, [])
    errors = [
        *_line_errors(data, lines, returnable),
        *location_errors,
        *_photo_errors(data.photo_urls),
    ]
    if len(data.note) > 2000:
        errors.append(FieldError("note", "At most 2000 characters.", "max_length"))
    field_errors_raise("The return request is not valid.", errors)
    return returnable


def _units(rma_lines: Sequence[tuple[int, int]]) -> list[tuple[Product, int]]:
    products = {
        line.pk: line.product
        for line in OrderLine.objects.filter(pk__in=[pk for pk, _ in rma_lines]).select_related(
            "product"
        )
    }
    return [(products[pk], count) for pk, count in rma_lines]


def _label(
    rma_number: str, order: Order, data: ReturnInput, location: Location, units: Sequence[Any]
) -> ReturnLabel:
    return return_label_build(
        number=rma_number,
        order=order,
        mode=data.mode,
        destination=location,
        units=units,
        relay_point_code=data.relay_point_code,
        pickup_address=data.pickup_address,
    )


def return_request_create(*, order_id: int, data: ReturnInput, actor: Actor) -> ReturnRequest:
    """Open a return request (RMA) for units of ``order_id``; approved at once when every
    line's policy auto-approves (a relay or pickup return then gets its label).

    With ``actor.channel_id`` the order must be that channel's (else ``NotFound``). Raises
    ``ValidationFailed`` listing every bad field: ``lines.N.quantity`` with code
    ``window_closed``, ``not_returnable``, ``not_delivered``, ``nothing_left`` or
    ``too_many``; ``lines.N.line_number``, ``lines.N.reason_code``, ``mode``, ``location``,
    ``relay_point``, ``photo_urls.N``, ``note``. Nothing is written then. The carrier call (a
    label) runs before the transaction; precondition: no stock-level lock held.
    """
    order = _order_get(order_id=order_id, channel_id=actor.channel_id)
    returnable = _check(order, data)
    location, _ = _location_errors(data)
    by_number = {line.line_number: line for line in returnable.lines}
    auto = all(by_number[item.line_number].policy.is_auto_approved for item in data.lines)
    number = rma_number_next()
    label = None
    if auto and data.mode in LABELLED_MODES and location is not None:
        units = _units([(by_number[i.line_number].order_line_id, i.quantity) for i in data.lines])
        label = _label(number, order, data, location, units)
    with transaction.atomic():
        order = order_lock(order_id=order_id, channel_id=actor.channel_id)
        _check(order, data, locked=True)
        rma = ReturnRequest.objects.create(
            number=number,
            order=order,
            channel_id=actor.channel_id,
            customer_id=order.customer_id,
            mode=data.mode,
            location=location,
            relay_point_code=data.relay_point_code,
            pickup_address=dict(data.pickup_address),
            created_by=actor.name[:150],
            source=actor.source[:64],
            reason_note=data.note,
            photo_urls=list(data.photo_urls),
        )
        products = dict(OrderLine.objects.filter(order=order).values_list("id", "product_id"))
        ReturnLine.objects.bulk_create(
            ReturnLine(
                return_request=rma,
                order_line_id=by_number[item.line_number].order_line_id,
                product_id=products[by_number[item.line_number].order_line_id],
                quantity_requested=item.quantity,
                reason_code=item.reason_code,
            )
            for item in data.lines
        )
        return_event(
            order=order,
            rma=rma,
            verb="requested",
            actor=actor,
            details={"lines": lines_payload(rma)},
        )
        if auto:
            _approve_locked(order, rma, actor, label=label, quantities=None, is_auto=True)
    return rma


def _order_get(*, order_id: int, channel_id: int | None) -> Order:
    """The order (another channel's is not found), read without a lock."""
    queryset = Order.objects.select_related("channel", "customer")
    if channel_id is not None:
        queryset = queryset.filter(channel_id=channel_id)
    order = queryset.filter(pk=order_id).first()
    if order is None:
        raise NotFound(f"No order {order_id}.", code="order_not_found")
    return order


def lines_payload(rma: ReturnRequest) -> list[dict[str, Any]]:
    return [
        {
            "return_line_id": line.pk,
            "order_line_id": line.order_line_id,
            "sku": line.order_line.sku,
            "quantity_requested": line.quantity_requested,
            "quantity_approved": line.quantity_approved,
            "quantity_received": line.quantity_received,
            "reason_code": line.reason_code,
            "condition": line.condition,
            "disposition": line.disposition,
        }
        for line in rma.lines.select_related("order_line").order_by("id")
    ]


def _approve_locked(
    order: Order,
    rma: ReturnRequest,
    actor: Actor,
    *,
    label: ReturnLabel | None,
    quantities: Mapping[int, int] | None,
    is_auto: bool = False,
) -> None:
    lines = list(rma.lines.order_by("id"))
    errors = []
    for index, line in enumerate(lines):
        wanted = line.quantity_requested if quantities is None else quantities.get(line.pk, 0)
        if not 0 <= wanted <= line.quantity_requested:
            errors.append(
                FieldError(
                    f"lines.{index}.quantity",
                    f"Between 0 and {line.quantity_requested}.",
                    "out_of_range",
                )
            )
        line.quantity_approved = wanted
    if quantities is not None and not any(line.quantity_approved for line in lines):
        errors.append(FieldError("lines", "Approve at least one unit (or refuse).", "required"))
    unknown = set(quantities or {}) - {line.pk for line in lines}
    errors.extend(
        FieldError("lines", f"No line {pk} in this return.", "not_found") for pk in unknown
    )
    field_errors_raise("The approval is not valid.", errors)
    ReturnLine.objects.bulk_update(lines, ["quantity_approved"])
    fields: tuple[str, ...] = ()
    if label is not None:
        rma.carrier_id = label.carrier_id
        rma.tracking_number = label.tracking_number
        rma.return_label_pdf = label.pdf
        fields = ("carrier_id", "tracking_number", "return_label_pdf")
    return_move(
        order=order,
        rma=rma,
        to_status=ReturnStatus.APPROVED,
        actor=actor,
        fields=fields,
        details={
            "is_auto_approved": is_auto,
            "tracking_number": rma.tracking_number,
            "lines": lines_payload(rma),
        },
    )


def return_approve(
    *, return_id: int, actor: Actor, quantities: Mapping[int, int] | None = None
) -> ReturnRequest:
    """Approve a requested return (``quantities``: return line id -> approved units, default
    every requested unit). A relay drop-off or a carrier pickup gets its return label, bought
    before the transaction. Raises ``Conflict`` ``invalid_transition``, ``ValidationFailed``."""
    rma = ReturnRequest.objects.select_related("order", "location").filter(pk=return_id).first()
    label = None
    if (
        rma is not None
        and rma.status == ReturnStatus.REQUESTED
        and rma.mode in LABELLED_MODES
        and not rma.tracking_number
        and rma.location is not None
        and (actor.channel_id is None or rma.order.channel_id == actor.channel_id)
    ):
        lines = list(rma.lines.order_by("id"))
        units = _units(
            [
                (line.order_line_id, (quantities or {}).get(line.pk, line.quantity_requested))
                for line in lines
                if (quantities or {}).get(line.pk, line.quantity_requested) > 0
            ]
        )
        data = ReturnInput(
            lines=(),
            mode=rma.mode,
            relay_point_code=rma.relay_point_code,
            pickup_address=rma.pickup_address,
        )
        if units:
            label = _label(rma.number, rma.order, data, rma.location, units)
    with transaction.atomic():
        order, rma = return_lock(return_id=return_id, channel_id=actor.channel_id)
        _approve_locked(order, rma, actor, label=label, quantities=quantities)
    return rma


def return_refuse(*, return_id: int, reason: str, actor: Actor) -> ReturnRequest:
    """Refuse a requested return with a reason (shown to the customer)."""
    if not reason.strip():
        raise ValidationFailed(
            "A reason is required.",
            field_errors=[FieldError("reason", "A reason is required.", "required")],
        )
    with transaction.atomic():
        order, rma = return_lock(return_id=return_id, channel_id=actor.channel_id)
        rma.refusal_reason = reason.strip()[:300]
        return_move(
            order=order,
            rma=rma,
            to_status=ReturnStatus.REFUSED,
            actor=actor,
            fields=("refusal_reason",),
            details={"reason": rma.refusal_reason},
        )
    return rma


def return_cancel(*, return_id: int, actor: Actor, reason: str = "") -> ReturnRequest:
    """Withdraw a return before anything came back (requested or approved)."""
    with transaction.atomic():
        order, rma = return_lock(return_id=return_id, channel_id=actor.channel_id)
        return_move(
            order=order,
            rma=rma,
            to_status=ReturnStatus.CANCELLED,
            actor=actor,
            details={"reason": reason[:200]},
        )
    return rma


def return_parcel_update(*, return_id: int, status: str, actor: Actor) -> ReturnRequest:
    """The parcel's way back: ``dropped_off`` (at the relay point) or ``in_transit``."""
    if status not in (ReturnStatus.DROPPED_OFF, ReturnStatus.IN_TRANSIT):
        raise ValidationFailed(
            "dropped_off or in_transit.",
            field_errors=[FieldError("status", "dropped_off or in_transit.", "invalid_choice")],
        )
    with transaction.atomic():
        order, rma = return_lock(return_id=return_id, channel_id=actor.channel_id)
        return_move(order=order, rma=rma, to_status=ReturnStatus(status), actor=actor)
    return rma


def return_store_open(
    *, order_id: int, location_id: int, lines: Sequence[ReturnLineInput], actor: Actor
) -> ReturnRequest:
    """The store desk opens a return on the spot (mode store, at ``location_id``) and approves
    it, in one transaction: the customer is at the counter with the items. Same errors as
    ``return_request_create``; nothing is written when one is raised."""
    with transaction.atomic():
        rma = return_request_create(
            order_id=order_id,
            data=ReturnInput(lines=tuple(lines), mode=ReturnMode.STORE, location_id=location_id),
            actor=actor,
        )
        if rma.status == ReturnStatus.REQUESTED:
            return_approve(return_id=rma.pk, actor=actor)
    return rma
