"""Snapshot feeds: staging, set-wise diff, replay after as-of, stale, row errors, shortages."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from inventory.models import FeedJob, FeedSource, Reservation, StockMovement
from inventory.services import ReserveLine, stock_commit, stock_receive, stock_reserve
from inventory.services.feeds import feed_snapshot_apply, feed_snapshot_submit
from omnilog.core.errors import NotFound, ValidationFailed
from omnilog.core.models import OutboxEvent
from tests.factories import LocationFactory, ProductFactory, SalesChannelFactory
from tests.inventory.helpers import assert_ledger_consistent, level

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def world():  # type: ignore[no-untyped-def]
    channel = SalesChannelFactory(code="web")
    warehouse = LocationFactory(code="wh-1", channels=[channel])
    other = LocationFactory(code="wh-2", channels=[channel])
    products = [ProductFactory(sku=f"A-{n}") for n in range(3)]
    source = FeedSource.objects.create(code="wms1", name="WMS", kind=FeedSource.Kind.WMS)
    return channel, warehouse, other, products, source


def ago(minutes: int) -> datetime:
    return timezone.now() - timedelta(minutes=minutes)


def run_csv(text: str, *, as_of: datetime, mode: str = "all_or_nothing", **kw) -> FeedJob:  # type: ignore[no-untyped-def]
    job = feed_snapshot_submit(
        source_code=kw.pop("source", "wms1"),
        chunks=[text.encode()],
        file_format="csv",
        mode=mode,
        as_of=as_of,
        **kw,
    )
    return feed_snapshot_apply(job_id=job.id)


def feed_movements() -> list[tuple[str, int, str]]:
    return list(
        StockMovement.objects.filter(reference_type="feed_job")
        .order_by("id")
        .values_list("stock_level__product__sku", "delta_on_hand", "kind")
    )


def test_csv_snapshot_sets_on_hand_and_writes_count_movements(world) -> None:  # type: ignore[no-untyped-def]
    _, warehouse, other, (a, b, c), _ = world
    stock_receive(product_id=a.id, location_id=warehouse.id, quantity=5)
    as_of = timezone.now()
    job = run_csv(
        "sku,location,on_hand\nA-0,wh-1,7\nA-1,wh-1,3\nA-2,wh-2,0\nA-0,wh-2,2\n", as_of=as_of
    )
    assert (job.status, job.total_rows, job.processed_rows, job.changed_rows, job.error_count) == (
        "succeeded",
        4,
        4,
        3,
        0,
    )
    assert level(a, warehouse).on_hand == 7
    assert level(b, warehouse).on_hand == 3
    assert level(a, other).on_hand == 2
    # A zero for a pair without a level creates nothing.
    assert not c.stock_levels.exists()
    assert sorted(feed_movements()) == [
        ("A-0", 2, "count"),
        ("A-0", 2, "count"),
        ("A-1", 3, "count"),
    ]
    movement = StockMovement.objects.filter(reference_type="feed_job").first()
    assert movement is not None
    assert (movement.source, movement.reference_id, movement.occurred_at) == (
        "wms:wms1",
        str(job.id),
        as_of,
    )
    job.source.refresh_from_db()
    assert job.source.last_snapshot_at == as_of
    assert_ledger_consistent()


def test_json_snapshot_takes_as_of_and_rows_from_the_document(world) -> None:  # type: ignore[no-untyped-def]
    _, warehouse, _, (a, b, _), _ = world
    as_of = ago(5)
    body = {
        "as_of": as_of.isoformat(),
        "rows": [
            {"sku": "A-0", "location": "wh-1", "on_hand": 4},
            {"sku": "A-1", "location": "wh-1", "on_hand": "6"},
        ],
    }
    job = feed_snapshot_submit(
        source_code="wms1", chunks=[json.dumps(body).encode()], file_format="json"
    )
    assert job.as_of == as_of
    job = feed_snapshot_apply(job_id=job.id)
    assert (job.status, job.changed_rows) == ("succeeded", 2)
    assert (level(a, warehouse).on_hand, level(b, warehouse).on_hand) == (4, 6)
    assert_ledger_consistent()


def test_only_changed_rows_write_movements_and_a_replay_writes_none(world) -> None:  # type: ignore[no-untyped-def]
    _, warehouse, _, (a, b, _), _ = world
    stock_receive(product_id=a.id, location_id=warehouse.id, quantity=5)
    stock_receive(product_id=b.id, location_id=warehouse.id, quantity=9)
    as_of = timezone.now()
    text = "sku,location,on_hand\nA-0,wh-1,5\nA-1,wh-1,8\n"
    first = run_csv(text, as_of=as_of)
    assert first.changed_rows == 1
    assert feed_movements() == [("A-1", -1, "count")]
    before = StockMovement.objects.count()
    replay = run_csv(text, as_of=as_of)
    assert (replay.status, replay.changed_rows) == ("succeeded", 0)
    assert StockMovement.objects.count() == before
    # Re-running a finished job does nothing either.
    again = feed_snapshot_apply(job_id=replay.id)
    assert again.finished_at == replay.finished_at
    assert StockMovement.objects.count() == before
    assert_ledger_consistent()


def test_late_snapshot_keeps_sales_and_receipts_made_after_its_as_of(world) -> None:  # type: ignore[no-untyped-def]
    channel, warehouse, _, (a, _, _), _ = world
    stock_receive(product_id=a.id, location_id=warehouse.id, quantity=10)
    as_of = timezone.now()  # the WMS counted 10 now ...
    (reservation,) = stock_reserve(  # ... then a sale of 3 and a receipt of 4 happened here
        lines=[ReserveLine(product_id=a.id, quantity=3, location_id=warehouse.id)],
        channel_id=channel.id,
    )
    stock_commit(reservation_id=reservation.id)
    stock_receive(product_id=a.id, location_id=warehouse.id, quantity=4)
    assert level(a, warehouse).on_hand == 11
    job = run_csv("sku,location,on_hand\nA-0,wh-1,10\n", as_of=as_of)
    assert (job.status, job.changed_rows) == ("succeeded", 0)  # 10 - 3 + 4 = 11 already
    assert level(a, warehouse).on_hand == 11
    job = run_csv("sku,location,on_hand\nA-0,wh-1,8\n", as_of=as_of)  # 2 were lost before
    assert level(a, warehouse).on_hand == 9
    assert feed_movements() == [("A-0", -2, "count")]
    assert_ledger_consistent()


def test_a_late_snapshot_clamps_at_zero_when_more_was_sold_since(world) -> None:  # type: ignore[no-untyped-def]
    channel, warehouse, _, (a, _, _), _ = world
    stock_receive(product_id=a.id, location_id=warehouse.id, quantity=5)
    as_of = timezone.now()
    (reservation,) = stock_reserve(
        lines=[ReserveLine(product_id=a.id, quantity=4, location_id=warehouse.id)],
        channel_id=channel.id,
    )
    stock_commit(reservation_id=reservation.id)
    job = run_csv("sku,location,on_hand\nA-0,wh-1,2\n", as_of=as_of)
    assert level(a, warehouse).on_hand == 0
    assert "1 level(s) clamped at zero" in job.message
    assert_ledger_consistent()


def test_stale_snapshot_is_rejected_and_changes_nothing(world) -> None:  # type: ignore[no-untyped-def]
    _, warehouse, _, (a, _, _), source = world
    newer = ago(5)
    run_csv("sku,location,on_hand\nA-0,wh-1,5\n", as_of=newer)
    before = StockMovement.objects.count()
    job = run_csv("sku,location,on_hand\nA-0,wh-1,50\n", as_of=ago(30))
    assert job.status == "rejected"
    assert job.message.startswith("Stale snapshot")
    assert level(a, warehouse).on_hand == 5
    assert StockMovement.objects.count() == before
    source.refresh_from_db()
    assert source.last_snapshot_at == newer


BAD_CSV = (
    "sku,location,on_hand\n"
    "A-0,wh-1,4\n"  # line 2: good
    "NOPE,wh-1,1\n"  # line 3: unknown SKU
    "A-1,nowhere,1\n"  # line 4: unknown location
    "A-1,wh-1,-2\n"  # line 5: negative
    "A-1,wh-2,abc\n"  # line 6: not a number
    "A-2,wh-1,6\n"  # line 7: good
    "A-0,wh-1,9\n"  # line 8: duplicate of line 2
)


def _codes(job: FeedJob) -> list[tuple[int, str]]:
    return [(error["line"], error["code"]) for error in job.errors]


def test_bad_rows_all_or_nothing_reports_each_row_and_writes_nothing(world) -> None:  # type: ignore[no-untyped-def]
    _, _warehouse, _, (a, _, c), _ = world
    job = run_csv(BAD_CSV, as_of=ago(5))
    assert job.status == "rejected"
    assert job.error_count == 5
    assert _codes(job) == [
        (3, "unknown_sku"),
        (4, "unknown_location"),
        (5, "negative_quantity"),
        (6, "invalid_quantity"),
        (8, "duplicate_row"),
    ]
    assert job.errors[0] == {
        "row": 2,
        "line": 3,
        "code": "unknown_sku",
        "message": "No product has this SKU.",
        "sku": "NOPE",
        "location": "wh-1",
        "on_hand": "1",
    }
    assert StockMovement.objects.count() == 0
    assert not a.stock_levels.exists()
    assert not c.stock_levels.exists()
    job.source.refresh_from_db()
    assert job.source.last_snapshot_at is None


def test_bad_rows_apply_valid_applies_the_good_rows(world) -> None:  # type: ignore[no-untyped-def]
    _, warehouse, _, (a, _, c), _ = world
    job = run_csv(BAD_CSV, as_of=ago(5), mode="apply_valid")
    assert (job.status, job.error_count, job.changed_rows) == ("succeeded", 5, 2)
    assert [code for _, code in _codes(job)][-1] == "duplicate_row"
    assert (level(a, warehouse).on_hand, level(c, warehouse).on_hand) == (4, 6)
    assert_ledger_consistent()


def test_malformed_rows_are_named_by_line_and_a_wrong_header_rejects_the_job(world) -> None:  # type: ignore[no-untyped-def]
    _, warehouse, _, (a, _, _), _ = world
    text = 'sku,location,on_hand\nA-0,wh-1,4\n\nA-1,wh-1\n"A-2",wh-1,3,extra\nA-2,"wh-1",3\n'
    job = run_csv(text, as_of=ago(5), mode="apply_valid")
    assert job.status == "succeeded"
    assert [(e["row"], e["line"], e["code"]) for e in job.errors] == [
        (2, 4, "malformed_row"),
        (3, 5, "malformed_row"),
    ]
    assert level(a, warehouse).on_hand == 4
    job = run_csv("sku;location;on_hand\nA-0;wh-1;4\n", as_of=ago(4))
    assert job.status == "rejected"
    assert job.message == (
        "The CSV header must be 'sku,location,on_hand' (comma-separated);"
        " got 'sku;location;on_hand'."
    )
    assert level(a, warehouse).on_hand == 4
    assert_ledger_consistent()


def test_snapshot_below_reserved_shorts_the_youngest_reservations(world) -> None:  # type: ignore[no-untyped-def]
    channel, warehouse, _, (a, _, _), _ = world
    stock_receive(product_id=a.id, location_id=warehouse.id, quantity=10)
    old, young = (
        stock_reserve(
            lines=[
                ReserveLine(
                    product_id=a.id, quantity=3, location_id=warehouse.id, reference_id=name
                )
            ],
            channel_id=channel.id,
        )[0]
        for name in ("old", "young")
    )
    as_of = timezone.now()
    job = run_csv("sku,location,on_hand\nA-0,wh-1,4\n", as_of=as_of)
    assert job.status == "succeeded"
    old.refresh_from_db()
    young.refresh_from_db()
    assert (old.status, old.quantity) == ("active", 3)
    assert (young.status, young.quantity) == ("active", 1)
    stock = level(a, warehouse)
    assert (stock.on_hand, stock.reserved) == (4, 4)
    shorted = OutboxEvent.objects.get(topic="reservation.shorted")
    assert shorted.payload["quantity_shorted"] == 2
    assert Reservation.objects.filter(status="active").count() == 2
    assert_ledger_consistent()


def test_threshold_events_are_emitted_set_wise(world) -> None:  # type: ignore[no-untyped-def]
    _, warehouse, _, (a, b, _), _ = world
    stock_receive(product_id=a.id, location_id=warehouse.id, quantity=10)
    OutboxEvent.objects.all().delete()
    run_csv("sku,location,on_hand\nA-0,wh-1,0\nA-1,wh-1,5\n", as_of=timezone.now())
    events = sorted(
        (e.topic, e.payload["product_id"], e.payload["atp_before"], e.payload["atp"])
        for e in OutboxEvent.objects.all()
    )
    assert events == [("stock.back_in_stock", b.id, 0, 5), ("stock.out_of_stock", a.id, 10, 0)]


def test_submit_refuses_bad_input_without_creating_a_job(world) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationFailed) as missing:
        feed_snapshot_submit(
            source_code="wms1", chunks=[b"sku,location,on_hand\n"], file_format="csv"
        )
    assert missing.value.field_errors[0].field == "as_of"
    with pytest.raises(ValidationFailed):
        feed_snapshot_submit(
            source_code="wms1",
            chunks=[b"x"],
            file_format="csv",
            as_of=timezone.now() + timedelta(days=1),
        )
    with pytest.raises(ValidationFailed):
        feed_snapshot_submit(source_code="wms1", chunks=[b"{"], file_format="json")
    with pytest.raises(NotFound):
        feed_snapshot_submit(source_code="nope", chunks=[b"x"], file_format="csv", as_of=ago(1))
    assert FeedJob.objects.count() == 0


def test_a_source_with_declared_locations_cannot_report_others(world) -> None:  # type: ignore[no-untyped-def]
    _, warehouse, other, (a, _, _), source = world
    source.locations.add(warehouse)
    job = run_csv(
        "sku,location,on_hand\nA-0,wh-1,1\nA-0,wh-2,1\n", as_of=ago(1), mode="apply_valid"
    )
    assert _codes(job) == [(3, "location_not_served")]
    assert level(a, warehouse).on_hand == 1
    assert not a.stock_levels.filter(location=other).exists()


def test_padded_values_and_signed_quantities_are_accepted_and_bad_quantities_named(world) -> None:  # type: ignore[no-untyped-def]
    _, warehouse, other, (a, b, c), _ = world
    text = (
        "sku,location,on_hand\n"
        '" A-0 "," wh-1 "," +4 "\n'  # line 2: padded everywhere, signed: 4
        "A-1,wh-1, 7\n"  # line 3: 7
        "A-2,wh-1,1234567890\n"  # line 4: too large
        "A-2,wh-2,\n"  # line 5: empty quantity
        "A-2,wh-2,\u0663\n"  # line 6: a digit, but not an ASCII one
        "A-2,wh-2,1.5\n"  # line 7: not whole
        " ,wh-1,3\n"  # line 8: no SKU
        "A-1, ,3\n"  # line 9: no location
        "A-2,wh-2,000000002\n"  # line 10: 2
    )
    job = run_csv(text, as_of=ago(5), mode="apply_valid")
    assert (job.status, job.error_count, job.changed_rows) == ("succeeded", 6, 3)
    assert _codes(job) == [
        (4, "quantity_too_large"),
        (5, "missing_quantity"),
        (6, "invalid_quantity"),
        (7, "invalid_quantity"),
        (8, "missing_sku"),
        (9, "missing_location"),
    ]
    assert job.errors[2]["row"] == 5
    assert job.errors[2]["on_hand"] == "\u0663"
    assert (level(a, warehouse).on_hand, level(b, warehouse).on_hand) == (4, 7)
    assert level(c, other).on_hand == 2
    assert_ledger_consistent()


def test_json_row_errors_are_numbered_by_position_without_lines(world) -> None:  # type: ignore[no-untyped-def]
    _, warehouse, _, (a, _, _), _ = world
    body = {
        "as_of": ago(5).isoformat(),
        "rows": [
            {"sku": "A-0", "location": "wh-1", "on_hand": 3},
            "not an object",
            {"sku": "A-0", "location": "wh-1", "on_hand": 5},
            {"sku": "A-0", "location": "wh-1", "on_hand": True},
        ],
    }
    job = feed_snapshot_submit(
        source_code="wms1",
        chunks=[json.dumps(body).encode()],
        file_format="json",
        mode="apply_valid",
    )
    job = feed_snapshot_apply(job_id=job.id)
    assert [(e["row"], e["code"]) for e in job.errors] == [
        (2, "malformed_row"),
        (3, "duplicate_row"),
        (4, "invalid_quantity"),
    ]
    assert all("line" not in error for error in job.errors)
    assert level(a, warehouse).on_hand == 3
    assert_ledger_consistent()
