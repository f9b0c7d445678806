"""Delta messages from a feed source: idempotent by message id, applied in sequence order.

Rules (docs/architecture.md, "Feeds"):
- One message id is received once; a repeat returns the stored message (``is_duplicate``).
- Messages apply strictly in ``sequence`` order per source. ``last_sequence`` is the cursor:
  the next message to apply is ``last_sequence + 1``. A later one is held, the source is asked
  for a resync (``is_resync_requested`` and one ``feed.resync_requested`` outbox event), and
  applying the missing message drains every held successor.
- A message the latest snapshot already covers (``occurred_at <= last_snapshot_at``, or a
  sequence at or below the cursor) is ``superseded``: stored, never applied.
- A message naming an unknown SKU or location is ``rejected`` as a whole (nothing of it
  applies) and still moves the cursor, so one bad message never blocks a source.
- A sale the counters cannot cover is clamped at zero on hand (the physical world already
  moved) and the message records a warning; losses short reservations like any loss.

Locks: the ``FeedSource`` row first (serialises everything one source does), then stock
levels in primary-key order. A loss only learns under the level locks whether it must short
reservations, and ``stock_short_for`` takes only reservations no one holds; when the others
belong to a commit, release or expiry waiting for one of those levels (``ReservationsBusy``),
the attempt rolls back to its savepoint and is redone with the reservations of the short levels
locked first (``feed_loss_retry``, as ``operations`` does for one level).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

from django.db import transaction
from django.utils import timezone

from inventory.models import FeedMessage, FeedSource, Location, Product, StockLevel, StockMovement
from inventory.services.ledger import Deltas, Origin, change, stock_level_ids, stock_levels_lock
from inventory.services.shortage import (
    LOSS_ATTEMPTS,
    ReservationsBusy,
    reservations_lock_for_levels,
    stock_short_for,
)
from omnilog.core.errors import Conflict, FieldError, NotFound, ValidationFailed
from omnilog.core.outbox import outbox_emit

Kind = StockMovement.Kind
Status = FeedMessage.Status
Result = TypeVar("Result")


DELTA_KINDS = {
    "receipt": Kind.RECEIPT,
    "sale": Kind.SALE,
    "return": Kind.RETURN,
    "adjustment": Kind.ADJUSTMENT,
}


@dataclass(frozen=True)
class DeltaLine:
    """One change reported by a source: ``sold 1`` is ``kind=sale, quantity_delta=-1``."""

    sku: str
    location: str
    quantity_delta: int
    kind: str = "adjustment"


@dataclass(frozen=True)
class DeltaReceipt:
    """What happened to a received message (``message.status`` is the outcome)."""

    message: FeedMessage
    is_duplicate: bool
    drained_sequences: tuple[int, ...] = ()


def source_tag(source: FeedSource) -> str:
    """The ``source`` written on ledger rows caused by this feed, e.g. ``wms:wh-paris``."""
    return f"{'pos' if source.kind == FeedSource.Kind.POS else 'wms'}:{source.code}"


def feed_loss_retry(attempt: Callable[[set[int]], Result]) -> Result:
    """Run ``attempt`` (which locks stock levels, then may short reservations) deadlock-free.

    Each try runs in a savepoint. ``attempt`` receives a set and adds to it every level it is
    about to short (before calling ``stock_short_for``). On ``ReservationsBusy`` the savepoint
    is rolled back, which releases the level locks the try took, and the next try first locks
    the active reservations of every level seen short so far (contract: reservations first),
    then lets ``attempt`` lock its levels again in primary-key order. Bounded: the last
    ``ReservationsBusy`` propagates. Caller: inside ``transaction.atomic``, holding no lock on
    a level ``attempt`` locks.
    """
    short_levels: set[int] = set()
    for number in range(LOSS_ATTEMPTS):
        try:
            with transaction.atomic():
                if short_levels:
                    reservations_lock_for_levels(sorted(short_levels))
                return attempt(short_levels)
        except ReservationsBusy as error:
            if number == LOSS_ATTEMPTS - 1:
                raise
            short_levels.add(int(error.details["stock_level_id"]))
    raise AssertionError("unreachable")  # pragma: no cover


def feed_source_lock(source_code: str) -> FeedSource:
    """Lock a source row (caller owns the transaction). 404 when the code is unknown."""
    try:
        return FeedSource.objects.select_for_update().get(code=source_code)
    except FeedSource.DoesNotExist:
        raise NotFound(
            f"No feed source is called {source_code!r}.", details={"source": source_code}
        ) from None


def _validate(message_id: str, sequence: int, lines: Sequence[DeltaLine]) -> None:
    errors: list[FieldError] = []
    if not message_id or len(message_id) > 100:
        errors.append(FieldError("message_id", "1 to 100 characters.", "invalid"))
    if sequence < 1:
        errors.append(FieldError("sequence", "Must be 1 or more.", "min_value"))
    if not lines:
        errors.append(FieldError("lines", "At least one line.", "required"))
    for index, line in enumerate(lines):
        if line.kind not in DELTA_KINDS:
            errors.append(FieldError(f"lines.{index}.kind", "Unknown kind.", "invalid_choice"))
        if line.quantity_delta == 0:
            errors.append(FieldError(f"lines.{index}.quantity_delta", "Must not be 0.", "zero"))
        elif line.kind in ("receipt", "return") and line.quantity_delta < 0:
            errors.append(
                FieldError(f"lines.{index}.quantity_delta", "Must be positive.", "min_value")
            )
        elif line.kind == "sale" and line.quantity_delta > 0:
            errors.append(
                FieldError(f"lines.{index}.quantity_delta", "A sale is negative.", "max_value")
            )
    if errors:
        raise ValidationFailed("The delta message is not valid.", field_errors=errors)


def feed_delta_receive(
    *,
    source_code: str,
    message_id: str,
    sequence: int,
    occurred_at: datetime,
    lines: Sequence[DeltaLine],
) -> DeltaReceipt:
    """Receive one delta message: store it once, apply it in order, or hold it on a gap."""
    _validate(message_id, sequence, lines)
    with transaction.atomic():
        source = feed_source_lock(source_code)
        existing = FeedMessage.objects.filter(source=source, message_id=message_id).first()
        if existing is not None:
            return DeltaReceipt(message=existing, is_duplicate=True)
        if FeedMessage.objects.filter(source=source, sequence=sequence).exists():
            raise Conflict(
                f"Sequence {sequence} already belongs to another message of {source.code}.",
                code="sequence_taken",
                details={"source": source.code, "sequence": sequence},
            )
        message = FeedMessage.objects.create(
            source=source,
            message_id=message_id,
            sequence=sequence,
            status=Status.HELD,
            occurred_at=occurred_at,
            payload={
                "lines": [
                    {
                        "sku": line.sku,
                        "location": line.location,
                        "quantity_delta": line.quantity_delta,
                        "kind": line.kind,
                    }
                    for line in lines
                ]
            },
        )
        if sequence <= source.last_sequence:
            _finish(message, Status.SUPERSEDED, ["Already covered by the sequence cursor."])
            return DeltaReceipt(message=message, is_duplicate=False)
        if sequence > source.last_sequence + 1 and not source.is_resync_requested:
            source.is_resync_requested = True
            source.save(update_fields=["is_resync_requested", "updated_at"])
            outbox_emit(
                topic="feed.resync_requested",
                aggregate_type="feed_source",
                aggregate_id=source.pk,
                payload={
                    "source": source.code,
                    "expected_sequence": source.last_sequence + 1,
                    "received_sequence": sequence,
                },
            )
        drained = feed_messages_drain(source)
        message.refresh_from_db()
        return DeltaReceipt(message=message, is_duplicate=False, drained_sequences=drained)


def feed_messages_drain(source: FeedSource) -> tuple[int, ...]:
    """Apply the held messages that continue the cursor, in sequence order.

    Caller holds the source's lock inside its transaction. Updates ``last_sequence`` and
    clears ``is_resync_requested`` once nothing is held any more. Returns the sequences
    processed (applied, superseded or rejected).
    """
    held = list(
        FeedMessage.objects.filter(
            source=source, status=Status.HELD, sequence__gt=source.last_sequence
        ).order_by("sequence")
    )
    chain: list[FeedMessage] = []
    expected = source.last_sequence + 1
    for message in held:
        if message.sequence != expected:
            break
        chain.append(message)
        expected += 1
    if chain:
        _apply_chain(source, chain)
        source.last_sequence = chain[-1].sequence
    still_held = len(held) > len(chain)
    source.is_resync_requested = source.is_resync_requested and still_held
    source.save(update_fields=["last_sequence", "is_resync_requested", "updated_at"])
    return tuple(message.sequence for message in chain)


def _finish(message: FeedMessage, status: str, errors: list[str]) -> None:
    message.status = status
    message.errors = errors
    message.applied_at = timezone.now() if status == Status.APPLIED else None
    message.save(update_fields=["status", "errors", "applied_at"])


def _apply_chain(source: FeedSource, chain: Sequence[FeedMessage]) -> None:
    """Apply consecutive messages; their levels are locked once, in primary-key order."""
    skus = {line["sku"] for message in chain for line in message.payload["lines"]}
    codes = {line["location"] for message in chain for line in message.payload["lines"]}
    products = dict(Product.objects.filter(sku__in=skus).values_list("sku", "id"))
    locations = dict(Location.objects.filter(code__in=codes).values_list("code", "id"))
    served = set(source.locations.values_list("id", flat=True))
    pairs: dict[int, list[tuple[int, int] | None]] = {}
    refused: dict[int, list[str]] = {}
    for message in chain:
        problems, resolved = [], []
        for index, line in enumerate(message.payload["lines"]):
            product_id = products.get(line["sku"])
            location_id = locations.get(line["location"])
            if product_id is None:
                problems.append(f"lines.{index}: unknown SKU {line['sku']!r}")
            elif location_id is None:
                problems.append(f"lines.{index}: unknown location {line['location']!r}")
            elif served and location_id not in served:
                problems.append(f"lines.{index}: location {line['location']!r} not served")
            resolved.append((product_id, location_id) if product_id and location_id else None)
        pairs[message.pk] = resolved
        if problems:
            refused[message.pk] = problems
    wanted = [
        pair
        for message in chain
        if message.pk not in refused and message.occurred_at > _snapshot_floor(source)
        for pair in pairs[message.pk]
        if pair is not None
    ]
    level_ids = stock_level_ids(wanted, create=True)

    def attempt(short_levels: set[int]) -> None:
        stock_levels_lock(level_ids.values())
        for message in chain:
            if message.pk in refused:
                _finish(message, Status.REJECTED, refused[message.pk])
            elif message.occurred_at <= _snapshot_floor(source):
                _finish(message, Status.SUPERSEDED, ["Covered by the latest snapshot."])
            else:
                warnings = _apply_lines(source, message, pairs[message.pk], level_ids, short_levels)
                _finish(message, Status.APPLIED, warnings)

    feed_loss_retry(attempt)


def _snapshot_floor(source: FeedSource) -> datetime:
    return source.last_snapshot_at or datetime.min.replace(tzinfo=UTC)


def _apply_lines(
    source: FeedSource,
    message: FeedMessage,
    pairs: Sequence[tuple[int, int] | None],
    level_ids: dict[tuple[int, int], int],
    short_levels: set[int],
) -> list[str]:
    """Write one message's lines. Caller holds the locks of every level involved; the levels
    about to short reservations are added to ``short_levels`` (see ``feed_loss_retry``)."""
    warnings: list[str] = []
    origin = Origin(
        source=source_tag(source),
        reference_type="feed_message",
        reference_id=message.message_id[:64],
        reason=f"{source.code} #{message.sequence}",
        occurred_at=message.occurred_at,
    )
    for index, (line, pair) in enumerate(zip(message.payload["lines"], pairs, strict=True)):
        assert pair is not None  # refused messages never get here
        level = StockLevel.objects.get(id=level_ids[pair])
        quantity = int(line["quantity_delta"])
        if level.on_hand + quantity < 0:
            warnings.append(
                f"lines.{index}: {quantity} with {level.on_hand} on hand; clamped to zero"
            )
            quantity = -level.on_hand
        if quantity == 0:
            continue
        if level.on_hand + quantity < level.reserved + level.damaged + level.quality_control:
            short_levels.add(level.id)
        stock_short_for(level, level.on_hand + quantity, origin)
        change(level.id, DELTA_KINDS[line["kind"]], Deltas(on_hand=quantity), origin)
    return warnings


def feed_messages_supersede(
    source: FeedSource, *, as_of: datetime, sequence: int | None
) -> tuple[int, ...]:
    """The sequence rule of a snapshot; caller holds the source's lock (snapshot apply).

    Held messages the snapshot covers (``occurred_at <= as_of``, or ``sequence <= S`` when the
    snapshot carries the source's sequence ``S``) become ``superseded``. The cursor moves to
    ``S`` (never backwards), or without ``S`` past the highest superseded message (sequences
    grow with time, so a missing message below it happened before ``as_of`` too). Applied
    messages stay ``applied``: their rows are history.

    The held successors are not drained here: draining applies deltas, which lock stock levels
    and may short reservations (``feed_loss_retry`` re-locks reservations first), so it must not
    run under the snapshot's level locks. The caller drains (``feed_messages_drain``) in a
    transaction of its own after the snapshot's commits, holding the source's lock again.
    """
    covered = FeedMessage.objects.filter(source=source, status=Status.HELD)
    by_time = covered.filter(occurred_at__lte=as_of)
    superseded = set(by_time.values_list("sequence", flat=True))
    if sequence is not None:
        superseded |= set(covered.filter(sequence__lte=sequence).values_list("sequence", flat=True))
    cursor = max([source.last_sequence, sequence or 0, *superseded])
    superseded |= set(covered.filter(sequence__lte=cursor).values_list("sequence", flat=True))
    FeedMessage.objects.filter(source=source, sequence__in=superseded).update(
        status=Status.SUPERSEDED, errors=["Covered by a snapshot."]
    )
    source.last_sequence = cursor
    source.save(update_fields=["last_sequence", "updated_at"])
    return tuple(sorted(superseded))
