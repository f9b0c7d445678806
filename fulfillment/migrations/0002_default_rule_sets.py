"""Default routing rule sets (``default`` and ``click-and-collect``); editable in the admin.

A data migration rather than a demo seed: every installation needs rule sets to route at all,
and ``inventory``'s demo seed may not import ``fulfillment`` (layers).
"""

from django.db import migrations

RULE_SETS = [
    {
        "name": "click-and-collect",
        "description": "Click-and-collect: the pickup store first, else ship to it.",
        "priority": 10,
        "conditions": {"delivery_modes": ["click_and_collect"]},
        "rules": [
            {
                "name": "pickup store",
                "location_kinds": ["store"],
                "split": "none",
                "require_capacity": False,
                "on_failure": "next_rule",
            },
            {
                "name": "ship to store from warehouses",
                "location_kinds": ["warehouse"],
                "split": "free",
                "on_failure": "backorder",
            },
        ],
    },
    {
        "name": "default",
        "description": "Warehouses first, then ship-from-store, then anything with stock.",
        "priority": 100,
        "conditions": {},
        "rules": [
            {
                "name": "warehouses, no split",
                "location_kinds": ["warehouse"],
                "split": "none",
                "on_failure": "next_rule",
            },
            {
                "name": "warehouses and ship-from-store, at most 2 locations",
                "location_kinds": ["warehouse", "store"],
                "require_ship_from_store": True,
                "split": "max_locations",
                "max_locations": 2,
                "on_failure": "next_rule",
            },
            {
                "name": "any location, free split",
                "location_kinds": [],
                "split": "free",
                "on_failure": "backorder",
            },
        ],
    },
]


def create(apps, schema_editor):
    RuleSet = apps.get_model("fulfillment", "RoutingRuleSet")
    Rule = apps.get_model("fulfillment", "RoutingRule")
    for data in RULE_SETS:
        rules = data["rules"]
        fields = {key: value for key, value in data.items() if key != "rules"}
        rule_set, created = RuleSet.objects.get_or_create(name=fields.pop("name"), defaults=fields)
        if not created:
            continue
        for position, rule in enumerate(rules, start=1):
            Rule.objects.create(rule_set=rule_set, position=position, **rule)


def remove(apps, schema_editor):
    apps.get_model("fulfillment", "RoutingRuleSet").objects.filter(
        name__in=[data["name"] for data in RULE_SETS], version=1
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("fulfillment", "0001_initial")]

    operations = [migrations.RunPython(create, remove)]
