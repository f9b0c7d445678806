"""PIM product feed: create and update by SKU, replay changes nothing, row errors with row
numbers and fields, all-or-nothing, the API (202 + job resource, problem details), the worker."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from rest_framework.test import APIClient

from inventory.models import MasterDataFeedJob, Product
from inventory.services.master_data_feeds import master_data_feed_apply, master_data_feed_submit
from inventory.services.pim_feed import gtin_is_valid
from omnilog.core.errors import ValidationFailed
from omnilog.core.models import OutboxEvent
from tests.conftest import wait_until
from tests.factories import ProductFactory


def ean13(body: str) -> str:
    """``body`` (12 digits) with its GS1 check digit."""
    for digit in "0123456789":
        if gtin_is_valid(body + digit):
            return body + digit
    raise AssertionError(body)


EAN_A, EAN_B, EAN_C = ean13("400638133393"), ean13("590123412345"), ean13("376000000001")


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path


def run(
    body: str | bytes, *, file_format: str = "csv", mode: str = "apply_valid"
) -> MasterDataFeedJob:
    data = body.encode() if isinstance(body, str) else body
    job = master_data_feed_submit(
        kind="products", chunks=[data], file_format=file_format, mode=mode, actor="pim"
    )
    return master_data_feed_apply(job_id=job.id)  # the worker's part (see the worker test)


def product_events() -> list[tuple[str, dict[str, Any]]]:
    return [
        (event.topic, event.payload)
        for event in OutboxEvent.objects.filter(topic__startswith="product.").order_by("id")
    ]


FILE = (
    "sku,name,ean,category,weight_grams,length_mm,tax_class,hs_code,country_of_origin,is_active\n"
    f"NEW-1,Linen shirt,{EAN_A},apparel,350,300,standard,6205.20,pt,true\n"
    f"NEW-2,Book,{EAN_B},books,500,,reduced,490199,FR,yes\n"
    "OLD-1,Old name renamed,,apparel,900,0,standard,,,0\n"
)


@pytest.mark.django_db
def test_creates_and_updates_by_sku_then_a_replay_changes_nothing() -> None:
    old = ProductFactory(sku="OLD-1", name="Old name", ean=EAN_C, weight_grams=900, length_mm=0)
    job = run(FILE)
    assert (job.status, job.total_rows, job.processed_rows) == ("succeeded", 3, 3)
    assert (job.created_rows, job.updated_rows, job.unchanged_rows, job.error_count) == (2, 1, 0, 0)
    assert job.message == "2 created, 1 updated, 0 unchanged."
    shirt = Product.objects.get(sku="NEW-1")
    assert (shirt.name, shirt.ean, shirt.category, shirt.weight_grams, shirt.length_mm) == (
        "Linen shirt",
        EAN_A,
        "apparel",
        350,
        300,
    )
    assert (shirt.hs_code, shirt.country_of_origin, shirt.is_active) == ("620520", "PT", True)
    book = Product.objects.get(sku="NEW-2")
    assert (book.tax_class, book.length_mm, book.width_mm) == ("reduced", 0, 0)
    old.refresh_from_db()
    assert (old.name, old.ean, old.is_active, old.weight_grams) == (
        "Old name renamed",
        None,  # an empty cell clears the EAN
        False,
        900,
    )
    events = product_events()
    assert [topic for topic, _ in events] == [
        "product.created",
        "product.created",
        "product.updated",
    ]
    assert events[2][1] == {
        "product_id": old.pk,
        "sku": "OLD-1",
        "changed": ["ean", "is_active", "name"],
        "source": "pim_feed",
        "job_id": str(job.id),
        "actor": "pim",
    }
    stamps = dict(Product.objects.values_list("sku", "updated_at"))

    replay = run(FILE)
    assert (replay.status, replay.created_rows, replay.updated_rows, replay.unchanged_rows) == (
        "succeeded",
        0,
        0,
        3,
    )
    assert len(product_events()) == 3
    assert dict(Product.objects.values_list("sku", "updated_at")) == stamps


@pytest.mark.django_db
def test_bad_rows_are_reported_with_row_line_and_field_and_good_rows_still_apply() -> None:
    ProductFactory(sku="HOLDER", ean=EAN_C)
    body = (
        "sku,name,ean,weight_grams\n"
        f"GOOD-1,Good,{EAN_A},10\n"
        "BAD-1,Bad check digit,4006381333932,10\n"
        "\n"
        "BAD-2,,,-5\n"
        f"BAD-3,Taken,{EAN_C},1\n"
        "GOOD-1,Again,,1\n"
        f"BAD-4,Same EAN as row 1,{EAN_A},1\n"
        "BAD-5,Too,many,fields,here\n"
        ",No SKU,,1\n"
    )
    job = run(body)
    assert (job.status, job.total_rows, job.error_count, job.created_rows) == ("succeeded", 8, 7, 1)
    assert job.message == "1 created, 0 updated, 0 unchanged. 7 bad row(s) skipped."
    assert job.errors == [
        {
            "row": 2,
            "line": 3,
            "key": "BAD-1",
            "errors": [
                {"field": "ean", "code": "invalid_checksum", "message": "The check digit is wrong."}
            ],
        },
        {
            "row": 3,
            "line": 5,  # after a blank line
            "key": "BAD-2",
            "errors": [
                {"field": "name", "code": "required", "message": "Cannot be empty."},
                {
                    "field": "weight_grams",
                    "code": "out_of_range",
                    "message": "Must be from 0 to 2147483647.",
                },
            ],
        },
        {
            "row": 4,
            "line": 6,
            "key": "BAD-3",
            "errors": [{"field": "ean", "code": "ean_taken", "message": "Held by SKU HOLDER."}],
        },
        {
            "row": 5,
            "line": 7,
            "key": "GOOD-1",
            "errors": [{"field": "row", "code": "duplicate", "message": "Same key as row 1."}],
        },
        {
            "row": 6,
            "line": 8,
            "key": "BAD-4",
            "errors": [{"field": "ean", "code": "duplicate", "message": "Also given to row 1."}],
        },
        {
            "row": 7,
            "line": 9,
            "key": "",
            "errors": [
                {
                    "field": "row",
                    "code": "malformed_row",
                    "message": "Not a row of the header's columns.",
                }
            ],
        },
        {
            "row": 8,
            "line": 10,
            "key": "",
            "errors": [{"field": "sku", "code": "required", "message": "A row needs its SKU."}],
        },
    ]
    assert set(Product.objects.values_list("sku", flat=True)) == {"HOLDER", "GOOD-1"}


@pytest.mark.django_db
def test_all_or_nothing_rejects_the_file_and_writes_nothing() -> None:
    ProductFactory(sku="OLD-1", name="Old name")
    body = "sku,name\nOLD-1,Renamed\nNEW-1,\n"
    job = run(body, mode="all_or_nothing")
    assert (job.status, job.error_count, job.processed_rows) == ("rejected", 1, 2)
    assert job.message == "1 bad row(s); nothing was applied (all_or_nothing)."
    assert job.errors[0]["key"] == "NEW-1"
    assert list(Product.objects.values_list("sku", "name")) == [("OLD-1", "Old name")]
    assert product_events() == []


@pytest.mark.django_db
def test_json_rows_unknown_fields_and_non_objects() -> None:
    document = {
        "rows": [
            {
                "sku": "J-1",
                "name": "Json",
                "weight_grams": 120,
                "is_backorderable": True,
                "preorder_date": "2026-12-01",
            },
            {"sku": "J-2", "name": "Typo", "wieght_grams": 3},
            ["J-3"],
            {
                "sku": "J-4",
                "name": "Bad types",
                "weight_grams": "heavy",
                "is_active": "maybe",
                "preorder_date": "2026-02-30",
            },
        ]
    }
    job = run(json.dumps(document), file_format="json")
    assert (job.status, job.created_rows, job.error_count) == ("succeeded", 1, 3)
    assert [
        (error["row"], [item["field"] for item in error["errors"]]) for error in job.errors
    ] == [
        (2, ["wieght_grams"]),
        (3, ["row"]),
        (4, ["weight_grams", "is_active", "preorder_date"]),
    ]
    assert "line" not in job.errors[0]
    created = Product.objects.get(sku="J-1")
    assert (created.weight_grams, created.is_backorderable, str(created.preorder_date)) == (
        120,
        True,
        "2026-12-01",
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "file_format", "code"),
    [
        (b"", "csv", "required"),
        (b"sku,name,weigth_grams\nA,B,1\n", "csv", "unknown_column"),
        (b"sku,sku\nA,B\n", "csv", "duplicate_column"),
        (b"\xff\xfe\x00garbage", "csv", "malformed_csv"),
        (b"{not json", "json", "malformed_json"),
        (b'{"rows": 3}', "json", "malformed_json"),
    ],
)
def test_a_file_that_cannot_be_read_is_refused_at_upload(settings, body, file_format, code) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationFailed) as refused:
        master_data_feed_submit(kind="products", chunks=[body], file_format=file_format)
    assert [(error.field, error.code) for error in refused.value.field_errors] == [("file", code)]
    assert MasterDataFeedJob.objects.count() == 0
    assert list((settings.MEDIA_ROOT / "feeds" / "products").iterdir()) == []


def client_for(username: str | None) -> APIClient:
    client = APIClient()
    if username:
        token = base64.b64encode(f"{username}:secret".encode()).decode()
        client.credentials(HTTP_AUTHORIZATION=f"Basic {token}")
    return client


@pytest.fixture
def users() -> None:
    get_user_model().objects.create_user("pim", password="secret", is_staff=True)
    get_user_model().objects.create_user("clerk", password="secret")


@pytest.mark.django_db
def test_api_queues_a_job_and_reports_it(users) -> None:  # type: ignore[no-untyped-def]
    client = client_for("pim")
    response = client.generic(
        "POST", "/api/v1/feeds/products?mode=apply_valid", FILE, content_type="text/csv"
    )
    assert response.status_code == 202, response.content
    body = response.json()
    assert response["Location"] == f"http://testserver/api/v1/feeds/products/jobs/{body['id']}"
    assert (body["kind"], body["status"], body["mode"], body["format"]) == (
        "products",
        "queued",
        "apply_valid",
        "csv",
    )
    master_data_feed_apply(job_id=body["id"])
    job = client.get(f"/api/v1/feeds/products/jobs/{body['id']}").json()
    assert job["status"] == "succeeded"
    assert job["progress"] == {"total_rows": 3, "processed_rows": 3, "percent": 100}
    assert job["counts"] == {
        "total_rows": 3,
        "created_rows": 3,
        "updated_rows": 0,
        "unchanged_rows": 0,
        "error_count": 0,
        "errors_shown": 0,
    }
    # A products job is not a customers job.
    other = client.get(f"/api/v1/feeds/customers/jobs/{body['id']}")
    assert (other.status_code, other.json()["code"]) == (404, "not_found")


@pytest.mark.django_db
def test_api_refusals_are_problem_details_and_write_nothing(users, settings) -> None:  # type: ignore[no-untyped-def]
    client = client_for("pim")
    unsupported = client.generic("POST", "/api/v1/feeds/products", FILE, content_type="text/plain")
    assert (unsupported.status_code, unsupported.json()["code"]) == (415, "unsupported_media_type")
    bad_mode = client.generic(
        "POST", "/api/v1/feeds/products?mode=some", FILE, content_type="text/csv"
    )
    assert bad_mode.status_code == 422
    assert bad_mode["Content-Type"] == "application/problem+json"
    assert [(e["field"], e["code"]) for e in bad_mode.json()["errors"]] == [
        ("mode", "invalid_choice")
    ]
    unknown = client.generic(
        "POST", "/api/v1/feeds/products", "sku,colour\nA,red\n", content_type="text/csv"
    )
    assert [(e["field"], e["code"]) for e in unknown.json()["errors"]] == [
        ("file", "unknown_column")
    ]
    assert (
        client_for("clerk")
        .generic("POST", "/api/v1/feeds/products", FILE, content_type="text/csv")
        .status_code
        == 403
    )
    assert client_for(None).get(
        "/api/v1/feeds/products/jobs/00000000-0000-0000-0000-000000000000"
    ).status_code in (401, 403)
    assert MasterDataFeedJob.objects.count() == 0
    assert Product.objects.count() == 0


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_product_job_runs_on_the_real_worker(users, celery_worker) -> None:  # type: ignore[no-untyped-def]
    document = json.dumps([{"sku": "W-1", "name": "Worker made"}, {"sku": "W-2"}])
    response = client_for("pim").generic(
        "POST", "/api/v1/feeds/products?mode=apply_valid", document, content_type="application/json"
    )
    assert response.status_code == 202, response.content
    job_id = response.json()["id"]

    def finished() -> MasterDataFeedJob | None:
        job = MasterDataFeedJob.objects.get(id=job_id)
        return job if job.status not in ("queued", "running") else None

    job = wait_until(finished, timeout=30)
    assert (job.status, job.created_rows, job.error_count) == ("succeeded", 1, 1)
    assert job.errors[0]["errors"][0]["field"] == "name"
    assert list(Product.objects.values_list("sku", flat=True)) == ["W-1"]


@pytest.mark.django_db
def test_a_finished_or_live_job_is_not_run_again_and_a_stale_one_is_taken_over() -> None:
    job = master_data_feed_submit(
        kind="products", chunks=[b"sku,name\nR-1,Run\n"], file_format="csv"
    )
    MasterDataFeedJob.objects.filter(id=job.id).update(status="running", started_at=timezone.now())
    assert master_data_feed_apply(job_id=job.id).status == "running"  # another run holds it
    assert Product.objects.count() == 0
    MasterDataFeedJob.objects.filter(id=job.id).update(
        started_at=timezone.now() - timedelta(minutes=16)
    )
    taken_over = master_data_feed_apply(job_id=job.id)
    assert (taken_over.status, taken_over.created_rows) == ("succeeded", 1)
    again = master_data_feed_apply(job_id=job.id)
    assert (again.status, again.finished_at) == ("succeeded", taken_over.finished_at)
    assert Product.objects.count() == 1
