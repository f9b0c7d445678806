"""CRM customer feed (upsert by loyalty id / e-mail, overwrite, events, replay, bad rows) and
the customer data on order events (the CRM sees orders from every channel)."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from channels_app.models import Customer
from inventory.models import MasterDataFeedJob
from inventory.services.master_data_feeds import master_data_feed_apply, master_data_feed_submit
from omnilog.core.models import OutboxEvent, WebhookSubscription
from omnilog.core.webhooks import topic_matches
from orders.services.transitions import order_transition
from tests.factories import CustomerFactory, SalesChannelFactory
from tests.orders.lifecycle_support import place, shop


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path


def run(body: str, *, file_format: str = "csv", mode: str = "apply_valid") -> MasterDataFeedJob:
    job = master_data_feed_submit(
        kind="customers", chunks=[body.encode()], file_format=file_format, mode=mode, actor="crm"
    )
    return master_data_feed_apply(job_id=job.id)


def customer_events() -> list[tuple[str, dict[str, Any]]]:
    return [
        (event.topic, event.payload)
        for event in OutboxEvent.objects.filter(topic__startswith="customer.").order_by("id")
    ]


FILE = (
    "loyalty_id,email,first_name,last_name,phone,payment_terms_days,is_partial_delivery_allowed\n"
    "L-1,Camille@Example.com,Camille,Martin,+33 6 12 34 56 78,,true\n"
    "L-2,new@example.com,Noa,Petit,,30,no\n"
    ",known@example.com,Known,Renamed,,,yes\n"
)


@pytest.mark.django_db
def test_upserts_by_loyalty_id_then_email_and_a_replay_changes_nothing() -> None:
    channel = SalesChannelFactory()
    by_loyalty = CustomerFactory(
        loyalty_id="L-1", email="old@example.com", first_name="Cam", first_channel=channel
    )
    by_email = CustomerFactory(email="known@example.com", first_name="Known", last_name="Old")
    job = run(FILE)
    assert (job.status, job.created_rows, job.updated_rows, job.error_count) == (
        "succeeded",
        1,
        2,
        0,
    )
    by_loyalty.refresh_from_db()
    # The CRM is the master: its values overwrite ours (unlike a channel's order).
    assert (by_loyalty.email, by_loyalty.first_name, by_loyalty.phone) == (
        "camille@example.com",
        "Camille",
        "+33612345678",
    )
    assert by_loyalty.first_channel == channel  # unchanged: the CRM is no channel
    created = Customer.objects.get(loyalty_id="L-2")
    assert (created.email, created.payment_terms_days, created.is_partial_delivery_allowed) == (
        "new@example.com",
        30,
        False,
    )
    assert created.first_channel is None
    by_email.refresh_from_db()
    assert (by_email.last_name, by_email.loyalty_id) == ("Renamed", "")
    events = customer_events()
    assert [topic for topic, _ in events] == [
        "customer.created",
        "customer.updated",
        "customer.updated",
    ]
    assert events[1][1] == {
        "customer_id": by_loyalty.pk,
        "email": "camille@example.com",
        "loyalty_id": "L-1",
        "changed": ["email", "first_name", "last_name", "phone"],
        "source": "crm_feed",
        "job_id": str(job.id),
        "actor": "crm",
    }
    replay = run(FILE)
    assert (replay.created_rows, replay.updated_rows, replay.unchanged_rows) == (0, 0, 3)
    assert len(customer_events()) == 3


@pytest.mark.django_db
def test_bad_rows_name_their_row_and_field_and_change_nothing() -> None:
    first = CustomerFactory(loyalty_id="L-1", email="one@example.com", last_name="One")
    second = CustomerFactory(loyalty_id="L-2", email="two@example.com")
    body = (
        "loyalty_id,email,last_name,payment_terms_days\n"
        "L-1,two@example.com,Conflict,\n"  # loyalty of one, e-mail of the other
        "L-9,one@example.com,Other loyalty,\n"  # e-mail of a customer with another loyalty id
        ",not-an-email,Bad,\n"
        ",,No key,\n"
        "L-3,three@example.com,Fine,400\n"
        "L-4,FOUR@example.com,Four,\n"
        "L-5,four@example.com,Same e-mail,\n"
    )
    job = run(body, mode="all_or_nothing")
    assert (job.status, job.error_count) == ("rejected", 6)
    assert [
        (error["row"], error["line"], [(e["field"], e["code"]) for e in error["errors"]])
        for error in job.errors
    ] == [
        (1, 2, [("email", "identity_conflict")]),
        (2, 3, [("loyalty_id", "identity_conflict")]),
        (3, 4, [("email", "invalid")]),
        (4, 5, [("email", "required")]),
        (5, 6, [("payment_terms_days", "out_of_range")]),
        (7, 8, [("email", "duplicate")]),
    ]
    assert Customer.objects.count() == 2
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.last_name, second.last_name) == ("One", second.last_name)
    assert customer_events() == []


def client_for(username: str) -> APIClient:
    client = APIClient()
    token = base64.b64encode(f"{username}:secret".encode()).decode()
    client.credentials(HTTP_AUTHORIZATION=f"Basic {token}")
    return client


@pytest.mark.django_db
def test_api_customer_job(settings) -> None:  # type: ignore[no-untyped-def]
    get_user_model().objects.create_user("crm", password="secret", is_staff=True)
    client = client_for("crm")
    document = json.dumps({"rows": [{"email": "json@example.com", "first_name": "Jay"}]})
    response = client.generic(
        "POST", "/api/v1/feeds/customers", document, content_type="application/json"
    )
    assert response.status_code == 202, response.content
    job_id = response.json()["id"]
    assert response["Location"].endswith(f"/api/v1/feeds/customers/jobs/{job_id}")
    master_data_feed_apply(job_id=job_id)
    body = client.get(f"/api/v1/feeds/customers/jobs/{job_id}").json()
    assert (body["kind"], body["status"], body["counts"]["created_rows"]) == (
        "customers",
        "succeeded",
        1,
    )
    refused = client.generic(
        "POST", "/api/v1/feeds/customers", "email,shoe_size\na@b.c,44\n", content_type="text/csv"
    )
    assert refused.status_code == 422
    assert [(e["field"], e["code"]) for e in refused.json()["errors"]] == [
        ("file", "unknown_column")
    ]
    assert MasterDataFeedJob.objects.count() == 1


@pytest.mark.django_db
def test_order_events_carry_customer_and_channel_for_the_crm() -> None:
    net = shop()
    order = place(net["web"], {"SHIRT": 1}, email="camille@example.com")
    placed = OutboxEvent.objects.get(topic="order.placed")
    assert {
        key: placed.payload[key] for key in ("customer_id", "customer_email", "channel_id")
    } == {
        "customer_id": order.customer_id,
        "customer_email": "camille@example.com",
        "channel_id": net["web"].pk,
    }
    order_transition(order=order, to_status="on_hold", actor="test")
    held = OutboxEvent.objects.get(topic="order.on_hold")
    assert (held.payload["customer_id"], held.payload["customer_email"]) == (
        order.customer_id,
        "camille@example.com",
    )
    # A CRM subscribes to exactly these topics.
    crm = WebhookSubscription(
        topics=["order.placed", "order.collected", "order.delivered", "customer.*"]
    )
    assert [
        topic_matches(topic, crm.topics)
        for topic in ("order.placed", "order.delivered", "customer.updated", "order.on_hold")
    ] == [True, True, True, False]
