"""Webhooks go to public addresses only (unless WEBHOOK_ALLOW_PRIVATE_URLS, for development)."""

from __future__ import annotations

import socket
from typing import Any

import pytest
from django.urls import reverse

from omnilog.core.errors import ValidationFailed
from omnilog.core.models import WebhookSubscription
from omnilog.core.webhook_services import webhook_subscription_create
from omnilog.core.webhooks import destination_refusal, http_post


@pytest.fixture(autouse=True)
def _public_only(settings: Any) -> None:
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/hook",
        "http://localhost/hook",
        "http://10.1.2.3/hook",
        "http://192.168.0.10/hook",
        "http://169.254.169.254/latest/meta-data",  # cloud metadata
        "http://[::1]/hook",
        "http://[fd00::1]/hook",
        "http://0.0.0.0/hook",
    ],
)
def test_private_literal_addresses_are_refused(url: str) -> None:
    assert destination_refusal(url).startswith("refused: ")


def test_public_literal_addresses_pass() -> None:
    assert destination_refusal("https://93.184.215.14/hook") == ""


def test_a_name_resolving_inside_is_refused_at_delivery_without_sending(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # DNS is outside Omnilog: a fake resolver says the receiver's name now points inside.
    def resolver(host: str, *args: Any, **kwargs: Any) -> list[Any]:
        assert host == "hooks.partner.example"
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.20.30.40", 0))]

    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    outcome = http_post(url="https://hooks.partner.example/h", body=b"{}", headers={}, timeout=1)
    assert outcome.status_code is None
    assert (
        outcome.error
        == "refused: hooks.partner.example resolves to a non-public address (10.20.30.40)"
    )


@pytest.mark.django_db
def test_the_service_and_the_admin_refuse_private_receivers_and_write_nothing(
    admin_client: Any,
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        webhook_subscription_create(name="x", url="http://10.0.0.5/hook")
    assert [(e.field, e.code) for e in refused.value.field_errors] == [("url", "private_address")]

    response = admin_client.post(
        reverse("admin:core_webhooksubscription_add"),
        {"name": "x", "url": "http://192.168.1.1/h", "topics": '["order.*"]', "is_active": "on"},
    )
    assert response.status_code == 200
    assert "public addresses only" in response.content.decode()
    assert not WebhookSubscription.objects.exists()
