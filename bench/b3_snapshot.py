"""B3: a stock snapshot of 1,000,000 rows (20,000 SKUs x 50 locations), compared with COPY (L3).

The scratch database holds 20,000 products x 50 locations = 1,000,000 stock levels with their
opening ledger rows (``bench.seed``, dated a day back). A WMS feed source then sends two
snapshots of every level, each applied with ``inventory.services.feeds.feed_snapshot_apply``
exactly as the ``stock`` worker does (stage the CSV with COPY, validate, diff with replay, lock
and write the changed levels):

1. ``changed``: 10 % of the rows carry a new quantity (one level in ten moves);
2. ``replay``: the same file again, as a second job with the same as-of time: it must change
   nothing and write 0 movements.

The rate is rows in the file over the job's wall time (staging included; writing the upload to
disk is not: ``feed_snapshot_submit`` does that in the API request). The headline is the
slower of the two; both are in the details. Counters must equal the ledger afterwards.
"""

from __future__ import annotations

import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from bench.context import BenchContext, progress
from bench.project import django_ready
from bench.registry import Measurement, benchmark

SKUS = 20_000
LOCATIONS = 50
QUICK_SKUS = 2_000
CHANGED_EVERY = 10  # one row in ten carries a new quantity


def _write_snapshot(path: Path, skus: int, prefix: str, location_codes: list[str]) -> int:
    """The CSV of every level: the seeded quantity, or a new one on every 10th row."""
    from bench.seed import sku

    rows = 0
    with path.open("w", encoding="utf-8") as handle:
        handle.write("sku,location,on_hand\n")
        lines = []
        for product_index in range(skus):
            product_sku = sku(prefix, product_index)
            for location_index, code in enumerate(location_codes):
                row = product_index * len(location_codes) + location_index
                quantity = 1000 + row % 7 if row % CHANGED_EVERY == 0 else -1
                lines.append(f"{product_sku},{code},{quantity}\n")
                rows += 1
            if len(lines) >= 50_000:
                handle.write("".join(lines))
                lines.clear()
        handle.write("".join(lines))
    return rows


def _apply(path: Path, source_id: int, as_of: datetime) -> tuple[float, Any]:
    from inventory.models import FeedJob
    from inventory.services.feeds import feed_snapshot_apply

    job = FeedJob.objects.create(
        source_id=source_id, format=FeedJob.Format.CSV, as_of=as_of, file_path=str(path)
    )
    started = time.perf_counter()
    job = feed_snapshot_apply(job_id=job.id)
    elapsed = time.perf_counter() - started
    if job.status != FeedJob.Status.SUCCEEDED:
        raise RuntimeError(f"snapshot job {job.status}: {job.message} {job.errors[:3]}")
    return elapsed, job


@benchmark("B3", limit="L3", goal=">= 0.5", unit="rows/s")
def snapshot(context: BenchContext) -> Measurement:
    """Snapshot of 20,000 SKUs x 50 locations: 10 % changed, then a replay (slower of the two)"""
    django_ready(context)
    from django.db import connection
    from django.utils import timezone

    from bench import seed
    from inventory.models import FeedSource, Location, StockLevel, StockMovement
    from inventory.services.integrity import stock_check

    skus = QUICK_SKUS if context.duration < 5 else SKUS
    prefix = "B3"
    channel_id = seed.channel_create(code="b3")
    location_ids = seed.locations_create(prefix="B3LOC", count=LOCATIONS, channel_id=channel_id)
    codes = list(
        Location.objects.filter(id__in=location_ids).order_by("id").values_list("code", flat=True)
    )
    progress(f"B3: seeding {skus} SKUs x {LOCATIONS} locations")
    product_ids = seed.products_create(prefix=prefix, count=skus)
    started = time.perf_counter()
    levels = seed.stock_levels_seed(product_ids=product_ids, location_ids=location_ids)
    progress(f"B3: {levels} levels seeded in {time.perf_counter() - started:.1f} s")
    source = FeedSource.objects.create(code="b3-wms", name="B3 WMS", kind=FeedSource.Kind.WMS)
    source.locations.set(location_ids)
    with tempfile.TemporaryDirectory(prefix="omnilog-b3-") as directory:
        path = Path(directory) / "snapshot.csv"
        rows = _write_snapshot(path, skus, prefix, codes)
        # Unchanged rows state the seeded quantity: rewrite the -1 placeholders from the DB.
        quantities = {
            (product_id, location_id): on_hand
            for product_id, location_id, on_hand in StockLevel.objects.filter(
                product_id__in=product_ids
            ).values_list("product_id", "location_id", "on_hand")
        }
        _fill_unchanged(path, product_ids, location_ids, quantities)
        connection.close()
        as_of = timezone.now()
        movements_before = StockMovement.objects.count()
        progress(f"B3: applying a snapshot of {rows} rows, 1 in {CHANGED_EVERY} changed")
        changed_seconds, changed_job = _apply(path, source.id, as_of)
        movements_after_changed = StockMovement.objects.count()
        progress(f"B3: changed in {changed_seconds:.2f} s; replaying the same snapshot")
        replay_seconds, replay_job = _apply(path, source.id, as_of)
        movements_after_replay = StockMovement.objects.count()
    expected_changed = (rows + CHANGED_EVERY - 1) // CHANGED_EVERY
    if changed_job.changed_rows != expected_changed:
        raise RuntimeError(
            f"the snapshot changed {changed_job.changed_rows} levels, expected {expected_changed}"
        )
    if movements_after_changed - movements_before != expected_changed:
        raise RuntimeError("the snapshot did not write one movement per changed level")
    if replay_job.changed_rows or movements_after_replay != movements_after_changed:
        raise RuntimeError(
            f"the replay wrote {movements_after_replay - movements_after_changed} movements"
        )
    report = stock_check()
    if not report.is_consistent:
        raise RuntimeError(f"counters differ from the ledger: {report.drifts[:3]}")
    changed_rate = rows / changed_seconds
    replay_rate = rows / replay_seconds
    return Measurement(
        value=min(changed_rate, replay_rate),
        details={
            "rows": rows,
            "changed_rows_per_second": round(changed_rate),
            "changed_seconds": round(changed_seconds, 2),
            "changed_levels": expected_changed,
            "replay_rows_per_second": round(replay_rate),
            "replay_seconds": round(replay_seconds, 2),
            "replay_movements": movements_after_replay - movements_after_changed,
        },
    )


def _fill_unchanged(
    path: Path,
    product_ids: list[int],
    location_ids: list[int],
    quantities: dict[tuple[int, int], int],
) -> None:
    """Replace the ``-1`` placeholders with the level's current on hand (rows keep their order:
    product index, then location index, matching the ids' order)."""
    output = path.with_suffix(".tmp")
    pairs = ((product, location) for product in product_ids for location in location_ids)
    with path.open(encoding="utf-8") as source, output.open("w", encoding="utf-8") as target:
        target.write(source.readline())
        lines = []
        for line, pair in zip(source, pairs, strict=True):
            if line.endswith(",-1\n"):
                line = f"{line[:-4]},{quantities[pair]}\n"
            lines.append(line)
            if len(lines) >= 50_000:
                target.write("".join(lines))
                lines.clear()
        target.write("".join(lines))
    output.replace(path)
