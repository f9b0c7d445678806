"""Channel API key authentication: who may call, and what each key sees."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from channels_app.api import auth
from channels_app.models import ChannelAPIKey
from tests.core.helpers import problem_of
from tests.factories import SalesChannelFactory, channel_api_key

pytestmark = pytest.mark.django_db

URL = "/api/v1/availability?sku=ANY"
CHALLENGE = 'Api-Key realm="omnilog", header="X-Api-Key"'


def get(key: str | None = None):  # type: ignore[no-untyped-def]
    client = APIClient()
    if key is not None:
        client.credentials(HTTP_X_API_KEY=key)
    return client.get(URL)


def test_a_valid_key_authenticates_its_channel() -> None:
    channel = SalesChannelFactory(code="web")
    response = get(channel_api_key(channel))
    assert response.status_code == 200
    assert response.json() == {"channel": "web", "results": [], "unknown_skus": ["ANY"]}


def test_no_key_is_401_with_a_challenge() -> None:
    response = get()
    document = problem_of(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"] == CHALLENGE
    assert document["detail"] == "Authentication credentials were not provided."


@pytest.mark.parametrize(
    "make_key",
    [
        pytest.param(lambda channel: "nonsense", id="garbage"),
        pytest.param(lambda channel: channel_api_key(channel)[:-1] + "x", id="wrong-secret"),
        pytest.param(lambda channel: channel_api_key(channel, revoked=True), id="revoked"),
        pytest.param(
            lambda channel: channel_api_key(
                channel, expiry_date=timezone.now() - timedelta(minutes=1)
            ),
            id="expired",
        ),
    ],
)
def test_bad_keys_are_401(make_key) -> None:  # type: ignore[no-untyped-def]
    channel = SalesChannelFactory(code="web")
    response = get(make_key(channel))
    document = problem_of(response, 401, "authentication_failed")
    assert response["WWW-Authenticate"] == CHALLENGE
    assert document["detail"] == "The API key is not valid."


def test_a_key_revoked_after_use_stops_working_once_the_cache_expires(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    channel = SalesChannelFactory(code="web")
    key = channel_api_key(channel)
    assert get(key).status_code == 200
    ChannelAPIKey.objects.filter(channel=channel).update(revoked=True)
    # Documented: each process trusts a usable key for API_KEY_CACHE_SECONDS (5 s).
    assert get(key).status_code == 200
    later = time.monotonic() + auth.DEFAULT_CACHE_SECONDS
    monkeypatch.setattr(time, "monotonic", lambda: later)  # the clock the key cache reads
    problem_of(get(key), 401, "authentication_failed")


def test_without_the_cache_a_revoked_key_stops_working_at_once(settings) -> None:  # type: ignore[no-untyped-def]
    settings.API_KEY_CACHE_SECONDS = 0
    channel = SalesChannelFactory(code="web")
    key = channel_api_key(channel)
    assert get(key).status_code == 200
    ChannelAPIKey.objects.filter(channel=channel).update(revoked=True)
    problem_of(get(key), 401, "authentication_failed")


def test_a_cached_key_still_needs_its_secret() -> None:
    channel = SalesChannelFactory(code="web")
    key = channel_api_key(channel)
    assert get(key).status_code == 200
    problem_of(get(key[:-1] + ("x" if key[-1] != "x" else "y")), 401, "authentication_failed")


def test_an_inactive_channel_key_is_refused() -> None:
    channel = SalesChannelFactory(code="web", is_active=False)
    document = problem_of(get(channel_api_key(channel)), 401, "authentication_failed")
    assert document["detail"] == "The API key's channel is not active."


def test_a_staff_session_is_not_a_channel() -> None:
    from django.contrib.auth.models import User

    client = APIClient()
    client.force_login(User.objects.create_superuser("boss", "boss@example.com", "pw"))
    problem_of(client.get(URL), 401, "not_authenticated")
