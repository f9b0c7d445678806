"""``manage.py stock_check [--repair]``: prove counters = ledger; exit 1 on any drift."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from inventory.services.integrity import stock_check


class Command(BaseCommand):
    help = "Prove stock counters equal the ledger and the active reservations; --repair fixes."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--repair", action="store_true", help="Write compensating movements for drifts."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        report = stock_check(
            repair=options["repair"], progress=lambda text: self.stdout.write(f"... {text}")
        )
        for drift in report.drifts:
            gap = {k: v for k, v in vars(drift.gap).items() if v}
            self.stdout.write(
                f"DRIFT level {drift.stock_level_id} ({drift.kind}): counters - expected = {gap}"
            )
        summary = (
            f"{report.levels_checked} levels checked, {len(report.drifts)} drift(s), "
            f"{report.repaired} repaired"
        )
        if report.drifts and not options["repair"]:
            raise CommandError(summary)
        self.stdout.write(self.style.SUCCESS(summary))
