"""``manage.py replenishment_propose [--location CODE ...] [--dry-run] [--force]``.

Computes replenishment proposals for the due rules (every active rule with ``--force``) and
replaces the open proposals of the groups reviewed; ``--dry-run`` prints them and writes
nothing. The daily beat job runs the same service (``replenishment_propose_task``).
"""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from inventory.services.replenishment import ProposalRun, replenishment_propose
from omnilog.core.errors import ValidationFailed


class Command(BaseCommand):
    help = "Propose purchase orders and transfers for the due replenishment rules."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--location", action="append", default=[], help="Location code (repeatable)."
        )
        parser.add_argument("--dry-run", action="store_true", help="Print, write nothing.")
        parser.add_argument(
            "--force", action="store_true", help="Review every active rule, due or not."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        with tqdm(unit="product", file=sys.stdout, disable=not sys.stdout.isatty()) as bar:

            def on_progress(done: int, total: int) -> None:
                bar.total = total
                bar.update(done - bar.n)

            try:
                run = replenishment_propose(
                    location_codes=options["location"],
                    dry_run=options["dry_run"],
                    force=options["force"],
                    progress=on_progress,
                )
            except ValidationFailed as error:
                raise CommandError(error.message) from error
        self._print(run)

    def _print(self, run: ProposalRun) -> None:
        for draft in run.drafts:
            kind = "purchase order" if draft.kind == "purchase" else "transfer"
            self.stdout.write(
                f"{kind} {draft.source_code} -> {draft.location_code}: {len(draft.lines)} line(s)"
                + (f" ({draft.note})" if draft.note else "")
            )
            for line in draft.lines:
                self.stdout.write(f"  {line.sku} x {line.quantity}: {line.plan.explanation}")
        for message in run.skipped:
            self.stdout.write(self.style.WARNING(f"skipped: {message}"))
        summary = (
            f"{run.rules_reviewed} rule(s) reviewed, {run.products_evaluated} product(s) "
            f"evaluated, {len(run.drafts)} proposal(s)"
        )
        if run.is_dry_run:
            self.stdout.write(f"dry run: {summary}; nothing written.")
        else:
            self.stdout.write(
                self.style.SUCCESS(f"{summary} written, {run.replaced} open one(s) replaced.")
            )
