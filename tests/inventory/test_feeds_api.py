"""Feed API: 202 + job status, deltas, problem details; one run through the real worker."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from rest_framework.test import APIClient

from inventory.models import FeedJob, FeedSource
from inventory.services.feeds import feed_snapshot_apply, feed_snapshot_submit
from tests.conftest import wait_until
from tests.factories import LocationFactory, ProductFactory
from tests.inventory.helpers import assert_ledger_consistent, level

CSV = "sku,location,on_hand\nC-0,wh-a,7\nC-1,wh-a,x\n"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def wms():  # type: ignore[no-untyped-def]
    warehouse = LocationFactory(code="wh-a")
    products = [ProductFactory(sku=f"C-{n}") for n in range(2)]
    FeedSource.objects.create(code="wms-a", name="WMS A", kind=FeedSource.Kind.WMS)
    get_user_model().objects.create_user("wms", password="secret", is_staff=True)
    get_user_model().objects.create_user("clerk", password="secret")
    return warehouse, products


def client_for(username: str | None) -> APIClient:
    client = APIClient()
    if username:
        token = base64.b64encode(f"{username}:secret".encode()).decode()
        client.credentials(HTTP_AUTHORIZATION=f"Basic {token}")
    return client


@pytest.mark.django_db
def test_csv_snapshot_is_accepted_then_reported_with_row_errors(wms) -> None:  # type: ignore[no-untyped-def]
    warehouse, (c0, _) = wms
    as_of = timezone.now().isoformat()
    response = client_for("wms").generic(
        "POST",
        f"/api/v1/feeds/wms-a/snapshots?as_of={as_of.replace('+', '%2B')}&mode=apply_valid",
        CSV,
        content_type="text/csv",
    )
    assert response.status_code == 202, response.content
    body = response.json()
    assert response["Location"] == f"http://testserver/api/v1/feeds/jobs/{body['id']}"
    assert (body["status"], body["mode"], body["format"], body["source"]) == (
        "queued",
        "apply_valid",
        "csv",
        "wms-a",
    )
    feed_snapshot_apply(job_id=body["id"])  # the worker's part (see the end-to-end test)
    job = client_for("wms").get(f"/api/v1/feeds/jobs/{body['id']}").json()
    assert job["status"] == "succeeded"
    assert job["progress"] == {"total_rows": 2, "processed_rows": 2, "percent": 100}
    assert job["counts"] == {
        "total_rows": 2,
        "changed_rows": 1,
        "error_count": 1,
        "errors_shown": 1,
    }
    assert job["errors"] == [
        {
            "row": 2,
            "line": 3,
            "code": "invalid_quantity",
            "message": "The on-hand quantity is not a whole number.",
            "sku": "C-1",
            "location": "wh-a",
            "on_hand": "x",
        }
    ]
    assert level(c0, warehouse).on_hand == 7


@pytest.mark.django_db
def test_json_upload_carries_as_of_and_sequence(wms) -> None:  # type: ignore[no-untyped-def]
    client = client_for("wms")
    document = {"as_of": timezone.now().isoformat(), "sequence": 4, "rows": []}
    response = client.post("/api/v1/feeds/wms-a/snapshots", document, format="json")
    assert response.status_code == 202, response.content
    assert (response.json()["format"], response.json()["sequence"]) == ("json", 4)
    assert FeedJob.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    "content_type", ["multipart/form-data", "application/x-www-form-urlencoded", "text/plain"]
)
def test_a_body_an_html_form_can_send_is_refused_even_with_basic_credentials(  # type: ignore[no-untyped-def]
    wms, settings, content_type
) -> None:
    """A cross-site form can POST these types without a preflight; Basic skips CSRF."""
    client = client_for("wms")
    as_of = "2026-01-01T00:00:00Z"
    if content_type == "multipart/form-data":
        upload = SimpleUploadedFile("stock.csv", b"sku,location,on_hand\nC-0,wh-a,1\n")
        response = client.post(
            "/api/v1/feeds/wms-a/snapshots", {"file": upload, "as_of": as_of}, format="multipart"
        )
    else:
        response = client.generic(
            "POST", f"/api/v1/feeds/wms-a/snapshots?as_of={as_of}", CSV, content_type
        )
    assert (response.status_code, response.json()["code"]) == (415, "unsupported_media_type")
    assert response["Content-Type"] == "application/problem+json"
    assert FeedJob.objects.count() == 0
    assert not (settings.MEDIA_ROOT / "feeds").exists()


def _snapshot(query: str) -> Any:
    return client_for("wms").generic(
        "POST", f"/api/v1/feeds/wms-a/snapshots?{query}", CSV, content_type="text/csv"
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("as_of=2026-02-30T00:00:00Z", "as_of"),  # well formed, not a date
        ("as_of=2026-01-01T00:00:00Z&sequence=abc", "sequence"),
        ("as_of=2026-01-01T00:00:00Z&sequence=1.5", "sequence"),
        (f"as_of=2026-01-01T00:00:00Z&sequence={2**63}", "sequence"),
        ("as_of=2026-01-01T00:00:00Z&sequence=-1", "sequence"),
    ],
)
def test_bad_snapshot_parameters_are_field_errors_and_leave_no_file(  # type: ignore[no-untyped-def]
    wms, settings, query, field
) -> None:
    response = _snapshot(query)
    assert (response.status_code, response.json()["code"]) == (422, "validation_failed")
    assert [error["field"] for error in response.json()["errors"]] == [field]
    assert FeedJob.objects.count() == 0
    assert list((settings.MEDIA_ROOT / "feeds" / "wms-a").iterdir()) == []


@pytest.mark.django_db
@pytest.mark.parametrize("sequence", [1.5, True, [1], 2**63])
def test_a_json_snapshot_sequence_must_be_a_bigint(wms, sequence) -> None:  # type: ignore[no-untyped-def]
    document = {"as_of": "2026-01-01T00:00:00Z", "sequence": sequence, "rows": []}
    response = client_for("wms").post("/api/v1/feeds/wms-a/snapshots", document, format="json")
    assert response.status_code == 422, response.content
    assert [error["field"] for error in response.json()["errors"]] == ["sequence"]
    assert FeedJob.objects.count() == 0


@pytest.mark.django_db
def test_a_failed_job_insert_removes_the_stored_file(wms, settings, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from django.db import IntegrityError

    def refuse(**kwargs: Any) -> None:
        raise IntegrityError("refused")

    monkeypatch.setattr(FeedJob.objects, "create", refuse)
    with pytest.raises(IntegrityError):
        feed_snapshot_submit(
            source_code="wms-a",
            chunks=[CSV.encode()],
            file_format="csv",
            as_of="2026-01-01T00:00:00Z",
        )
    assert list((settings.MEDIA_ROOT / "feeds" / "wms-a").iterdir()) == []


@pytest.mark.django_db
def test_a_delta_sequence_beyond_bigint_is_a_field_error(wms) -> None:  # type: ignore[no-untyped-def]
    message = {
        "message_id": "d1",
        "sequence": 2**63,
        "occurred_at": timezone.now().isoformat(),
        "lines": [{"sku": "C-0", "location": "wh-a", "quantity_delta": 1}],
    }
    response = client_for("wms").post("/api/v1/feeds/wms-a/deltas", message, format="json")
    assert (response.status_code, response.json()["code"]) == (400, "validation_failed")
    assert response.json()["errors"] == [
        {
            "field": "sequence",
            "code": "max_value",
            "message": f"Ensure this value is less than or equal to {2**63 - 1}.",
        }
    ]


@pytest.mark.django_db
def test_bad_snapshot_requests_are_problem_details(wms) -> None:  # type: ignore[no-untyped-def]
    client = client_for("wms")
    missing = client.generic("POST", "/api/v1/feeds/wms-a/snapshots", CSV, content_type="text/csv")
    assert missing.status_code == 422
    assert missing["Content-Type"] == "application/problem+json"
    assert missing.json()["errors"] == [
        {"field": "as_of", "code": "required", "message": "The snapshot's as-of time is required."}
    ]
    unknown = client.generic(
        "POST", "/api/v1/feeds/nope/snapshots?as_of=2026-01-01T00:00:00Z", CSV, "text/csv"
    )
    assert (unknown.status_code, unknown.json()["code"]) == (404, "not_found")
    wrong_type = client.generic("POST", "/api/v1/feeds/wms-a/snapshots", "x", "text/plain")
    assert (wrong_type.status_code, wrong_type.json()["code"]) == (415, "unsupported_media_type")
    no_job = client.get("/api/v1/feeds/jobs/00000000-0000-0000-0000-000000000000")
    assert (no_job.status_code, no_job.json()["code"]) == (404, "not_found")
    anonymous = client_for(None).get("/api/v1/feeds/jobs/00000000-0000-0000-0000-000000000000")
    assert (anonymous.status_code, anonymous.json()["code"]) == (403, "not_authenticated")
    assert "WWW-Authenticate" not in anonymous
    clerk = client_for("clerk").post("/api/v1/feeds/wms-a/deltas", {}, format="json")
    assert (clerk.status_code, clerk.json()["code"]) == (403, "permission_denied")
    assert FeedJob.objects.count() == 0


@pytest.mark.django_db
def test_delta_endpoint_applies_holds_and_deduplicates(wms) -> None:  # type: ignore[no-untyped-def]
    warehouse, (c0, _) = wms
    client = client_for("wms")

    def post(sequence: int, quantity: int, kind: str) -> tuple[int, dict]:  # type: ignore[type-arg]
        message = {
            "message_id": f"d{sequence}",
            "sequence": sequence,
            "occurred_at": timezone.now().isoformat(),
            "lines": [{"sku": "C-0", "location": "wh-a", "quantity_delta": quantity, "kind": kind}],
        }
        response = client.post("/api/v1/feeds/wms-a/deltas", message, format="json")
        return response.status_code, response.json()

    status, body = post(2, -1, "sale")
    assert (status, body["status"]) == (202, "held")
    status, body = post(1, 12, "receipt")
    assert (status, body["status"], body["drained_sequences"]) == (200, "applied", [1, 2])
    status, body = post(1, 12, "receipt")
    assert (status, body["status"], body["is_duplicate"]) == (200, "applied", True)
    assert level(c0, warehouse).on_hand == 11
    status, body = post(3, 5, "sale")
    assert (status, body["code"]) == (422, "validation_failed")
    bad = client.post("/api/v1/feeds/wms-a/deltas", {"lines": [{"sku": 1}]}, format="json")
    fields = {error["field"] for error in bad.json()["errors"]}
    assert fields == {
        "message_id",
        "sequence",
        "occurred_at",
        "lines.0.location",
        "lines.0.quantity_delta",
    }
    assert_ledger_consistent()


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_snapshot_job_runs_on_the_real_worker(wms, celery_worker) -> None:  # type: ignore[no-untyped-def]
    warehouse, (c0, c1) = wms
    body = json.dumps(
        {
            "as_of": timezone.now().isoformat(),
            "rows": [
                {"sku": "C-0", "location": "wh-a", "on_hand": 3},
                {"sku": "C-1", "location": "wh-a", "on_hand": 4},
            ],
        }
    )
    response = client_for("wms").generic(
        "POST", "/api/v1/feeds/wms-a/snapshots", body, content_type="application/json"
    )
    assert response.status_code == 202, response.content
    job_id = response.json()["id"]

    def finished() -> FeedJob | None:
        job = FeedJob.objects.get(id=job_id)
        return job if job.status not in ("queued", "running") else None

    job = wait_until(finished, timeout=30)
    assert (job.status, job.changed_rows, job.error_count) == ("succeeded", 2, 0)
    assert (level(c0, warehouse).on_hand, level(c1, warehouse).on_hand) == (3, 4)
    assert_ledger_consistent()
