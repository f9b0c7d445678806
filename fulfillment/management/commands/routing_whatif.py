"""``manage.py routing_whatif --draft <name|id> --since YYYY-MM-DD --until YYYY-MM-DD
[--channel code]``: replay a period's orders against a draft rule set (see
``fulfillment.services.whatif``) and print the comparison with the live rules."""

from __future__ import annotations

import sys
from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from channels_app.models import SalesChannel
from fulfillment.models import RoutingRuleSet
from fulfillment.routing.replay import table_text
from fulfillment.services.whatif import WhatIfReport, routing_whatif
from omnilog.core.errors import ApplicationError


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as error:
        raise CommandError(f"{text!r} is not a date (YYYY-MM-DD).") from error


class Command(BaseCommand):
    help = (
        "Replay the orders placed in a period against a draft routing rule set and compare "
        "split rate, distance, cost and on-time promise with the live rules. Read-only."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--draft", required=True, help="Draft rule set name or id.")
        parser.add_argument("--since", required=True, help="First day (YYYY-MM-DD), included.")
        parser.add_argument("--until", required=True, help="Last day (YYYY-MM-DD), included.")
        parser.add_argument("--channel", default=None, help="Only this channel (code).")

    def handle(self, *args: Any, **options: Any) -> None:
        draft = self._rule_set(options["draft"])
        channel_id = None
        if options["channel"]:
            channel_id = (
                SalesChannel.objects.filter(code=options["channel"])
                .values_list("pk", flat=True)
                .first()
            )
            if channel_id is None:
                raise CommandError(f"No channel {options['channel']!r}.")
        with tqdm(unit="order", file=sys.stderr, disable=not sys.stderr.isatty()) as bar:

            def on_progress(done: int, total: int) -> None:
                bar.total = total
                bar.update(done - bar.n)

            try:
                report = routing_whatif(
                    draft_rule_set_id=draft.pk,
                    since=_date(options["since"]),
                    until=_date(options["until"]),
                    channel_id=channel_id,
                    progress=on_progress,
                )
            except ApplicationError as error:
                raise CommandError(error.message) from error
        self.stdout.write(report_text(report, channel=options["channel"] or "all channels"))

    def _rule_set(self, name_or_id: str) -> RoutingRuleSet:
        found = RoutingRuleSet.objects.filter(name=name_or_id).first()
        if found is None and name_or_id.isdigit():
            found = RoutingRuleSet.objects.filter(pk=int(name_or_id)).first()
        if found is None:
            raise CommandError(f"No rule set {name_or_id!r}.")
        if not found.is_draft:
            raise CommandError(f"Rule set {found.name!r} is not a draft.")
        return found


def report_text(report: WhatIfReport, *, channel: str) -> str:
    lines = [
        f"What-if: draft {report.draft_rule_set} v{report.draft_version} vs live "
        f"({', '.join(report.live_rule_sets) or 'none'}), orders placed "
        f"{report.since} .. {report.until}, {channel}",
        "",
        table_text(report.rows(), ("figure", "live", "draft", "change")),
        "",
        f"orders whose plan changed: {report.changed_orders}",
    ]
    if report.live_replay_drift:
        lines.append(
            f"orders whose stored plan differs from today's live rules: {report.live_replay_drift}"
        )
    if report.unreadable:
        lines.append(f"decisions skipped (inputs unreadable): {report.unreadable}")
    if report.differences:
        lines += ["", f"changed orders (first {len(report.differences)}):"]
        rows = [
            (
                item.order_number,
                f"{item.live_outcome} {'+'.join(item.live_locations) or '-'} {item.live_cost:.2f}",
                f"{item.draft_outcome} {'+'.join(item.draft_locations) or '-'} "
                f"{item.draft_cost:.2f}",
                item.draft_rule_set,
            )
            for item in report.differences
        ]
        lines.append(table_text(rows, ("order", "live", "draft", "draft rule set")))
    return "\n".join(lines) + "\n"
