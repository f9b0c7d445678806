"""``manage.py seed_demo_flows [--orders N] [--days D] [--seed S]``: a past month of orders for
the flow analytics, played through the real services (``returns.demo_flows``). Deterministic
for a seed; a second run adds nothing. Run after ``seed_demo``."""

from __future__ import annotations

import sys
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from omnilog.core.errors import ApplicationError
from returns.demo_flows import flows_seed


class Command(BaseCommand):
    help = (
        "Place demo orders through every service (routing, picking, packing, shipping, "
        "pickup, cancellations, rejections) and date them over the past days, so the "
        "analytics dashboard has history. Deterministic; a second run adds nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--orders", type=int, default=160, help="Orders (default 160).")
        parser.add_argument("--days", type=int, default=28, help="Spread over (default 28).")
        parser.add_argument("--seed", type=int, default=42, help="Random seed (default 42).")

    def handle(self, *args: Any, **options: Any) -> None:
        if not 0 < options["orders"] <= 20000 or not 1 <= options["days"] <= 365:
            raise CommandError("--orders must be 1..20000 and --days 1..365.")
        started = time.monotonic()
        with tqdm(
            total=options["orders"], unit="order", file=sys.stdout, disable=not sys.stdout.isatty()
        ) as bar:
            try:
                report = flows_seed(
                    count=options["orders"],
                    days=options["days"],
                    seed=options["seed"],
                    on_progress=lambda done: _advance(bar, done),
                )
            except ApplicationError as error:
                raise CommandError(error.message) from error
        seconds = time.monotonic() - started
        if not report.created:
            self.stdout.write(f"demo flows already present ({report.skipped}); nothing added.")
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"demo flows: {report.created} orders played in {seconds:.1f} s "
                f"({report.failed} stopped early by a service, {report.skipped} already there)."
            )
        )


def _advance(bar: tqdm[Any], done: int) -> None:
    bar.update(done)
