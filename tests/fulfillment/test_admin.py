"""Fulfillment admin pages: rule sets, decisions, fulfillment orders, "Why this store?"."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from fulfillment.models import FulfillmentOrder, RoutingDecision, RoutingRuleSet
from fulfillment.services.routing import order_route
from tests.fulfillment.service_support import network, place

pytestmark = pytest.mark.django_db


def test_order_page_explains_the_routing_and_the_fo_can_be_accepted(admin_client: Client) -> None:
    net = network()
    order = place(net["web"], {"SHIRT": 2, "MUG": 1})
    decision = order_route(order_id=order.pk, expected_version=1, trigger="placed")
    assert decision is not None
    fo = FulfillmentOrder.objects.get(order=order)

    page = admin_client.get(f"/admin/orders/order/{order.pk}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Why this store?" in html
    assert "warehouses, no split" in html
    assert "kind store not in rule (warehouse)" in html
    assert f"FO-{fo.pk}" in html

    for url in (
        "/admin/fulfillment/routingdecision/",
        f"/admin/fulfillment/routingdecision/{decision.pk}/change/",
        "/admin/fulfillment/fulfillmentorder/",
        f"/admin/fulfillment/fulfillmentorder/{fo.pk}/change/",
        "/admin/fulfillment/routingruleset/",
    ):
        assert admin_client.get(url).status_code == 200, url

    response = admin_client.post(
        "/admin/fulfillment/fulfillmentorder/",
        {"action": "accept_orders", "_selected_action": [fo.pk], "reason": ""},
    )
    assert response.status_code == 302
    fo.refresh_from_db()
    assert fo.status == "accepted"


def test_editing_a_rule_set_bumps_its_version(admin_client: Client) -> None:
    network()
    rule_set = RoutingRuleSet.objects.get(name="default")
    rules = list(rule_set.rules.order_by("position"))
    data = {
        "name": "default",
        "description": rule_set.description,
        "priority": 90,
        "is_active": "on",
        "conditions": "{}",
        "weights": '{"split_penalty": 6}',
        "rules-TOTAL_FORMS": str(len(rules)),
        "rules-INITIAL_FORMS": str(len(rules)),
        "rules-MIN_NUM_FORMS": "0",
        "rules-MAX_NUM_FORMS": "1000",
    }
    for index, rule in enumerate(rules):
        prefix = f"rules-{index}-"
        data |= {
            f"{prefix}id": str(rule.pk),
            f"{prefix}rule_set": str(rule_set.pk),
            f"{prefix}position": str(rule.position),
            f"{prefix}name": rule.name,
            f"{prefix}location_kinds": json.dumps(rule.location_kinds),
            f"{prefix}split": rule.split,
            f"{prefix}max_locations": str(rule.max_locations),
            f"{prefix}on_failure": rule.on_failure,
            f"{prefix}cancel_after_days": str(rule.cancel_after_days),
            f"{prefix}require_capacity": "on",
            f"{prefix}respect_safety_stock": "on",
        }
        if rule.require_ship_from_store:
            data[f"{prefix}require_ship_from_store"] = "on"
    response = admin_client.post(f"/admin/fulfillment/routingruleset/{rule_set.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    rule_set.refresh_from_db()
    assert (rule_set.version, rule_set.priority, rule_set.weights) == (2, 90, {"split_penalty": 6})

    data["weights"] = '{"nonsense": 1}'
    response = admin_client.post(f"/admin/fulfillment/routingruleset/{rule_set.pk}/change/", data)
    assert response.status_code == 200  # the form shows the error
    rule_set.refresh_from_db()
    assert rule_set.version == 2
    assert RoutingDecision.objects.count() == 0
