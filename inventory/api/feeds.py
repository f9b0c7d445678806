"""Feed API for systems (WMS, store tills): snapshot jobs and delta messages.

Authentication: a staff user, by session (back office) or HTTP Basic (systems: one staff
account per WMS or till integration, sent over TLS). A channel API key is not accepted: a
channel sells stock, it does not report it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.permissions import IsAdminUser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from inventory.models import FeedJob
from inventory.services.feeds import (
    DeltaLine,
    DeltaReceipt,
    feed_delta_receive,
    feed_snapshot_submit,
)
from omnilog.core.authentication import STAFF_AUTHENTICATION_CLASSES
from omnilog.core.errors import NotFound
from omnilog.core.parsers import LimitedJSONParser

if TYPE_CHECKING:
    pass

TAGS = ["feeds"]
_CHUNK = 1 << 20


class FeedApi(APIView):
    authentication_classes = STAFF_AUTHENTICATION_CLASSES
    permission_classes = [IsAdminUser]


class FeedJobOutputSerializer(serializers.ModelSerializer[FeedJob]):
    source = serializers.SerializerMethodField()  # type: ignore[assignment]  # stubs: Field.source
    progress = serializers.SerializerMethodField()
    counts = serializers.SerializerMethodField()

    class Meta:
        model = FeedJob
        fields = (
            "id",
            "source",
            "status",
            "mode",
            "format",
            "as_of",
            "sequence",
            "progress",
            "counts",
            "errors",
            "message",
            "created_at",
            "started_at",
            "finished_at",
        )

    def get_source(self, job: FeedJob) -> str:
        return job.source.code

    def get_progress(self, job: FeedJob) -> dict[str, Any]:
        done = job.status in (FeedJob.Status.SUCCEEDED, FeedJob.Status.REJECTED)
        percent = (
            100 if done else (100 * job.processed_rows // job.total_rows if job.total_rows else 0)
        )
        return {
            "total_rows": job.total_rows,
            "processed_rows": job.processed_rows,
            "percent": percent,
        }

    def get_counts(self, job: FeedJob) -> dict[str, int]:
        return {
            "total_rows": job.total_rows,
            "changed_rows": job.changed_rows,
            "error_count": job.error_count,
            "errors_shown": len(job.errors),
        }


def _chunks(stream: Any) -> Iterator[bytes]:
    if stream is None:
        return
    while chunk := stream.read(_CHUNK):
        yield chunk


class FeedSnapshotSubmitApi(FeedApi):
    """``POST /feeds/{source}/snapshots``: queue a snapshot job (202 + the job resource).

    Body: ``text/csv`` (header ``sku,location,on_hand``) or ``application/json``
    (``{"as_of", "sequence"?, "rows": [{"sku", "location", "on_hand"}]}``). Parameters (query
    string): ``as_of`` (required for CSV), ``mode`` (``all_or_nothing`` | ``apply_valid``),
    ``sequence`` (the source's last sequence included in the snapshot).

    No ``multipart/form-data`` (nor any other body a cross-site HTML form can send): with HTTP
    Basic, which skips the CSRF check, such a form could submit a snapshot in a staff member's
    name. A file is uploaded through the admin's CSV import instead.
    """

    parser_classes = []  # the body is streamed from ``request.stream``, never parsed

    @extend_schema(
        tags=TAGS,
        operation_id="feed_snapshot_submit",
        request={"text/csv": OpenApiTypes.STR, "application/json": OpenApiTypes.OBJECT},
        parameters=[
            OpenApiParameter("as_of", OpenApiTypes.DATETIME),
            OpenApiParameter("mode", OpenApiTypes.STR, enum=FeedJob.Mode.values),
            OpenApiParameter("sequence", OpenApiTypes.INT),
        ],
        responses={202: FeedJobOutputSerializer},
    )
    def post(self, request: Request, source: str) -> Response:
        params: dict[str, Any] = dict(request.query_params.items())
        content_type = (request.content_type or "").split(";")[0].strip().lower()
        if content_type not in ("text/csv", "application/json"):
            raise exceptions.UnsupportedMediaType(content_type or "(none)")
        file_format = "csv" if content_type == "text/csv" else "json"
        job = feed_snapshot_submit(
            source_code=source,
            chunks=_chunks(request.stream),
            file_format=file_format,
            mode=params.get("mode") or FeedJob.Mode.ALL_OR_NOTHING,
            as_of=params.get("as_of"),
            sequence=params.get("sequence"),
        )
        location = reverse("v1:feed-job", kwargs={"job_id": job.id}, request=request)
        return Response(
            FeedJobOutputSerializer(job).data,
            status=status.HTTP_202_ACCEPTED,
            headers={"Location": location},
        )


class FeedJobDetailApi(FeedApi):
    """``GET /feeds/jobs/{id}``: status, progress, counts and the first row errors."""

    @extend_schema(tags=TAGS, operation_id="feed_job_detail", responses=FeedJobOutputSerializer)
    def get(self, request: Request, job_id: str) -> Response:
        job = FeedJob.objects.select_related("source").filter(id=job_id).first()
        if job is None:
            raise NotFound("No such feed job.", details={"job_id": str(job_id)})
        return Response(FeedJobOutputSerializer(job).data)


class FeedDeltaReceiveApi(FeedApi):
    """``POST /feeds/{source}/deltas``: one delta message; 200 when settled, 202 when held."""

    parser_classes = [LimitedJSONParser]

    class LineSerializer(serializers.Serializer[dict[str, Any]]):
        sku = serializers.CharField(max_length=32)
        location = serializers.CharField(max_length=32)
        quantity_delta = serializers.IntegerField(min_value=-1_000_000, max_value=1_000_000)
        kind = serializers.ChoiceField(
            choices=["receipt", "sale", "return", "adjustment"], default="adjustment"
        )

    class InputSerializer(serializers.Serializer[dict[str, Any]]):
        message_id = serializers.CharField(max_length=100)
        sequence = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
        occurred_at = serializers.DateTimeField()
        lines = serializers.ListField(min_length=1, max_length=1000)

        def validate_lines(self, value: list[Any]) -> list[Any]:
            lines = FeedDeltaReceiveApi.LineSerializer(data=value, many=True)
            lines.is_valid(raise_exception=True)
            return list(lines.validated_data)

    class OutputSerializer(serializers.Serializer[dict[str, Any]]):
        class Meta:
            ref_name = "FeedMessageReceipt"

        message_id = serializers.CharField()
        sequence = serializers.IntegerField()
        status = serializers.CharField()
        is_duplicate = serializers.BooleanField()
        errors = serializers.ListField(child=serializers.CharField())  # type: ignore[assignment]
        drained_sequences = serializers.ListField(child=serializers.IntegerField())

    @extend_schema(
        tags=TAGS,
        operation_id="feed_delta_receive",
        request=InputSerializer,
        responses={200: OutputSerializer, 202: OutputSerializer},
    )
    def post(self, request: Request, source: str) -> Response:
        given = self.InputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        data = given.validated_data
        receipt: DeltaReceipt = feed_delta_receive(
            source_code=source,
            message_id=data["message_id"],
            sequence=data["sequence"],
            occurred_at=data["occurred_at"],
            lines=[DeltaLine(**line) for line in data["lines"]],
        )
        message = receipt.message
        body = self.OutputSerializer(
            {
                "message_id": message.message_id,
                "sequence": message.sequence,
                "status": message.status,
                "is_duplicate": receipt.is_duplicate,
                "errors": message.errors,
                "drained_sequences": list(receipt.drained_sequences),
            }
        ).data
        held = message.status == message.Status.HELD
        return Response(body, status=status.HTTP_202_ACCEPTED if held else status.HTTP_200_OK)
