"""``seed_demo_store``: the demo users get their stores once, deterministically."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command

from fulfillment.models_store import StoreStaff
from tests.factories import LocationFactory, StoreFactory

pytestmark = pytest.mark.django_db


def test_seed_demo_store_is_idempotent() -> None:
    for code in ("st-d", "st-a", "st-c", "st-b"):
        StoreFactory(code=code)
    StoreFactory(code="st-0", is_click_and_collect=False)
    LocationFactory(code="wh-a")
    User.objects.create_user("store", password="store")
    call_command("seed_demo_store")
    call_command("seed_demo_store")
    rows = list(
        StoreStaff.objects.order_by("location__code", "user__username").values_list(
            "location__code", "user__username", "role"
        )
    )
    assert rows == [
        ("st-a", "store", "associate"),
        ("st-a", "store-manager", "manager"),
        ("st-b", "store", "associate"),
        ("st-b", "store-manager", "manager"),
        ("st-c", "store", "associate"),
        ("st-c", "store-manager", "manager"),
    ]
    assert User.objects.get(username="store").check_password("store")
    assert User.objects.get(username="store-manager").check_password("store-manager")
