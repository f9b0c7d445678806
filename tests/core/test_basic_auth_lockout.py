"""Wrong HTTP Basic passwords are limited per user name and per address (429, nothing learnt)."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from tests.core.helpers import problem_of

SUBSCRIPTIONS = "/api/v1/webhooks/subscriptions"


def _basic(username: str, password: str, address: str = "10.0.0.1") -> dict[str, Any]:
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"HTTP_AUTHORIZATION": f"Basic {token}", "REMOTE_ADDR": address}


@pytest.fixture(autouse=True)
def _lockout(settings: Any) -> Iterator[None]:
    settings.BASIC_AUTH_MAX_FAILURES = 3
    settings.BASIC_AUTH_LOCKOUT_SECONDS = 60
    keys = ["auth-fail:user:ops", "auth-fail:user:other"] + [
        f"auth-fail:ip:10.0.0.{n}" for n in range(1, 5)
    ]
    cache.delete_many(keys)
    yield
    cache.delete_many(keys)


@pytest.mark.django_db
def test_a_name_is_locked_after_the_limit_even_with_the_right_password(
    django_user_model: Any,
) -> None:
    django_user_model.objects.create_user("ops", password="right-pw-1", is_staff=True)
    client = Client()
    for attempt in range(3):
        # Each guess from another address: the per-name count alone must lock.
        wrong = client.get(SUBSCRIPTIONS, **_basic("ops", "guess", f"10.0.0.{attempt + 1}"))
        assert problem_of(wrong, 403, "authentication_failed")

    locked = client.get(SUBSCRIPTIONS, **_basic("ops", "right-pw-1", "10.0.0.4"))

    document = problem_of(locked, 429, "rate_limited")
    assert document["detail"].startswith("Too many failed sign-ins")
    assert locked["Retry-After"] == "60"


@pytest.mark.django_db
def test_an_address_is_locked_across_names_and_a_good_sign_in_resets_only_the_name(
    django_user_model: Any,
) -> None:
    django_user_model.objects.create_user("ops", password="right-pw-1", is_staff=True)
    django_user_model.objects.create_user("other", password="right-pw-2", is_staff=True)
    client = Client()
    assert client.get(SUBSCRIPTIONS, **_basic("ops", "guess")).status_code == 403
    assert client.get(SUBSCRIPTIONS, **_basic("ops", "right-pw-1")).status_code == 200
    assert client.get(SUBSCRIPTIONS, **_basic("other", "guess")).status_code == 403
    assert client.get(SUBSCRIPTIONS, **_basic("nobody", "guess")).status_code == 403

    # Three failures from 10.0.0.1 (the good sign-in cleared only the name "ops").
    assert problem_of(
        client.get(SUBSCRIPTIONS, **_basic("other", "right-pw-2")), 429, "rate_limited"
    )
    assert client.get(SUBSCRIPTIONS, **_basic("other", "right-pw-2", "10.0.0.2")).status_code == 200
