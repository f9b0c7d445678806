"""Replenishment proposals: due rules -> quantities (``inventory.planning``) -> open proposals.

Run daily by beat (``replenishment_propose_task``) and by ``manage.py replenishment_propose``.
Per run, set-wise (a constant number of queries, whatever the number of rules):

1. due rules (``review_is_due``; ``force`` takes every active rule), expanded to products (a
   category rule covers the category's active products; a product rule at the same location
   wins);
2. stock levels of the destinations and sources; demand = units that left each destination by
   ``sale`` or ``transfer_out`` movements (negative on-hand deltas) over each rule's
   ``demand_days``, one grouped query; on order = purchase order lines to the destination
   (draft and sent: ordered; confirmed and partly received: confirmed - received, less what
   preorders already sold of it); in transit = the ledger's ``in_transit`` + draft
   replenishment transfers (``inventory.hooks``); supplier pack sizes and costs;
3. the pure core per (rule, product); transfers from one source share its free stock (ATP less
   draft outbound transfers), allocated by product, then destination code;
4. lines grouped per supplier + destination (purchase) and source + destination (transfer); a
   purchase below the supplier's minimum order value is topped up;
5. one transaction (an advisory lock serialises runs): the open proposals of the reviewed
   groups are replaced (deleted, then the new ones written), rules stamped ``last_reviewed_on``.
   Confirmed and discarded proposals are never touched; a partial unique constraint keeps one
   open proposal per group.

``dry_run`` computes and returns the same result and writes nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from inventory.hooks import pending_transfers
from inventory.models import (
    ReplenishmentProposal,
    ReplenishmentProposalLine,
    ReplenishmentRule,
    StockLevel,
    SupplierProduct,
)
from inventory.planning import (
    Demand,
    Method,
    OrderLine,
    Plan,
    PlanningRule,
    Position,
    minimum_order_top_up,
    replenishment_plan,
)
from inventory.selectors_replenishment import (
    RuleTarget,
    replenishment_demand,
    replenishment_on_order,
    replenishment_rules_due,
    replenishment_targets,
)

_LOCK_KEY = 0x5E9_1E4  # pg_advisory_xact_lock key of the proposal run
Kind = ReplenishmentProposal.Kind
GroupKey = tuple[str, int, int]  # (kind, supplier or source location id, destination id)


@dataclass(frozen=True)
class ProposedLine:
    rule_id: int
    product_id: int
    sku: str
    quantity: int
    plan: Plan
    position: Position
    demand: Demand
    lead_time_days: int


@dataclass(frozen=True)
class ProposalDraft:
    kind: str
    location_code: str
    location_id: int
    source_id: int
    source_code: str
    lines: tuple[ProposedLine, ...]
    note: str


@dataclass(frozen=True)
class ProposalRun:
    today: date
    is_dry_run: bool
    rules_reviewed: int
    products_evaluated: int
    drafts: tuple[ProposalDraft, ...]
    skipped: tuple[str, ...]
    replaced: int = 0
    proposal_ids: tuple[int, ...] = ()


def _free(level: StockLevel | None) -> int:
    if level is None:
        return 0
    return max(
        0,
        level.on_hand - level.reserved - level.damaged - level.quality_control - level.safety_stock,
    )


def _plan_rule(rule: ReplenishmentRule, lead: int, pack: int) -> PlanningRule:
    return PlanningRule(
        method=Method(rule.method),
        lead_time_days=lead,
        review_cycle_days=rule.review_cycle_days,
        min_quantity=rule.min_quantity,
        max_quantity=rule.max_quantity,
        reorder_point=rule.reorder_point,
        pack_size=pack,
        minimum_order_quantity=rule.minimum_order_quantity,
    )


def replenishment_compute(
    *,
    location_codes: Sequence[str] = (),
    today: date | None = None,
    force: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[ProposalRun, list[ReplenishmentRule]]:
    """Read-only half of a run: the drafts and the rules reviewed (``progress(done, total)``
    after each product evaluated)."""
    now = timezone.now()
    today = today or timezone.localdate(now)
    rules = replenishment_rules_due(location_codes, today, force)
    targets = sorted(
        replenishment_targets(rules),
        key=lambda t: (
            t.rule.supplier_id or 0,
            t.rule.source_location_id or 0,
            t.product.pk,
            t.rule.location.code,
        ),
    )
    product_ids = sorted({target.product.pk for target in targets})
    location_ids = sorted(
        {t.rule.location_id for t in targets}
        | {t.rule.source_location_id for t in targets if t.rule.source_location_id}
    )
    levels = {
        (level.product_id, level.location_id): level
        for level in StockLevel.objects.filter(
            product_id__in=product_ids, location_id__in=location_ids
        )
    }
    windows = sorted({target.rule.demand_days for target in targets})
    destination_levels = [
        levels[key].pk
        for key in {(t.product.pk, t.rule.location_id) for t in targets}
        if key in levels
    ]
    demand = replenishment_demand(destination_levels, windows, now)
    on_order = replenishment_on_order(product_ids, location_ids)
    pending = pending_transfers(product_ids)
    offers = {
        (offer.supplier_id, offer.product_id): offer
        for offer in SupplierProduct.objects.filter(
            product_id__in=product_ids,
            supplier_id__in={t.rule.supplier_id for t in targets if t.rule.supplier_id},
        )
    }
    source_free: dict[tuple[int, int], int] = {}
    groups: dict[GroupKey, list[ProposedLine]] = defaultdict(list)
    skipped: list[str] = []
    for count, target in enumerate(targets, start=1):
        line = _evaluate(
            target,
            levels,
            demand,
            on_order,
            pending.inbound,
            pending.outbound,
            offers,
            source_free,
            skipped,
        )
        if line is not None:
            rule = target.rule
            key: GroupKey = (
                (Kind.PURCHASE, rule.supplier_id, rule.location_id)
                if rule.supplier_id
                else (Kind.TRANSFER, rule.source_location_id or 0, rule.location_id)
            )
            groups[key].append(line)
        if progress is not None:
            progress(count, len(targets))
    drafts = _drafts(groups, targets, offers)
    run = ProposalRun(
        today=today,
        is_dry_run=True,
        rules_reviewed=len(rules),
        products_evaluated=len(targets),
        drafts=tuple(drafts),
        skipped=tuple(skipped),
    )
    return run, rules


def _evaluate(
    target: RuleTarget,
    levels: dict[tuple[int, int], StockLevel],
    demand: dict[tuple[int, int], int],
    on_order: dict[tuple[int, int], int],
    inbound: Any,
    outbound: Any,
    offers: dict[tuple[int, int], SupplierProduct],
    source_free: dict[tuple[int, int], int],
    skipped: list[str],
) -> ProposedLine | None:
    rule, product = target.rule, target.product
    key = (product.pk, rule.location_id)
    level = levels.get(key)
    source_available: int | None = None
    if rule.supplier is not None:
        offer = offers.get((rule.supplier.pk, product.pk))
        if offer is None:
            skipped.append(
                f"{product.sku} at {rule.location.code}: not sold by supplier {rule.supplier.code}"
            )
            return None
        lead, pack = rule.supplier.lead_time_days, offer.pack_size
    else:
        lead, pack = rule.transfer_days, rule.pack_size
        source_key = (product.pk, rule.source_location_id or 0)
        if source_key not in source_free:
            source_free[source_key] = _free(levels.get(source_key)) - outbound.get(source_key, 0)
        source_available = source_free[source_key]
    position = Position(
        on_hand=level.on_hand if level else 0,
        reserved=level.reserved if level else 0,
        damaged=level.damaged if level else 0,
        quality_control=level.quality_control if level else 0,
        in_transit=(level.in_transit if level else 0) + inbound.get(key, 0),
        on_order=on_order.get(key, 0),
        safety_stock=rule.safety_stock
        if rule.safety_stock is not None
        else (level.safety_stock if level else 0),
    )
    units = demand.get((level.pk, rule.demand_days), 0) if level else 0
    history = Demand(units=units, days=rule.demand_days)
    plan = replenishment_plan(
        rule=_plan_rule(rule, lead, pack),
        position=position,
        demand=history,
        source_available=source_available,
    )
    if source_available is not None:
        source_free[(product.pk, rule.source_location_id or 0)] -= plan.quantity
    if plan.quantity <= 0:
        return None
    return ProposedLine(
        rule.pk, product.pk, product.sku, plan.quantity, plan, position, history, lead
    )


def _drafts(
    groups: dict[GroupKey, list[ProposedLine]],
    targets: Sequence[RuleTarget],
    offers: dict[tuple[int, int], SupplierProduct],
) -> list[ProposalDraft]:
    rules = {target.rule.pk: target.rule for target in targets}
    drafts = []
    for (kind, source_id, location_id), lines in sorted(groups.items()):
        rule = rules[lines[0].rule_id]
        note = ""
        if kind == Kind.PURCHASE and rule.supplier is not None:
            top_up = minimum_order_top_up(
                [
                    OrderLine(
                        key=line.product_id,
                        quantity=line.quantity,
                        pack_size=offers[(source_id, line.product_id)].pack_size,
                        unit_cost=offers[(source_id, line.product_id)].cost,
                        daily_demand=line.demand.per_day,
                    )
                    for line in lines
                ],
                rule.supplier.minimum_order_value,
            )
            note = top_up.note
            extra = dict(top_up.extra)
            lines = [
                line
                if line.product_id not in extra
                else ProposedLine(
                    line.rule_id,
                    line.product_id,
                    line.sku,
                    line.quantity + extra[line.product_id],
                    line.plan,
                    line.position,
                    line.demand,
                    line.lead_time_days,
                )
                for line in lines
            ]
            source_code = rule.supplier.code
        else:
            source_code = rule.source_location.code if rule.source_location else ""
        drafts.append(
            ProposalDraft(
                kind=kind,
                location_code=rule.location.code,
                location_id=location_id,
                source_id=source_id,
                source_code=source_code,
                lines=tuple(sorted(lines, key=lambda line: line.product_id)),
                note=note,
            )
        )
    return drafts


def replenishment_propose(
    *,
    location_codes: Sequence[str] = (),
    today: date | None = None,
    force: bool = False,
    dry_run: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> ProposalRun:
    """Compute and (unless ``dry_run``) replace the open proposals of the reviewed groups."""
    run, rules = replenishment_compute(
        location_codes=location_codes, today=today, force=force, progress=progress
    )
    if dry_run:
        return run
    reviewed: set[GroupKey] = {
        (Kind.PURCHASE, rule.supplier_id, rule.location_id)
        if rule.supplier_id
        else (Kind.TRANSFER, rule.source_location_id or 0, rule.location_id)
        for rule in rules
    }
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])
        open_ids = [
            proposal.pk
            for proposal in ReplenishmentProposal.objects.select_for_update()
            .filter(
                status=ReplenishmentProposal.Status.OPEN,
                location_id__in={key[2] for key in reviewed},
            )
            .order_by("pk")
            if (
                proposal.kind,
                proposal.supplier_id or proposal.source_location_id or 0,
                proposal.location_id,
            )
            in reviewed
        ]
        ReplenishmentProposal.objects.filter(pk__in=open_ids).delete()
        proposals = ReplenishmentProposal.objects.bulk_create(
            ReplenishmentProposal(
                kind=draft.kind,
                location_id=draft.location_id,
                supplier_id=draft.source_id if draft.kind == Kind.PURCHASE else None,
                source_location_id=draft.source_id if draft.kind == Kind.TRANSFER else None,
                proposed_on=run.today,
                note=draft.note,
            )
            for draft in run.drafts
        )
        ReplenishmentProposalLine.objects.bulk_create(
            _line_row(proposal, line)
            for proposal, draft in zip(proposals, run.drafts, strict=True)
            for line in draft.lines
        )
        ReplenishmentRule.objects.filter(pk__in=[rule.pk for rule in rules]).update(
            last_reviewed_on=run.today
        )
    return ProposalRun(
        today=run.today,
        is_dry_run=False,
        rules_reviewed=run.rules_reviewed,
        products_evaluated=run.products_evaluated,
        drafts=run.drafts,
        skipped=run.skipped,
        replaced=len(open_ids),
        proposal_ids=tuple(proposal.pk for proposal in proposals),
    )


def _line_row(proposal: ReplenishmentProposal, line: ProposedLine) -> ReplenishmentProposalLine:
    explanation = line.plan.explanation
    if line.quantity != line.plan.quantity:
        explanation += f"; {line.quantity} with the supplier's minimum order value"
    return ReplenishmentProposalLine(
        proposal=proposal,
        product_id=line.product_id,
        rule_id=line.rule_id,
        quantity=line.quantity,
        proposed_quantity=line.quantity,
        position=line.position.projected,
        in_transit=line.position.in_transit,
        on_order=line.position.on_order,
        average_daily_demand=line.demand.per_day,
        lead_time_days=line.lead_time_days,
        explanation=explanation,
    )
