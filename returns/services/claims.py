"""Claims: a parcel lost or damaged in transit, reshipped or refunded without a physical return.

``claim_open`` records the claim on a parcel of the order (a shipment the carrier took: in
transit, out for delivery, a failed attempt, or delivered); a damaged parcel needs photos.
Its lines default to every unit of the parcel and count against what the order lines may still
return. ``claim_resolve`` (staff) either reships (a replacement order for the same lines, free
of charge, placed through the real capture so its stock is reserved at once) or refunds (the
refund calculator under ``CLAIM_POLICY``: no fee, shipping refunded; a ``Refund`` row and
``claim.refund_requested``: Omnilog moves no money). ``claim_refund_settle`` records the payment
system's answer. A lost parcel's units are not restocked: nothing comes back.

Every step locks the order first (the returns' lock order), writes the order's timeline and an
outbox event (``claim.opened``, ``claim.resolved``, ``claim.refused``,
``claim.refund_requested``, ``claim.refunded``, ``claim.refund_failed``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from fulfillment.models import FulfillmentOrderLine, Shipment
from omnilog.core.errors import Conflict, FieldError, NotFound, ValidationFailed
from orders.models import Order, OrderEvent, OrderLine, PaymentStatus
from orders.services.timeline import order_lock, order_outbox_emit
from returns.models import Claim, ClaimLine, Refund
from returns.selectors import _claimed, _in_returns
from returns.services.common import Actor, claim_number_next, refund_reference_next
from returns.services.refunds import (
    CLAIM_POLICY,
    refund_failure_reason_check,
    refund_quote,
    refund_settle_locked,
)
from returns.services.replacements import (
    ReplacementLineInput,
    actor_event_write,
    replacement_free_of_charge,
    replacement_order_place,
)
from returns.services.requests import _photo_errors
from returns.statuses import ClaimStatus, claim_can_transition

# Parcels the carrier took (a label not yet scanned, cancelled or sent back is no claim).
CLAIMABLE_SHIPMENT_STATUSES = frozenset(
    {
        Shipment.Status.IN_TRANSIT,
        Shipment.Status.OUT_FOR_DELIVERY,
        Shipment.Status.FAILED_ATTEMPT,
        Shipment.Status.DELIVERED,
    }
)
REASON_OF_KIND = {Claim.Kind.LOST: "lost_in_transit", Claim.Kind.DAMAGED: "damaged_in_transit"}
MAX_NOTE = 2000


@dataclass(frozen=True)
class ClaimLineInput:
    line_number: int
    quantity: int


@dataclass(frozen=True)
class ClaimInput:
    tracking_number: str
    kind: str
    resolution: str
    """What the customer asks for; staff may decide otherwise when resolving."""
    lines: tuple[ClaimLineInput, ...] = ()
    """Empty: every unit of the parcel."""
    photo_urls: tuple[str, ...] = ()
    note: str = ""


def claim_open(*, order_id: int, data: ClaimInput, actor: Actor) -> Claim:
    """Open a claim on the parcel ``data.tracking_number`` of ``order_id``.

    With ``actor.channel_id`` the order must be that channel's (else ``NotFound``). Raises
    ``ValidationFailed`` listing every bad field (nothing written): ``kind``, ``resolution``,
    ``tracking_number`` (``not_found``: no parcel of this order; ``not_shipped``: the carrier
    has not taken it), ``photo_urls`` (``required`` for a damaged parcel; ``photo_urls.N``),
    ``lines.N.line_number`` (``not_in_parcel``, ``duplicate``), ``lines.N.quantity``
    (``min_value``, ``too_many``: more than the parcel's units not yet claimed or returned),
    ``note``.
    """
    with transaction.atomic():
        order = order_lock(order_id=order_id, channel_id=actor.channel_id)
        shipment, units = _check_open(order, data)
        claim = Claim.objects.create(
            number=claim_number_next(),
            order=order,
            channel_id=actor.channel_id,
            shipment=shipment,
            kind=data.kind,
            resolution=data.resolution,
            notes=data.note,
            photo_urls=list(data.photo_urls),
            created_by=actor.name[:150],
        )
        ClaimLine.objects.bulk_create(
            ClaimLine(claim=claim, order_line=line, quantity=quantity) for line, quantity in units
        )
        _claim_event(
            order=order,
            claim=claim,
            verb="opened",
            actor=actor,
            details={
                "kind": claim.kind,
                "resolution": claim.resolution,
                "shipment_id": shipment.pk,
                "tracking_number": shipment.tracking_number,
                "lines": [
                    {"order_line_id": line.pk, "sku": line.sku, "quantity": quantity}
                    for line, quantity in units
                ],
            },
        )
    return claim


def _check_open(order: Order, data: ClaimInput) -> tuple[Shipment, list[tuple[OrderLine, int]]]:
    errors: list[FieldError] = []
    if data.kind not in Claim.Kind.values:
        errors.append(
            FieldError("kind", f"One of {', '.join(Claim.Kind.values)}.", "invalid_choice")
        )
    if data.resolution not in Claim.Resolution.values:
        errors.append(
            FieldError(
                "resolution", f"One of {', '.join(Claim.Resolution.values)}.", "invalid_choice"
            )
        )
    if len(data.note) > MAX_NOTE:
        errors.append(FieldError("note", f"At most {MAX_NOTE} characters.", "max_length"))
    errors.extend(_photo_errors(data.photo_urls))
    if data.kind == Claim.Kind.DAMAGED and not data.photo_urls:
        errors.append(FieldError("photo_urls", "Photos of the damage are required.", "required"))
    shipment = (
        Shipment.objects.filter(
            fulfillment_order__order=order, tracking_number=data.tracking_number
        )
        .order_by("-id")
        .first()
        if data.tracking_number
        else None
    )
    units: list[tuple[OrderLine, int]] = []
    if shipment is None:
        errors.append(FieldError("tracking_number", "No parcel of this order has it.", "not_found"))
    elif shipment.status not in CLAIMABLE_SHIPMENT_STATUSES:
        errors.append(
            FieldError(
                "tracking_number",
                f"The parcel is {shipment.status}: the carrier has not taken it.",
                "not_shipped",
            )
        )
    else:
        units = _claim_units(order, shipment, data, errors)
    if errors:
        raise ValidationFailed("The claim is not valid.", field_errors=errors)
    assert shipment is not None
    return shipment, units


def _claim_units(
    order: Order, shipment: Shipment, data: ClaimInput, errors: list[FieldError]
) -> list[tuple[OrderLine, int]]:
    """The claimed units, checked against what the parcel holds minus what is already claimed
    (claims not refused) or in a return (a return that still counts)."""
    in_parcel: dict[int, int] = {}
    for line_id, quantity, rejected in FulfillmentOrderLine.objects.filter(
        fulfillment_order_id=shipment.fulfillment_order_id
    ).values_list("order_line_id", "quantity", "quantity_rejected"):
        in_parcel[line_id] = in_parcel.get(line_id, 0) + quantity - rejected
    taken = _units_taken(order)
    lines = {line.line_number: line for line in OrderLine.objects.filter(pk__in=list(in_parcel))}
    left = {line.pk: in_parcel[line.pk] - taken.get(line.pk, 0) for line in lines.values()}
    if not data.lines:
        units = [(line, left[line.pk]) for _, line in sorted(lines.items()) if left[line.pk] > 0]
        if not units:
            errors.append(
                FieldError("lines", "Every unit of this parcel is already claimed.", "nothing_left")
            )
        return units
    units = []
    seen: set[int] = set()
    for index, item in enumerate(data.lines):
        line = lines.get(item.line_number)
        if line is None:
            errors.append(
                FieldError(f"lines.{index}.line_number", "Not in this parcel.", "not_in_parcel")
            )
            continue
        if item.line_number in seen:
            errors.append(FieldError(f"lines.{index}.line_number", "Listed twice.", "duplicate"))
        seen.add(item.line_number)
        if item.quantity <= 0:
            errors.append(FieldError(f"lines.{index}.quantity", "Must be positive.", "min_value"))
        elif item.quantity > left[line.pk]:
            errors.append(
                FieldError(
                    f"lines.{index}.quantity",
                    f"At most {max(left[line.pk], 0)} unit(s) of this line may be claimed.",
                    "too_many",
                )
            )
        else:
            units.append((line, item.quantity))
    return units


def _units_taken(order: Order) -> dict[int, int]:
    """Order line id -> units in claims not refused and in returns that still count (the
    returnable quantity's own terms, ``returns.selectors``)."""
    taken = dict(_in_returns(order))
    for line_id, units in _claimed(order).items():
        taken[line_id] = taken.get(line_id, 0) + units
    return taken


def claim_lock(*, claim_id: int, channel_id: int | None = None) -> tuple[Order, Claim]:
    """Lock the claim's order, then the claim. Another channel's claim is not found."""
    order_id = Claim.objects.filter(pk=claim_id).values_list("order_id", flat=True).first()
    if order_id is None:
        raise NotFound(f"No claim {claim_id}.", code="claim_not_found")
    try:
        order = order_lock(order_id=order_id, channel_id=channel_id)
    except NotFound:
        raise NotFound(f"No claim {claim_id}.", code="claim_not_found") from None
    claim = Claim.objects.select_for_update(of=("self",)).get(pk=claim_id)
    return order, claim


def claim_resolve(*, claim_id: int, actor: Actor, resolution: str = "", note: str = "") -> Claim:
    """Resolve an open claim: ``reship`` or ``refund`` (empty: what the customer asked).

    Reship: a replacement order for the claimed lines, free of charge, reserved at once
    (``InsufficientStock`` 409 when short: nothing written, the claim stays open). Refund: the
    calculator under ``CLAIM_POLICY`` (``ValidationFailed`` ``lines.N.quantity`` when units
    were refunded already), a ``Refund`` row and ``claim.refund_requested``. Raises
    ``Conflict`` ``invalid_transition`` when the claim is not open.
    """
    if resolution and resolution not in Claim.Resolution.values:
        raise ValidationFailed(
            "The resolution is not valid.",
            field_errors=[
                FieldError(
                    "resolution",
                    f"One of {', '.join(Claim.Resolution.values)}.",
                    "invalid_choice",
                )
            ],
        )
    with transaction.atomic():
        order, claim = claim_lock(claim_id=claim_id, channel_id=actor.channel_id)
        _require_transition(claim, ClaimStatus.RESOLVED)
        claim.resolution = resolution or claim.resolution
        lines = list(claim.lines.select_related("order_line__product").order_by("id"))
        details: dict[str, Any] = {"resolution": claim.resolution}
        if claim.resolution == Claim.Resolution.RESHIP:
            replacement = _reship(order, claim, lines, actor)
            claim.replacement_order = replacement
            details |= {
                "replacement_order_id": replacement.pk,
                "replacement_order_number": replacement.number,
            }
        claim.status = ClaimStatus.RESOLVED
        claim.resolved_at = timezone.now()
        if note:
            claim.notes = f"{claim.notes}\n{note}".strip()[:MAX_NOTE]
        claim.version += 1
        claim.save(
            update_fields=[
                "resolution",
                "replacement_order",
                "status",
                "resolved_at",
                "notes",
                "version",
                "updated_at",
            ]
        )
        _claim_event(order=order, claim=claim, verb="resolved", actor=actor, details=details)
        if claim.resolution == Claim.Resolution.REFUND:
            _refund_request(order, claim, lines, actor)
    return claim


def claim_refuse(*, claim_id: int, reason: str, actor: Actor) -> Claim:
    """Refuse an open claim (staff) with a reason; its units may be returned or claimed again."""
    reason = reason.strip()
    if not reason:
        raise ValidationFailed(
            "A reason is required.",
            field_errors=[FieldError("reason", "Say why the claim is refused.", "required")],
        )
    with transaction.atomic():
        order, claim = claim_lock(claim_id=claim_id, channel_id=actor.channel_id)
        _require_transition(claim, ClaimStatus.REFUSED)
        claim.status = ClaimStatus.REFUSED
        claim.refusal_reason = reason[:300]
        claim.version += 1
        claim.save(update_fields=["status", "refusal_reason", "version", "updated_at"])
        _claim_event(
            order=order, claim=claim, verb="refused", actor=actor, details={"reason": reason}
        )
    return claim


def claim_refund_request(*, claim_id: int, actor: Actor) -> Refund:
    """Ask again for a refused-by-the-payment-system refund of a resolved refund claim.

    Raises ``Conflict`` ``refund_exists`` when a refund is pending or confirmed already,
    ``invalid_transition`` when the claim is not a resolved refund claim.
    """
    with transaction.atomic():
        order, claim = claim_lock(claim_id=claim_id, channel_id=actor.channel_id)
        if claim.status != ClaimStatus.RESOLVED or claim.resolution != Claim.Resolution.REFUND:
            raise Conflict(
                f"Claim {claim.number} is not a resolved refund claim.",
                code="invalid_transition",
            )
        if claim.refunds.exclude(status=Refund.Status.FAILED).exists():
            raise Conflict(f"Claim {claim.number} has its refund.", code="refund_exists")
        lines = list(claim.lines.select_related("order_line__product").order_by("id"))
        return _refund_request(order, claim, lines, actor)


def claim_refund_settle(
    *,
    reference: str,
    is_confirmed: bool,
    actor: Actor,
    claim_id: int | None = None,
    external_reference: str = "",
    failure_reason: str = "",
) -> Refund:
    """The payment system's answer for the claim refund ``reference``: confirmed, or failed
    with a reason (then ``claim_refund_request`` may ask again). With ``claim_id`` the refund
    must be that claim's. The same answer again is a no-op; the opposite answer for a settled
    refund is ``Conflict`` ``refund_settled``."""
    refund_failure_reason_check(is_confirmed=is_confirmed, failure_reason=failure_reason)
    found = Refund.objects.filter(reference=reference, claim__isnull=False)
    if claim_id is not None:
        found = found.filter(claim_id=claim_id)
    row = found.values_list("pk", "claim_id").first()
    if row is None:
        raise NotFound(f"No claim refund {reference}.", code="refund_not_found")
    refund_id, owner_id = row
    claim_id = owner_id
    assert claim_id is not None
    with transaction.atomic():
        order, claim = claim_lock(claim_id=claim_id, channel_id=actor.channel_id)
        refund = Refund.objects.select_for_update().get(pk=refund_id)
        is_changed = refund_settle_locked(
            refund=refund,
            is_confirmed=is_confirmed,
            external_reference=external_reference,
            failure_reason=failure_reason,
        )
        if not is_changed:
            return refund
        _claim_event(
            order=order,
            claim=claim,
            verb="refunded" if is_confirmed else "refund_failed",
            actor=actor,
            details=_refund_payload(refund),
        )
    return refund


def _require_transition(claim: Claim, target: ClaimStatus) -> None:
    if not claim_can_transition(claim.status, target):
        raise Conflict(
            f"Claim {claim.number} is {claim.status} and cannot become {target}.",
            code="invalid_transition",
            details={"from_status": claim.status, "to_status": str(target)},
        )


def _reship(order: Order, claim: Claim, lines: Sequence[ClaimLine], actor: Actor) -> Order:
    """The replacement order, placed like any order (reserved at once), then made free."""
    replacement = replacement_order_place(
        order=order,
        lines=[ReplacementLineInput(line.order_line.sku, line.quantity) for line in lines],
        actor=actor,
        external_id=claim.number,
        payment_status=PaymentStatus.CAPTURED,
        field_prefix="lines",
    )
    return replacement_free_of_charge(
        order=replacement,
        reason=f"Replacement for claim {claim.number} of order {order.number}",
        actor=actor,
        details={"claim_id": claim.pk, "claim_number": claim.number, "order_id": order.pk},
    )


def _refund_request(order: Order, claim: Claim, lines: Sequence[ClaimLine], actor: Actor) -> Refund:
    reason = REASON_OF_KIND[Claim.Kind(claim.kind)]
    try:
        quote = refund_quote(
            order=order,
            lines=[(line.order_line, line.quantity, reason) for line in lines],
            policy=CLAIM_POLICY,
        )
    except ValidationFailed as error:
        raise ValidationFailed(
            f"Claim {claim.number} cannot be refunded: {error.message}",
            field_errors=error.field_errors,
        ) from error
    refund = Refund.objects.create(
        reference=refund_reference_next(),
        claim=claim,
        order=order,
        requested_by=actor.name[:150],
        requested_at=timezone.now(),
        **quote.refund_fields(),
    )
    _claim_event(
        order=order,
        claim=claim,
        verb="refund_requested",
        actor=actor,
        details=_refund_payload(refund),
    )
    return refund


def _refund_payload(refund: Refund) -> dict[str, Any]:
    return {
        "refund_id": refund.pk,
        "reference": refund.reference,
        "refund_status": refund.status,
        "amount": str(refund.amount),
        "tax_amount": str(refund.tax_amount),
        "shipping_amount": str(refund.shipping_amount),
        "currency": refund.currency,
        "document": refund.document,
        "external_reference": refund.external_reference,
        "breakdown": refund.breakdown,
    }


def _claim_event(
    *, order: Order, claim: Claim, verb: str, actor: Actor, details: Mapping[str, Any]
) -> None:
    """The order's timeline entry and the ``claim.<verb>`` outbox event."""
    payload = {
        "claim_id": claim.pk,
        "claim_number": claim.number,
        "claim_status": claim.status,
        "kind": claim.kind,
        **dict(details),
    }
    actor_event_write(
        order=order,
        kind=OrderEvent.Kind.RETURN,
        actor=actor,
        message=f"Claim {claim.number} {verb.replace('_', ' ')}",
        details=payload,
    )
    order_outbox_emit(order=order, topic=f"claim.{verb}", payload=payload)
