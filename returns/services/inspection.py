"""Inspection and disposition of a received return: the condition of each line, the proposed
destination (``returns.disposition`` over the ``DispositionRule`` rows), then the moves.

Every move goes through the inventory services, from the QC hold the receipt put the units on:

- restock here: ``stock_qc_release`` sellable (ATP rises in this transaction);
- to a warehouse: released, then one replenishment transfer per warehouse, shipped at once
  (``transfer_create`` + ``transfer_ship``: on hand leaves, in transit rises there);
- quarantine: the units stay on QC hold (someone decides later: ``stock_qc_release``);
- scrap / return to supplier: released as damaged, then written off with the reason.

Staff may override the proposal per line (``DispositionChoice``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from fulfillment.models import TransferOrder
from fulfillment.services.transfers import TransferLineInput, transfer_create, transfer_ship
from inventory.models import Location, StockLevel, StockMovement
from inventory.services import stock_qc_release, stock_write_off
from inventory.services.ledger import stock_level_ids, stock_levels_lock
from omnilog.core.errors import FieldError
from orders.models import Order
from returns import disposition as routing
from returns.models import (
    Disposition,
    DispositionRule,
    ItemCondition,
    ReturnLine,
    ReturnRequest,
)
from returns.services.common import Actor, field_errors_raise, return_lock, return_move
from returns.services.receiving import ReceivedInput, return_receive_locked
from returns.services.requests import lines_payload
from returns.statuses import ReturnStatus


@dataclass(frozen=True)
class InspectionInput:
    return_line_id: int
    condition: str
    note: str = ""


@dataclass(frozen=True)
class DispositionChoice:
    return_line_id: int
    disposition: str
    location_id: int | None = None


def _distance(a: Location, b: Location) -> float:
    if None in (a.latitude, a.longitude, b.latitude, b.longitude):
        return math.inf
    lat1, lon1, lat2, lon2 = map(math.radians, (a.latitude, a.longitude, b.latitude, b.longitude))  # type: ignore[arg-type]
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 12742.0 * math.asin(math.sqrt(h))


def nearest_by_kind(here: Location) -> tuple[tuple[str, int], ...]:
    """Per location kind, the nearest other active location (unknown positions last, then id);
    a warehouse taking returns is preferred over one that does not."""
    best: dict[str, tuple[bool, float, int]] = {}
    for location in Location.objects.filter(is_active=True).exclude(pk=here.pk):
        key = (not location.accepts_returns, _distance(here, location), location.pk)
        if location.kind not in best or key < best[location.kind]:
            best[location.kind] = key
    return tuple(sorted((kind, key[2]) for kind, key in best.items()))


def _rules() -> list[routing.Rule]:
    return [
        routing.Rule(
            rule_id=row.pk,
            name=row.name,
            action=row.action,
            reason_codes=frozenset(row.reason_codes or ()),
            conditions=frozenset(row.conditions or ()),
            categories=frozenset(row.categories or ()),
            location_kinds=frozenset(row.location_kinds or ()),
            target_location_id=row.target_location_id,
            target_location_kind=row.target_location_kind,
            requires_wanted_here=row.requires_wanted_here,
            wanted_atp_below=row.wanted_atp_below,
            wanted_sold_within_days=row.wanted_sold_within_days,
        )
        for row in DispositionRule.objects.filter(is_active=True).order_by("priority", "id")
    ]


def _days_since_sold(product_ids: Sequence[int], location_id: int, now: datetime) -> dict[int, int]:
    """Product id -> days since its last sale at the location (from the ledger)."""
    rows = (
        StockMovement.objects.filter(
            stock_level__location_id=location_id,
            stock_level__product_id__in=product_ids,
            kind=StockMovement.Kind.SALE,
        )
        .values("stock_level__product_id")
        .annotate(last=Max("occurred_at"))
    )
    return {row["stock_level__product_id"]: (now - row["last"]).days for row in rows}


def return_proposals(rma: ReturnRequest, lines: Sequence[ReturnLine]) -> list[routing.Proposal]:
    """The routing proposal of each inspected line (same order), from the database's facts."""
    here = rma.received_location
    assert here is not None
    product_ids = [line.product_id for line in lines]
    atp = {
        level.product_id: level.atp
        for level in StockLevel.objects.filter(location=here, product_id__in=product_ids)
    }
    sold = _days_since_sold(product_ids, here.pk, timezone.now())
    nearest = nearest_by_kind(here)
    rules = _rules()
    return [
        routing.disposition_propose(
            routing.LineFacts(
                reason_code=line.reason_code,
                condition=line.condition,
                category=line.product.category,
                receiving_location_id=here.pk,
                receiving_location_kind=here.kind,
                atp_here=atp.get(line.product_id, 0),
                days_since_sold_here=sold.get(line.product_id),
                nearest_by_kind=nearest,
            ),
            rules,
        )
        for line in lines
    ]


def return_inspect_locked(
    *, order: Order, rma: ReturnRequest, lines: Sequence[InspectionInput], actor: Actor
) -> None:
    """``return_inspect`` for a caller holding the order's and the return's locks."""
    stored = {line.pk: line for line in rma.lines.select_related("product").order_by("id")}
    errors: list[FieldError] = []
    given: dict[int, InspectionInput] = {}
    for index, item in enumerate(lines):
        if item.return_line_id not in stored:
            errors.append(
                FieldError(
                    f"lines.{index}.return_line_id", "Not a line of this return.", "not_found"
                )
            )
        elif item.return_line_id in given:
            errors.append(FieldError(f"lines.{index}.return_line_id", "Listed twice.", "duplicate"))
        if item.condition not in ItemCondition.values:
            errors.append(
                FieldError(
                    f"lines.{index}.condition",
                    f"One of {', '.join(ItemCondition.values)}.",
                    "invalid_choice",
                )
            )
        if len(item.note) > 300:
            errors.append(
                FieldError(f"lines.{index}.note", "300 characters at most.", "max_length")
            )
        given[item.return_line_id] = item
    missing = [line for line in stored.values() if line.quantity_received and line.pk not in given]
    errors.extend(
        FieldError("lines", f"Line {line.pk} ({line.product.sku}) needs a condition.", "required")
        for line in missing
    )
    field_errors_raise("The inspection is not valid.", errors)
    inspected = [line for line in stored.values() if line.pk in given and line.quantity_received]
    for line in inspected:
        line.condition = given[line.pk].condition
        line.inspection_note = given[line.pk].note
    for line, proposal in zip(inspected, return_proposals(rma, inspected), strict=True):
        line.proposed_disposition = proposal.action
        line.proposed_location_id = proposal.location_id
        line.proposal_reason = proposal.reason[:300]
    ReturnLine.objects.bulk_update(
        inspected,
        [
            "condition",
            "inspection_note",
            "proposed_disposition",
            "proposed_location",
            "proposal_reason",
        ],
    )
    return_move(
        order=order,
        rma=rma,
        to_status=ReturnStatus.INSPECTED,
        actor=actor,
        details={"lines": lines_payload(rma)},
    )


def return_inspect(
    *, return_id: int, lines: Sequence[InspectionInput], actor: Actor
) -> ReturnRequest:
    """Record the condition of every received line and store the routing proposal per line.
    Raises ``Conflict`` ``invalid_transition`` (not received), ``ValidationFailed``
    (``lines.N.condition``, a received line without a condition). Nothing moves in stock."""
    with transaction.atomic():
        order, rma = return_lock(return_id=return_id, channel_id=actor.channel_id)
        return_inspect_locked(order=order, rma=rma, lines=lines, actor=actor)
    return rma


def _chosen(
    rma: ReturnRequest, lines: Sequence[ReturnLine], overrides: Sequence[DispositionChoice]
) -> list[tuple[ReturnLine, str, int]]:
    """(line, action, location id) per received line: the proposal unless overridden."""
    by_id = {line.pk: line for line in lines}
    errors: list[FieldError] = []
    chosen = {line.pk: (line.proposed_disposition, line.proposed_location_id) for line in lines}
    for index, item in enumerate(overrides):
        if item.return_line_id not in by_id:
            errors.append(
                FieldError(f"lines.{index}.return_line_id", "Not a received line.", "not_found")
            )
            continue
        if item.disposition not in Disposition.values:
            errors.append(
                FieldError(f"lines.{index}.disposition", "Unknown disposition.", "invalid_choice")
            )
            continue
        location_id = item.location_id
        if item.disposition != Disposition.TO_WAREHOUSE:
            location_id = rma.received_location_id
        elif location_id is None:
            location_id = dict(nearest_by_kind(rma.received_location)).get("warehouse")  # type: ignore[arg-type]
        valid = Location.objects.filter(pk=location_id or 0, is_active=True).exclude(
            pk=(rma.received_location_id or 0)
            if item.disposition == Disposition.TO_WAREHOUSE
            else 0
        )
        if not valid.exists():
            errors.append(
                FieldError(f"lines.{index}.location", "Another active location.", "not_found")
            )
            continue
        chosen[item.return_line_id] = (item.disposition, location_id)
    field_errors_raise("The disposition is not valid.", errors)
    return [(line, chosen[line.pk][0], int(chosen[line.pk][1] or 0)) for line in lines]


def return_disposition(
    *, return_id: int, actor: Actor, overrides: Sequence[DispositionChoice] = ()
) -> ReturnRequest:
    """Apply the disposition of every received line (the proposal, or the staff's override)
    through the inventory services, in one transaction with the status move.

    Locks: the order, the return, then every stock level the moves touch (receiving location
    and target warehouses, primary-key order) before the first move. Raises ``Conflict``
    ``invalid_transition`` (not inspected), ``ValidationFailed`` (``lines.N.disposition``,
    ``lines.N.location``).
    """
    with transaction.atomic():
        order, rma = return_lock(return_id=return_id, channel_id=actor.channel_id)
        if rma.status != ReturnStatus.INSPECTED:
            return_move(order=order, rma=rma, to_status=ReturnStatus.DISPOSITIONED, actor=actor)
        lines = [
            line
            for line in rma.lines.select_related("product").order_by("id")
            if line.quantity_received
        ]
        plan = _chosen(rma, lines, overrides)
        here = rma.received_location_id
        assert here is not None
        pairs = [(line.product_id, here) for line in lines] + [
            (line.product_id, target)
            for line, action, target in plan
            if action == Disposition.TO_WAREHOUSE
        ]
        stock_levels_lock(stock_level_ids(pairs, create=True).values())
        transfers = _apply(rma, plan, actor)
        for line, action, target in plan:
            line.disposition = action
            line.disposition_location_id = target
            line.transfer = transfers.get(target) if action == Disposition.TO_WAREHOUSE else None
        ReturnLine.objects.bulk_update(lines, ["disposition", "disposition_location", "transfer"])
        return_move(
            order=order,
            rma=rma,
            to_status=ReturnStatus.DISPOSITIONED,
            actor=actor,
            details={
                "lines": lines_payload(rma),
                "transfers": sorted(transfer.reference for transfer in transfers.values()),
            },
        )
    return rma


def _apply(
    rma: ReturnRequest, plan: Sequence[tuple[ReturnLine, str, int]], actor: Actor
) -> dict[int, TransferOrder]:
    """The stock moves of ``plan``; returns the transfer made per target warehouse.
    Precondition: the caller holds every level involved."""
    here = rma.received_location_id
    assert here is not None
    outgoing: dict[int, list[TransferLineInput]] = {}
    for line, action, target in plan:
        quantity = line.quantity_received
        reason = f"return {rma.number}: {Disposition(action).label.lower()}"
        if action in (Disposition.RESTOCK_HERE, Disposition.TO_WAREHOUSE):
            stock_qc_release(
                product_id=line.product_id,
                location_id=here,
                quantity=quantity,
                is_sellable=True,
                reason=reason,
                actor=actor.name,
            )
        if action == Disposition.TO_WAREHOUSE:
            outgoing.setdefault(target, []).append(TransferLineInput(line.product_id, quantity))
        if action in (Disposition.SCRAP, Disposition.RETURN_TO_SUPPLIER):
            stock_qc_release(
                product_id=line.product_id,
                location_id=here,
                quantity=quantity,
                is_sellable=False,
                reason=reason,
                actor=actor.name,
            )
            stock_write_off(
                product_id=line.product_id,
                location_id=here,
                quantity=quantity,
                reason=reason,
                actor=actor.name,
            )
    transfers = {}
    for target, transfer_lines in sorted(outgoing.items()):
        merged: dict[int, int] = {}
        for item in transfer_lines:
            merged[item.product_id] = merged.get(item.product_id, 0) + item.quantity
        transfer = transfer_create(
            from_location_id=here,
            to_location_id=target,
            reason=TransferOrder.Reason.REPLENISHMENT,
            lines=[TransferLineInput(product, count) for product, count in sorted(merged.items())],
            actor=actor.name,
            note=f"Return {rma.number}",
        )
        transfers[target] = transfer_ship(transfer_id=transfer.pk, actor=actor.name)
    return transfers


def return_desk_intake(
    *,
    return_id: int,
    location_id: int,
    lines: Sequence[tuple[int, int, str]],
    actor: Actor,
) -> ReturnRequest:
    """The store desk's one step: receive ``(return line id, units, condition)`` at the store
    and inspect them, in one transaction (the proposal is then shown for confirmation)."""
    with transaction.atomic():
        order, rma = return_lock(return_id=return_id, channel_id=actor.channel_id)
        return_receive_locked(
            order=order,
            rma=rma,
            location_id=location_id,
            lines=[ReceivedInput(line_id, quantity) for line_id, quantity, _ in lines],
            actor=actor,
        )
        return_inspect_locked(
            order=order,
            rma=rma,
            lines=[InspectionInput(line_id, condition) for line_id, _, condition in lines],
            actor=actor,
        )
    return rma
