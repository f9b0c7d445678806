""" "Why this store?": a routing decision rendered as HTML for the admin (order and decision
pages). Reads only the stored decision's JSON: no query per candidate."""

from __future__ import annotations

from typing import Any

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from fulfillment.models import RoutingDecision


def _components(components: dict[str, Any]) -> str:
    return ", ".join(f"{name} {float(value):.2f}" for name, value in sorted(components.items()))


def decision_html(decision: RoutingDecision) -> SafeString:
    """Header (trigger, outcome, rule, cost), chosen plan, shortfalls and the candidates table
    with each location's failed filters and cost components."""
    codes = {item.get("location_id"): item.get("code", "") for item in decision.candidates}
    stock = {item.get("location_id"): item.get("stock", {}) for item in decision.candidates}
    plan = format_html_join(
        "",
        "<li>line {} (product {}): {} x at <b>{}</b></li>",
        (
            (
                item.get("line_id"),
                item.get("product_id"),
                item.get("quantity"),
                codes.get(item.get("location_id"), item.get("location_id")),
            )
            for item in decision.assignments
        ),
    )
    short = format_html_join(
        "",
        "<li>line {} (product {}): {} unit(s) short</li>",
        (
            (item.get("line_id"), item.get("product_id"), item.get("quantity"))
            for item in decision.shortfalls
        ),
    )
    rows = format_html_join(
        "",
        "<tr><td>{}{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
        (
            (
                verdict.get("code", ""),
                " \u2714" if verdict.get("is_chosen") else "",
                ", ".join(
                    f"{product}: {units}"
                    for product, units in sorted(stock.get(verdict.get("location_id"), {}).items())
                ),
                "; ".join(verdict.get("failed_filters") or []) or "passed",
                _components(verdict.get("cost_components") or {}),
            )
            for verdict in decision.verdicts
        ),
    )
    return format_html(
        "<div><p><b>#{} {}</b> ({}, order v{}, {}): rule set <b>{}</b> v{}, rule <b>{}</b>; "
        "cost {} [{}]; {} plan(s) evaluated by {} in {} ms{}</p>"
        "<ul>{}{}</ul>"
        "<table><thead><tr><th>Location</th><th>Stock offered</th><th>Filters</th>"
        "<th>Cost components</th></tr></thead><tbody>{}</tbody></table></div>",
        decision.pk,
        decision.get_outcome_display(),
        decision.get_trigger_display(),
        decision.order_version,
        decision.created_at.strftime("%Y-%m-%d %H:%M:%S"),
        decision.rule_set or "-",
        decision.rule_set_version,
        decision.rule or "-",
        f"{decision.total_cost:.2f}",
        _components(decision.cost_components or {}),
        decision.plans_evaluated,
        decision.search or "-",
        f"{decision.duration_ms:.1f}",
        f"; {len(decision.lost_races)} plan(s) lost a race first" if decision.lost_races else "",
        plan,
        short,
        rows,
    )


def decisions_html(decisions: list[RoutingDecision]) -> SafeString:
    if not decisions:
        return format_html("<p>{}</p>", "Not routed yet.")
    return format_html_join("<hr>", "{}", ((decision_html(decision),) for decision in decisions))
