"""Return routing (pure): rules in order, wanted-here test, defaults."""

from __future__ import annotations

from returns.disposition import LineFacts, Proposal, Rule, disposition_propose, is_wanted_here

STORE, WAREHOUSE, OTHER_WAREHOUSE = 10, 20, 30


def facts(**changes: object) -> LineFacts:
    values: dict[str, object] = {
        "reason_code": "wrong_size",
        "condition": "sellable",
        "category": "shirts",
        "receiving_location_id": STORE,
        "receiving_location_kind": "store",
        "atp_here": 10,
        "days_since_sold_here": None,
        "nearest_by_kind": (("warehouse", WAREHOUSE),),
    }
    values.update(changes)
    return LineFacts(**values)  # type: ignore[arg-type]


def test_defaults_restock_a_wanted_sellable_unit_where_it_came_back() -> None:
    assert disposition_propose(facts(atp_here=1), ()) == Proposal(
        "restock_here", STORE, None, "default: sellable and wanted here"
    )
    assert disposition_propose(facts(days_since_sold_here=3), ()).action == "restock_here"


def test_defaults_send_an_unwanted_sellable_unit_to_the_nearest_warehouse() -> None:
    assert disposition_propose(facts(days_since_sold_here=90), ()) == Proposal(
        "to_warehouse", WAREHOUSE, None, "default: sellable, not wanted here"
    )
    assert disposition_propose(facts(nearest_by_kind=()), ()).action == "restock_here"
    received_at_warehouse = facts(
        receiving_location_id=WAREHOUSE, receiving_location_kind="warehouse"
    )
    assert disposition_propose(received_at_warehouse, ()).action == "restock_here"


def test_defaults_quarantine_whatever_is_not_sellable() -> None:
    for condition in ("damaged", "defective", "incomplete"):
        assert disposition_propose(facts(condition=condition), ()) == Proposal(
            "quarantine", STORE, None, f"default: {condition}"
        )


def test_first_matching_rule_wins_and_unwanted_restock_falls_through() -> None:
    rules = (
        Rule(1, "defects to supplier", "return_to_supplier", reason_codes=frozenset({"defective"})),
        Rule(2, "restock if wanted", "restock_here", requires_wanted_here=True, wanted_atp_below=5),
        Rule(3, "everything else to Lyon", "to_warehouse", target_location_id=OTHER_WAREHOUSE),
    )
    assert disposition_propose(facts(reason_code="defective"), rules).action == "return_to_supplier"
    assert disposition_propose(facts(atp_here=4), rules) == Proposal(
        "restock_here", STORE, 2, "restock if wanted"
    )
    assert disposition_propose(facts(atp_here=9), rules) == Proposal(
        "to_warehouse", OTHER_WAREHOUSE, 3, "everything else to Lyon"
    )


def test_rule_matching_on_condition_category_and_location_kind() -> None:
    rule = Rule(
        7,
        "scrap broken mugs at stores",
        "scrap",
        conditions=frozenset({"damaged"}),
        categories=frozenset({"mugs"}),
        location_kinds=frozenset({"store"}),
    )
    assert (
        disposition_propose(facts(condition="damaged", category="mugs"), (rule,)).action == "scrap"
    )
    assert disposition_propose(facts(condition="damaged"), (rule,)).action == "quarantine"


def test_to_warehouse_without_any_warehouse_does_not_match() -> None:
    rule = Rule(4, "to a warehouse", "to_warehouse")
    assert disposition_propose(facts(nearest_by_kind=(), atp_here=0), (rule,)).rule_id is None
    here = facts(receiving_location_id=WAREHOUSE, receiving_location_kind="warehouse")
    proposal = disposition_propose(
        here, (Rule(5, "to main", "to_warehouse", target_location_id=WAREHOUSE),)
    )
    assert (proposal.action, proposal.location_id) == ("restock_here", WAREHOUSE)


def test_wanted_here() -> None:
    assert is_wanted_here(facts(atp_here=2), atp_below=3, sold_within_days=30)
    assert not is_wanted_here(facts(atp_here=3), atp_below=3, sold_within_days=30)
    assert is_wanted_here(facts(days_since_sold_here=30), atp_below=3, sold_within_days=30)
    assert not is_wanted_here(facts(days_since_sold_here=31), atp_below=3, sold_within_days=30)
