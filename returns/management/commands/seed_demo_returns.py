"""``manage.py seed_demo_returns``: a few demo returns in several states (requested, approved,
inspected, refund requested, closed, quarantined), played through the return services on
delivered or collected demo orders. Run after ``seed_demo_flows``. Idempotent."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from returns.demo_returns import PLAN, returns_seed


class Command(BaseCommand):
    help = "Demo returns in several states on delivered demo orders (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        report = returns_seed()
        if not report.created:
            self.stdout.write(
                f"demo returns: nothing added ({report.skipped} present; needs delivered demo "
                "orders from seed_demo_flows and a store taking returns)."
            )
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"demo returns: {report.created} added ({len(PLAN)} states planned)."
            )
        )
