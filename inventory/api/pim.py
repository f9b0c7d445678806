"""Master-data feed API for a PIM (products) and a CRM (customers): jobs and their status.

Same doors as the stock snapshots (``inventory.api.feeds``): a staff account by session or HTTP
Basic, a CSV (``text/csv``) or JSON (``application/json``) body streamed to disk, 202 with the
job resource, then ``GET .../jobs/{id}`` for status, progress, counts and row errors.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse

from inventory.api.feeds import FeedApi, _chunks
from inventory.models import MasterDataFeedJob
from inventory.services.master_data_feeds import master_data_feed_submit
from omnilog.core.errors import NotFound

TAGS = ["feeds"]
ViewMethod = TypeVar("ViewMethod", bound=Callable[..., Any])
Job = MasterDataFeedJob


class MasterDataFeedJobOutputSerializer(serializers.ModelSerializer[MasterDataFeedJob]):
    progress = serializers.SerializerMethodField()
    counts = serializers.SerializerMethodField()

    class Meta:
        model = MasterDataFeedJob
        fields = (
            "id",
            "kind",
            "status",
            "mode",
            "format",
            "progress",
            "counts",
            "errors",
            "message",
            "created_at",
            "started_at",
            "finished_at",
        )

    def get_progress(self, job: MasterDataFeedJob) -> dict[str, int]:
        done = job.status in (Job.Status.SUCCEEDED, Job.Status.REJECTED)
        percent = (
            100 if done else (100 * job.processed_rows // job.total_rows if job.total_rows else 0)
        )
        return {
            "total_rows": job.total_rows,
            "processed_rows": job.processed_rows,
            "percent": percent,
        }

    def get_counts(self, job: MasterDataFeedJob) -> dict[str, int]:
        return {
            "total_rows": job.total_rows,
            "created_rows": job.created_rows,
            "updated_rows": job.updated_rows,
            "unchanged_rows": job.unchanged_rows,
            "error_count": job.error_count,
            "errors_shown": len(job.errors),
        }


class _SubmitApi(FeedApi):
    kind: str = ""
    parser_classes = []  # the body is streamed from ``request.stream``, never parsed

    def post(self, request: Request) -> Response:
        content_type = (request.content_type or "").split(";")[0].strip().lower()
        if content_type not in ("text/csv", "application/json"):
            raise exceptions.UnsupportedMediaType(content_type or "(none)")
        job = master_data_feed_submit(
            kind=self.kind,
            chunks=_chunks(request.stream),
            file_format="csv" if content_type == "text/csv" else "json",
            mode=request.query_params.get("mode") or Job.Mode.ALL_OR_NOTHING,
            actor=request.user.get_username(),
        )
        location = reverse(
            f"v1:master-data-feed-job-{self.kind}", kwargs={"job_id": job.id}, request=request
        )
        return Response(
            MasterDataFeedJobOutputSerializer(job).data,
            status=status.HTTP_202_ACCEPTED,
            headers={"Location": location},
        )


class _JobDetailApi(FeedApi):
    kind: str = ""

    def get(self, request: Request, job_id: str) -> Response:
        job = Job.objects.filter(id=job_id, kind=self.kind).first()
        if job is None:
            raise NotFound("No such feed job.", details={"job_id": str(job_id)})
        return Response(MasterDataFeedJobOutputSerializer(job).data)


def _submit_schema(kind: str, columns: str) -> Callable[[ViewMethod], ViewMethod]:
    return extend_schema(
        tags=TAGS,
        operation_id=f"feed_{kind}_submit",
        description=f"Queue a {kind} feed job. Columns / keys: {columns}.",
        request={"text/csv": OpenApiTypes.STR, "application/json": OpenApiTypes.OBJECT},
        parameters=[OpenApiParameter("mode", OpenApiTypes.STR, enum=Job.Mode.values)],
        responses={202: MasterDataFeedJobOutputSerializer},
    )


def _detail_schema(kind: str) -> Callable[[ViewMethod], ViewMethod]:
    return extend_schema(
        tags=TAGS,
        operation_id=f"feed_{kind}_job_detail",
        responses=MasterDataFeedJobOutputSerializer,
    )


class ProductFeedSubmitApi(_SubmitApi):
    """``POST /feeds/products``: a PIM product file (CSV with a header, or JSON rows)."""

    kind = Job.Kind.PRODUCTS

    @_submit_schema(
        "products",
        "sku (key), name, ean, category, weight_grams, length_mm, "
        "width_mm, height_mm, tax_class, hs_code, country_of_origin, is_active, "
        "is_backorderable, preorder_date",
    )
    def post(self, request: Request) -> Response:
        return super().post(request)


class ProductFeedJobDetailApi(_JobDetailApi):
    """``GET /feeds/products/jobs/{id}``."""

    kind = Job.Kind.PRODUCTS

    @_detail_schema("products")
    def get(self, request: Request, job_id: str) -> Response:
        return super().get(request, job_id)


class CustomerFeedSubmitApi(_SubmitApi):
    """``POST /feeds/customers``: a CRM customer file (CSV with a header, or JSON rows)."""

    kind = Job.Kind.CUSTOMERS

    @_submit_schema(
        "customers",
        "loyalty_id and/or email (keys), phone, first_name, last_name, "
        "company_name, vat_number, payment_terms_days, is_partial_delivery_allowed",
    )
    def post(self, request: Request) -> Response:
        return super().post(request)


class CustomerFeedJobDetailApi(_JobDetailApi):
    """``GET /feeds/customers/jobs/{id}``."""

    kind = Job.Kind.CUSTOMERS

    @_detail_schema("customers")
    def get(self, request: Request, job_id: str) -> Response:
        return super().get(request, job_id)
