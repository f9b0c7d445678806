"""``manage.py seed_demo [--scale N] [--seed S]``: deterministic, idempotent demo data."""

from __future__ import annotations

import sys
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from inventory.demo import demo_plan
from inventory.demo_seed import SeedReport, seed_demo

API_KEYS_FILE = "demo-api-keys.txt"


class Command(BaseCommand):
    help = (
        "Create demo channels, locations, products, stock, customers, users and API keys. "
        "Deterministic for a seed; a second run adds nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--scale",
            type=float,
            default=1.0,
            help="1 = 2,000 products, 40 stores, 3 warehouses, 500 customers (default 1).",
        )
        parser.add_argument("--seed", type=int, default=42, help="Random seed (default 42).")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            plan = demo_plan(scale=options["scale"], seed=options["seed"])
        except ValueError as error:
            raise CommandError(str(error)) from error
        started = time.monotonic()
        with tqdm(
            total=plan.progress_total,
            unit="row",
            file=sys.stdout,
            disable=not sys.stdout.isatty(),
        ) as bar:

            def on_progress(label: str, units: int) -> None:
                bar.set_description(label, refresh=False)
                bar.update(units)

            report = seed_demo(
                plan=plan,
                api_keys_path=settings.VAR_DIR / API_KEYS_FILE,
                on_progress=on_progress,
            )
        self._print(report, seconds=time.monotonic() - started)

    def _print(self, report: SeedReport, *, seconds: float) -> None:
        present = ", ".join(f"{s.present} {s.name}" for s in report.sections if s.present)
        if report.is_unchanged:
            self.stdout.write(f"demo data already present: {present}; nothing added.")
            return
        created = ", ".join(
            f"{s.created} {s.name}" + (f" ({s.note})" if s.note else "")
            for s in report.sections
            if s.created
        )
        self.stdout.write(self.style.SUCCESS(f"demo data created in {seconds:.1f} s: {created}"))
        if present:
            self.stdout.write(f"demo data already present: {present}")
        if report.api_keys:
            self.stdout.write(
                f"API keys (shown once; also in {report.api_keys_path}), header X-Api-Key:"
            )
            for code, secret in report.api_keys:
                self.stdout.write(f"  {code:<12} {secret}")
