"""Webhooks without a receiver: signing vectors, verification, topic filters, backoff, services,
the staff API and the admin."""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from omnilog.core.errors import NotFound, ValidationFailed
from omnilog.core.models import OutboxEvent, WebhookDelivery, WebhookSubscription
from omnilog.core.outbox import outbox_emit
from omnilog.core.webhook_services import webhook_replay, webhook_subscription_create
from omnilog.core.webhooks import (
    WebhookVerificationError,
    retry_delay_seconds,
    sign,
    signed_headers,
    topic_matches,
    verify,
)
from tests.core.helpers import problem_of

SECRET_BYTES = bytes(range(32))
SECRET = "whsec_" + base64.b64encode(SECRET_BYTES).decode()


def expected_signature(key: bytes, message_id: str, timestamp: int, body: bytes) -> str:
    """The spec, written out independently: v1,base64(HMAC-SHA256(key, "id.ts.body"))."""
    content = message_id.encode() + b"." + str(timestamp).encode() + b"." + body
    return "v1," + base64.b64encode(hmac.new(key, content, hashlib.sha256).digest()).decode()


# --- signing ------------------------------------------------------------------------------


def test_sign_matches_the_standard_webhooks_published_vector() -> None:
    signature = sign(
        secret="whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        message_id="msg_p5jXN8AQM9LWM0D4loKWxJek",
        timestamp=1614265330,
        body=b'{"test": 2432232314}',
    )
    assert signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_signed_headers_match_an_independent_computation() -> None:
    body = b'{"id":"42","type":"order.placed"}'
    headers = signed_headers(secret=SECRET, message_id="42", timestamp=1_700_000_000, body=body)
    assert headers == {
        "webhook-id": "42",
        "webhook-timestamp": "1700000000",
        "webhook-signature": expected_signature(SECRET_BYTES, "42", 1_700_000_000, body),
    }


def test_verify_accepts_a_valid_message_with_any_header_case_and_several_signatures() -> None:
    body = b'{"a":1}'
    headers = signed_headers(secret=SECRET, message_id="7", timestamp=1_700_000_000, body=body)
    mixed = {
        "Webhook-Id": headers["webhook-id"],
        "WEBHOOK-TIMESTAMP": headers["webhook-timestamp"],
        "webhook-signature": "v1,AAAA " + headers["webhook-signature"],
    }
    verify(secret=SECRET, headers=mixed, body=body, now=1_700_000_100)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"body": b'{"a":2}'}, "no signature matches"),
        ({"secret": "whsec_" + base64.b64encode(b"x" * 32).decode()}, "no signature matches"),
        ({"now": 1_700_000_301}, "outside the tolerance"),
        ({"now": 1_699_999_699}, "outside the tolerance"),
        ({"drop": "webhook-signature"}, "missing"),
        ({"drop": "webhook-id"}, "missing"),
        ({"set": ("webhook-timestamp", "soon")}, "not an integer"),
        ({"set": ("webhook-id", "8")}, "no signature matches"),
        ({"set": ("webhook-signature", "v2,abc")}, "no signature matches"),
    ],
)
def test_verify_rejects_tampering_staleness_and_missing_headers(
    change: dict[str, Any], message: str
) -> None:
    body = b'{"a":1}'
    headers = signed_headers(secret=SECRET, message_id="7", timestamp=1_700_000_000, body=body)
    if "drop" in change:
        del headers[change["drop"]]
    if "set" in change:
        key, value = change["set"]
        headers[key] = value
    with pytest.raises(WebhookVerificationError, match=message):
        verify(
            secret=change.get("secret", SECRET),
            headers=headers,
            body=change.get("body", body),
            now=change.get("now", 1_700_000_000),
        )


def test_new_subscription_secrets_are_whsec_base64_of_32_random_bytes() -> None:
    first, second = WebhookSubscription(), WebhookSubscription()
    assert first.secret.startswith("whsec_")
    assert len(base64.b64decode(first.secret.removeprefix("whsec_"))) == 32
    assert first.secret != second.secret


@pytest.mark.parametrize(
    ("topic", "patterns", "expected"),
    [
        ("order.placed", [], True),
        ("order.placed", ["*"], True),
        ("order.placed", ["order.*"], True),
        ("order.line.cancelled", ["order.*"], True),
        ("orders.placed", ["order.*"], False),
        ("stock.out_of_stock", ["order.*", "stock.out_of_stock"], True),
        ("stock.low", ["order.*", "stock.out_of_stock"], False),
    ],
)
def test_topic_matches(topic: str, patterns: list[str], expected: bool) -> None:
    assert topic_matches(topic, patterns) is expected


def test_retry_delay_doubles_with_bounded_deterministic_jitter(settings: Any) -> None:
    settings.WEBHOOK_RETRY_BASE_SECONDS = 10
    settings.WEBHOOK_RETRY_MAX_SECONDS = 100
    delays = [retry_delay_seconds(subscription_id=1, failures=n) for n in range(1, 7)]
    for delay, base in zip(delays, [10, 20, 40, 80, 100, 100], strict=True):
        assert base <= delay < base * 1.2
    assert delays == [retry_delay_seconds(subscription_id=1, failures=n) for n in range(1, 7)]


# --- services -----------------------------------------------------------------------------


def emit(topic: str, key: int = 1) -> OutboxEvent:
    return outbox_emit(topic=topic, aggregate_type="order", aggregate_id=key, payload={"k": key})


@pytest.mark.django_db
def test_subscription_create_starts_after_the_newest_event_unless_told_otherwise() -> None:
    emit("order.placed")
    last = emit("order.routed")
    now_on = webhook_subscription_create(name="erp", url="https://erp.example/hooks")
    from_start = webhook_subscription_create(
        name="crm", url="http://crm.example/in", topics=["order.*", "order.*"], from_event_id=1
    )
    assert now_on.cursor == last.pk
    assert from_start.cursor == 0
    assert from_start.topics == ["order.*"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url", "topics", "field"),
    [
        ("ftp://erp.example/hooks", [], "url"),
        ("file:///etc/passwd", [], "url"),
        ("https://erp.example/hooks", ["order.*", "Order placed"], "topics.1"),
        ("https://erp.example/hooks", ["order.**"], "topics.0"),
    ],
)
def test_subscription_create_refuses_bad_urls_and_patterns(
    url: str, topics: list[str], field: str
) -> None:
    with pytest.raises(ValidationFailed) as raised:
        webhook_subscription_create(name="x", url=url, topics=topics)
    assert [error.field for error in raised.value.field_errors] == [field]
    assert not WebhookSubscription.objects.exists()


@pytest.mark.django_db
def test_replay_moves_the_cursor_back_and_revives_a_subscription_disabled_by_failures() -> None:
    subscription = webhook_subscription_create(name="erp", url="https://erp.example/hooks")
    WebhookSubscription.objects.filter(pk=subscription.pk).update(
        cursor=40,
        is_active=False,
        disabled_reason="Disabled after 15 failures",
        consecutive_failures=15,
    )
    replayed = webhook_replay(subscription_id=subscription.pk, from_event_id=7)
    replayed.refresh_from_db()
    assert (replayed.cursor, replayed.is_active, replayed.disabled_reason) == (6, True, "")
    assert (replayed.consecutive_failures, replayed.next_attempt_at, replayed.lease_token) == (
        0,
        None,
        None,
    )


@pytest.mark.django_db
def test_replay_keeps_a_subscription_switched_off_by_hand_off() -> None:
    subscription = webhook_subscription_create(
        name="erp", url="https://erp.example/hooks", is_active=False
    )
    webhook_replay(subscription_id=subscription.pk, from_event_id=1)
    subscription.refresh_from_db()
    assert (subscription.is_active, subscription.cursor) == (False, 0)


@pytest.mark.django_db
def test_replay_errors_change_nothing() -> None:
    subscription = webhook_subscription_create(name="erp", url="https://erp.example/hooks")
    with pytest.raises(ValidationFailed):
        webhook_replay(subscription_id=subscription.pk, from_event_id=0)
    with pytest.raises(NotFound):
        webhook_replay(subscription_id=subscription.pk + 1, from_event_id=1)
    subscription.refresh_from_db()
    assert subscription.cursor == 0


# --- staff API ----------------------------------------------------------------------------


SUBSCRIPTIONS = "/api/v1/webhooks/subscriptions"


@pytest.mark.django_db
def test_api_creates_a_subscription_and_shows_the_secret_only_then(admin_client: Any) -> None:
    emit("order.placed")
    response = admin_client.post(
        SUBSCRIPTIONS,
        {"name": "erp", "url": "https://erp.example/hooks", "topics": ["order.*"]},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    created = response.json()
    subscription = WebhookSubscription.objects.get()
    assert created["secret"] == subscription.secret
    assert created["cursor"] == OutboxEvent.objects.get().pk
    assert created["topics"] == ["order.*"]
    listed = admin_client.get(SUBSCRIPTIONS).json()
    assert [item["id"] for item in listed["results"]] == [subscription.pk]
    assert "secret" not in listed["results"][0]


@pytest.mark.django_db
def test_api_create_errors_are_problem_details(admin_client: Any) -> None:
    response = admin_client.post(
        SUBSCRIPTIONS,
        {"name": "erp", "url": "https://erp.example/hooks", "topics": ["Bad Topic"]},
        content_type="application/json",
    )
    document = problem_of(response, 422, "validation_failed")
    assert [error["field"] for error in document["errors"]] == ["topics.0"]
    response = admin_client.post(SUBSCRIPTIONS, {"name": "erp"}, content_type="application/json")
    document = problem_of(response, 400, "validation_failed")
    assert [error["field"] for error in document["errors"]] == ["url"]
    assert not WebhookSubscription.objects.exists()


@pytest.mark.django_db
def test_api_is_staff_only(client: Any, django_user_model: Any) -> None:
    problem_of(client.get(SUBSCRIPTIONS), 403, "not_authenticated")
    user = django_user_model.objects.create_user("clerk", password="pw-clerk-123")
    client.force_login(user)
    problem_of(client.get(SUBSCRIPTIONS), 403, "permission_denied")
    problem_of(client.get("/api/v1/webhooks/deliveries"), 403, "permission_denied")


@pytest.mark.django_db
def test_api_basic_authentication_for_staff(client: Any, django_user_model: Any) -> None:
    django_user_model.objects.create_user("ops", password="pw-ops-123", is_staff=True)
    token = base64.b64encode(b"ops:pw-ops-123").decode()
    response = client.get(SUBSCRIPTIONS, HTTP_AUTHORIZATION=f"Basic {token}")
    assert response.status_code == 200
    assert response.json()["results"] == []


@pytest.mark.django_db
def test_api_replay(admin_client: Any) -> None:
    subscription = webhook_subscription_create(name="erp", url="https://erp.example/hooks")
    WebhookSubscription.objects.filter(pk=subscription.pk).update(cursor=9)
    url = f"{SUBSCRIPTIONS}/{subscription.pk}/replay"
    response = admin_client.post(url, {"from_event_id": 3}, content_type="application/json")
    assert response.status_code == 200, response.content
    assert response.json()["cursor"] == 2
    problem_of(
        admin_client.post(url, {"from_event_id": 0}, content_type="application/json"),
        400,
        "validation_failed",
    )
    problem_of(
        admin_client.post(
            f"{SUBSCRIPTIONS}/{subscription.pk + 1}/replay",
            {"from_event_id": 1},
            content_type="application/json",
        ),
        404,
        "not_found",
    )
    subscription.refresh_from_db()
    assert subscription.cursor == 2


@pytest.mark.django_db
def test_api_lists_deliveries_filtered_and_paged_in_constant_queries(admin_client: Any) -> None:
    first = webhook_subscription_create(name="erp", url="https://erp.example/hooks")
    second = webhook_subscription_create(name="crm", url="https://crm.example/hooks")
    event = emit("order.placed")
    for index in range(5):
        for subscription in (first, second):
            WebhookDelivery.objects.create(
                subscription=subscription,
                event=event,
                message_id=str(event.pk),
                attempt=index + 1,
                is_success=index == 4,
                status_code=200 if index == 4 else 500,
                duration_ms=3,
                delivered_at=event.occurred_at,
            )
    url = f"/api/v1/webhooks/deliveries?subscription={first.pk}&page_size=2"
    with CaptureQueriesContext(connection) as queries:
        page = admin_client.get(url).json()
    assert [item["attempt"] for item in page["results"]] == [5, 4]
    assert page["next"]
    second_page = admin_client.get(page["next"]).json()
    assert [item["attempt"] for item in second_page["results"]] == [3, 2]
    assert len(queries) <= 4  # session, user, one page (+1 row to detect "next")
    failed = admin_client.get(
        f"/api/v1/webhooks/deliveries?subscription={second.pk}&is_success=false"
    ).json()
    assert [item["status_code"] for item in failed["results"]] == [500] * 4
    problem_of(
        admin_client.get("/api/v1/webhooks/deliveries?subscription=x"), 400, "validation_failed"
    )


# --- admin ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_admin_pages_render(admin_client: Any) -> None:
    subscription = webhook_subscription_create(name="erp", url="https://erp.example/hooks")
    for name in ("core_webhooksubscription_changelist", "core_webhooksubscription_add"):
        assert admin_client.get(reverse(f"admin:{name}")).status_code == 200
    change = admin_client.get(
        reverse("admin:core_webhooksubscription_change", args=[subscription.pk])
    )
    assert change.status_code == 200
    page = change.content.decode()
    assert subscription.secret not in page  # a later page view cannot leak the secret
    assert f"{subscription.secret[:6]}…{subscription.secret[-4:]}" in page
    assert admin_client.get(reverse("admin:core_webhookdelivery_changelist")).status_code == 200


@pytest.mark.django_db
def test_admin_rotation_shows_the_new_secret_once_to_its_author(admin_client: Any) -> None:
    subscription = webhook_subscription_create(name="erp", url="https://erp.example/hooks")
    old = subscription.secret
    response = admin_client.post(
        reverse("admin:core_webhooksubscription_changelist"),
        {"action": "rotate_secret", "_selected_action": [subscription.pk]},
        follow=True,
    )
    subscription.refresh_from_db()
    assert subscription.secret != old
    assert subscription.secret.startswith("whsec_")
    assert subscription.secret in response.content.decode()
    again = admin_client.get(reverse("admin:core_webhooksubscription_changelist"))
    assert subscription.secret not in again.content.decode()


@pytest.mark.django_db
def test_admin_add_starts_at_the_newest_event_and_validates_topics(admin_client: Any) -> None:
    last = emit("order.placed")
    url = reverse("admin:core_webhooksubscription_add")
    bad = admin_client.post(
        url, {"name": "erp", "url": "https://erp.example/h", "topics": '["Bad"]', "is_active": "on"}
    )
    assert bad.status_code == 200
    assert not WebhookSubscription.objects.exists()
    good = admin_client.post(
        url,
        {"name": "erp", "url": "https://erp.example/h", "topics": '["order.*"]', "is_active": "on"},
        follow=True,
    )
    assert good.redirect_chain[0][1] == 302
    subscription = WebhookSubscription.objects.get()
    assert (subscription.cursor, subscription.topics) == (last.pk, ["order.*"])
    assert subscription.secret.startswith("whsec_")
    assert subscription.secret in good.content.decode()  # shown once, to its creator


@pytest.mark.django_db
def test_admin_replay_action_asks_for_the_event_id_then_replays(admin_client: Any) -> None:
    subscription = webhook_subscription_create(name="erp", url="https://erp.example/hooks")
    WebhookSubscription.objects.filter(pk=subscription.pk).update(cursor=50)
    url = reverse("admin:core_webhooksubscription_changelist")
    selection = {"action": "replay", "_selected_action": [subscription.pk]}
    form = admin_client.post(url, selection)
    assert form.status_code == 200
    assert "Replay from event id" in form.content.decode()
    done = admin_client.post(url, {**selection, "apply": "1", "from_event_id": "12"})
    assert done.status_code == 302
    subscription.refresh_from_db()
    assert subscription.cursor == 11


@pytest.mark.django_db
def test_event_ids_past_bigint_are_field_errors(admin_client: Any) -> None:
    subscription = webhook_subscription_create(name="erp", url="https://erp.example/hooks")
    replay = admin_client.post(
        f"{SUBSCRIPTIONS}/{subscription.pk}/replay",
        {"from_event_id": 2**63},
        content_type="application/json",
    )
    created = admin_client.post(
        SUBSCRIPTIONS,
        {"name": "crm", "url": "https://crm.example/hooks", "from_event_id": 2**63},
        content_type="application/json",
    )
    for response in (replay, created):
        assert response.status_code == 400
        assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [
            ("from_event_id", "max_value")
        ]
    assert WebhookSubscription.objects.get(pk=subscription.pk).cursor == subscription.cursor
    assert WebhookSubscription.objects.count() == 1


@pytest.mark.django_db
def test_admin_replay_refuses_an_event_id_past_bigint(admin_client: Any) -> None:
    subscription = webhook_subscription_create(name="erp", url="https://erp.example/hooks")
    response = admin_client.post(
        "/admin/core/webhooksubscription/",
        {
            "action": "replay",
            "_selected_action": [subscription.pk],
            "apply": "1",
            "from_event_id": str(2**63),
        },
    )
    assert response.status_code == 200  # the form again, with its error
    assert response.context["form"].errors["from_event_id"] == [
        f"Ensure this value is less than or equal to {2**63 - 1}."
    ]
    assert WebhookSubscription.objects.get(pk=subscription.pk).cursor == subscription.cursor


@pytest.mark.django_db
def test_admin_replay_needs_the_change_permission(client: Any, django_user_model: Any) -> None:
    from django.contrib.auth.models import Permission

    subscription = webhook_subscription_create(name="erp", url="https://erp.example/hooks")
    viewer = django_user_model.objects.create_user("viewer", password="pw", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_webhooksubscription"))
    client.force_login(viewer)
    client.post(
        "/admin/core/webhooksubscription/",
        {
            "action": "replay",
            "_selected_action": [subscription.pk],
            "apply": "1",
            "from_event_id": "1",
        },
    )
    assert WebhookSubscription.objects.get(pk=subscription.pk).cursor == subscription.cursor
