"""Delta feeds: idempotence, sequence order, gaps and resync, and a seeded chaos test."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from inventory.models import FeedMessage, FeedSource, StockLevel, StockMovement
from inventory.services import ReserveLine, stock_receive, stock_reserve
from inventory.services.feeds import (
    DeltaLine,
    feed_delta_receive,
    feed_snapshot_apply,
    feed_snapshot_submit,
)
from omnilog.core.errors import Conflict, ValidationFailed
from omnilog.core.models import OutboxEvent
from tests.factories import LocationFactory, ProductFactory, SalesChannelFactory
from tests.inventory.helpers import assert_ledger_consistent, level

pytestmark = pytest.mark.django_db

BASE = timezone.now() - timedelta(hours=3)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def till():  # type: ignore[no-untyped-def]
    channel = SalesChannelFactory(code="store")
    store = LocationFactory(code="st-1", channels=[channel])
    products = [ProductFactory(sku=f"B-{n}") for n in range(2)]
    source = FeedSource.objects.create(code="till1", name="Till", kind=FeedSource.Kind.POS)
    return channel, store, products, source


def send(sequence: int, *lines: tuple[str, int], message_id: str | None = None, at=None):  # type: ignore[no-untyped-def]
    return feed_delta_receive(
        source_code="till1",
        message_id=message_id or f"m{sequence}",
        sequence=sequence,
        occurred_at=at or BASE + timedelta(minutes=sequence),
        lines=[
            DeltaLine(sku=sku, location="st-1", quantity_delta=quantity) for sku, quantity in lines
        ],
    )


def snapshot(rows: dict[str, int], *, as_of: datetime, sequence: int | None):  # type: ignore[no-untyped-def]
    text = "sku,location,on_hand\n" + "".join(f"{s},st-1,{q}\n" for s, q in rows.items())
    job = feed_snapshot_submit(
        source_code="till1",
        chunks=[text.encode()],
        file_format="csv",
        as_of=as_of,
        sequence=sequence,
    )
    return feed_snapshot_apply(job_id=job.id)


def statuses() -> dict[int, str]:
    return dict(FeedMessage.objects.order_by("sequence").values_list("sequence", "status"))


def test_in_order_messages_apply_and_duplicates_are_ignored(till) -> None:  # type: ignore[no-untyped-def]
    _, store, (b0, _), source = till
    first = send(1, ("B-0", 12))
    assert (first.message.status, first.is_duplicate) == ("applied", False)
    again = send(1, ("B-0", 12))
    assert (again.message.pk, again.is_duplicate) == (first.message.pk, True)
    send(2, ("B-0", -1))
    assert level(b0, store).on_hand == 11
    movements = StockMovement.objects.order_by("id").values_list(
        "kind", "delta_on_hand", "source", "reference_type", "reference_id"
    )
    assert list(movements) == [
        ("adjustment", 12, "pos:till1", "feed_message", "m1"),
        ("adjustment", -1, "pos:till1", "feed_message", "m2"),
    ]
    source.refresh_from_db()
    assert (source.last_sequence, source.is_resync_requested) == (2, False)
    assert_ledger_consistent()


def test_gap_holds_requests_a_resync_once_and_drains_when_filled(till) -> None:  # type: ignore[no-untyped-def]
    _, store, (b0, _), source = till
    send(1, ("B-0", 5))
    assert send(3, ("B-0", 3)).message.status == "held"
    assert send(4, ("B-0", -2)).message.status == "held"
    assert level(b0, store).on_hand == 5
    source.refresh_from_db()
    assert (source.last_sequence, source.is_resync_requested) == (1, True)
    event = OutboxEvent.objects.get(topic="feed.resync_requested")
    assert event.payload == {"source": "till1", "expected_sequence": 2, "received_sequence": 3}
    filled = send(2, ("B-0", 1))
    assert filled.message.status == "applied"
    assert filled.drained_sequences == (2, 3, 4)
    assert statuses() == {1: "applied", 2: "applied", 3: "applied", 4: "applied"}
    assert level(b0, store).on_hand == 7
    source.refresh_from_db()
    assert (source.last_sequence, source.is_resync_requested) == (4, False)
    assert OutboxEvent.objects.filter(topic="feed.resync_requested").count() == 1
    assert_ledger_consistent()


def test_reordered_messages_apply_in_sequence_order(till) -> None:  # type: ignore[no-untyped-def]
    _, store, (b0, _), _ = till
    send(2, ("B-0", -4))  # a sale reported before the receipt that made it possible
    send(1, ("B-0", 10))
    assert level(b0, store).on_hand == 6
    assert list(
        StockMovement.objects.order_by("id").values_list("reference_id", "delta_on_hand")
    ) == [("m1", 10), ("m2", -4)]


def test_unknown_sku_rejects_the_whole_message_and_moves_on(till) -> None:  # type: ignore[no-untyped-def]
    _, store, (b0, _), source = till
    bad = send(1, ("B-0", 5), ("NOPE", 1))
    assert (bad.message.status, bad.message.errors) == ("rejected", ["lines.1: unknown SKU 'NOPE'"])
    send(2, ("B-0", 2))
    assert level(b0, store).on_hand == 2
    source.refresh_from_db()
    assert source.last_sequence == 2


def test_invalid_messages_and_sequence_conflicts_are_refused(till) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationFailed):
        send(1, ("B-0", 0))
    send(1, ("B-0", 1))
    with pytest.raises(Conflict) as conflict:
        send(1, ("B-0", 1), message_id="other")
    assert conflict.value.code == "sequence_taken"
    assert FeedMessage.objects.count() == 1


def test_a_sale_below_reserved_shorts_and_below_zero_clamps(till) -> None:  # type: ignore[no-untyped-def]
    channel, store, (b0, _), _ = till
    stock_receive(product_id=b0.id, location_id=store.id, quantity=3)
    stock_reserve(
        lines=[ReserveLine(product_id=b0.id, quantity=2, location_id=store.id)],
        channel_id=channel.id,
    )
    send(1, ("B-0", -2))
    stock = level(b0, store)
    assert (stock.on_hand, stock.reserved) == (1, 1)
    clamped = send(2, ("B-0", -5))
    assert clamped.message.errors == ["lines.0: -5 with 1 on hand; clamped to zero"]
    stock = level(b0, store)
    assert (stock.on_hand, stock.reserved) == (0, 0)
    assert_ledger_consistent()


def test_snapshot_with_sequence_supersedes_covered_messages_and_resets_the_cursor(till) -> None:  # type: ignore[no-untyped-def]
    _, store, (b0, _), source = till
    send(1, ("B-0", 5))
    send(3, ("B-0", 1))  # held: 2 is missing
    send(6, ("B-0", 4))  # held: after the snapshot
    job = snapshot({"B-0": 9}, as_of=BASE + timedelta(minutes=4, seconds=30), sequence=4)
    assert job.status == "succeeded"
    assert statuses() == {1: "applied", 3: "superseded", 6: "held"}
    source.refresh_from_db()
    assert (source.last_sequence, source.is_resync_requested) == (4, True)
    assert level(b0, store).on_hand == 9
    late = send(2, ("B-0", 100))  # covered by the snapshot's sequence
    assert late.message.status == "superseded"
    send(5, ("B-0", -1))
    assert statuses()[6] == "applied"
    assert level(b0, store).on_hand == 12
    source.refresh_from_db()
    assert (source.last_sequence, source.is_resync_requested) == (6, False)
    assert_ledger_consistent()


def test_snapshot_drains_the_held_messages_that_continue_its_cursor(till) -> None:  # type: ignore[no-untyped-def]
    # The drain runs after the snapshot's transaction, holding the source's lock again.
    _, store, (b0, _), source = till
    send(1, ("B-0", 5))
    send(4, ("B-0", 2))  # held: 2 and 3 are missing
    send(5, ("B-0", -1))  # held
    job = snapshot({"B-0": 8}, as_of=BASE + timedelta(minutes=3, seconds=30), sequence=3)
    assert job.status == "succeeded"
    assert statuses() == {1: "applied", 4: "applied", 5: "applied"}
    source.refresh_from_db()
    assert (source.last_sequence, source.is_resync_requested) == (5, False)
    assert level(b0, store).on_hand == 9
    assert_ledger_consistent()


class FeedModel:
    """The feed rules in a few lines of Python, event by event (sequence n occurs at n min).

    A snapshot taken between messages k and k + 1 is ``truth[k]`` plus the applied messages
    after k; it supersedes held messages up to k and moves the cursor to k when it carries
    the sequence, else past the highest held message it superseded. Older snapshots are stale.
    """

    def __init__(self, truth: list[dict[str, int]], deltas: dict[int, dict[str, int]]) -> None:
        self.truth, self.deltas = truth, deltas
        self.values = dict(truth[0])
        self.cursor, self.snapshot_k = 0, 0
        self.seen: set[int] = set()
        self.held: set[int] = set()
        self.applied: set[int] = set()

    def message(self, n: int) -> None:
        if n in self.seen:
            return
        self.seen.add(n)
        if n > self.cursor:
            self.held.add(n)
            self.drain()

    def drain(self) -> None:
        while self.cursor + 1 in self.held:
            self.cursor += 1
            self.held.discard(self.cursor)
            if self.cursor > self.snapshot_k:
                self.applied.add(self.cursor)
                for sku, quantity in self.deltas[self.cursor].items():
                    self.values[sku] += quantity

    def snapshot(self, k: int, *, with_sequence: bool) -> None:
        if k < self.snapshot_k:
            return  # stale
        self.snapshot_k = k
        self.values = dict(self.truth[k])
        for n in self.applied:
            if n > k:
                for sku, quantity in self.deltas[n].items():
                    self.values[sku] += quantity
        superseded = {n for n in self.held if n <= k}
        self.cursor = max([self.cursor, k if with_sequence else 0, *superseded])
        self.held = {n for n in self.held if n > self.cursor}
        self.drain()


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5, 6])
def test_feed_chaos_ends_where_a_simple_model_says(till, seed: int) -> None:  # type: ignore[no-untyped-def]
    _, store, products, source = till
    rng = random.Random(seed)
    skus = [product.sku for product in products]
    # The source's truth: 24 messages (sequence i at BASE + i minutes) that never go negative.
    truth = [dict.fromkeys(skus, 0)]
    messages = []
    for sequence in range(1, 25):
        state = dict(truth[-1])
        lines = []
        for sku in rng.sample(skus, rng.randint(1, 2)):
            quantity = rng.randint(1, 6) if state[sku] == 0 or rng.random() < 0.5 else 0
            quantity = quantity or -rng.randint(1, state[sku])
            state[sku] += quantity
            lines.append((sku, quantity))
        truth.append(state)
        messages.append((sequence, lines))
    # Snapshots taken between messages k and k + 1, some with the sequence, some without.
    points = sorted(rng.sample(range(1, 24), 3))
    snapshots = [(k, rng.random() < 0.5) for k in points]
    dropped = {seq for seq in range(1, 25) if rng.random() < 0.1}
    events: list[tuple[str, int, bool]] = []
    for sequence, _ in messages:
        if sequence not in dropped:
            events += [("message", sequence, False)] * rng.randint(1, 3)
    events += [("snapshot", k, with_sequence) for k, with_sequence in snapshots]
    rng.shuffle(events)

    model = FeedModel(truth, {sequence: dict(lines) for sequence, lines in messages})
    for kind, number, with_sequence in events:
        if kind == "message":
            send(number, *messages[number - 1][1])
            model.message(number)
        else:
            snapshot(
                truth[number],
                as_of=BASE + timedelta(minutes=number, seconds=30),
                sequence=number if with_sequence else None,
            )
            model.snapshot(number, with_sequence=with_sequence)
    on_hand = dict(StockLevel.objects.filter(location=store).values_list("product__sku", "on_hand"))
    assert {sku: on_hand.get(sku, 0) for sku in skus} == model.values, (seed, events)
    source.refresh_from_db()
    assert source.last_sequence == model.cursor
    assert {n for n, status in statuses().items() if status == "held"} == model.held
    assert {n for n, status in statuses().items() if status == "applied"} == model.applied
    assert source.is_resync_requested == bool(model.held)
    assert source.last_snapshot_at == BASE + timedelta(minutes=model.snapshot_k, seconds=30)
    assert_ledger_consistent()
    # Replaying the newest snapshot changes nothing.
    before = StockMovement.objects.count()
    replay = snapshot(truth[model.snapshot_k], as_of=source.last_snapshot_at, sequence=None)
    assert (replay.status, replay.changed_rows) == ("succeeded", 0)
    assert StockMovement.objects.count() == before
