"""Lifecycle actions on a return (``POST /returns/{number}/<action>``) and the payment system's
refund confirmation (``POST /refunds/{reference}/confirmation``).

A channel's key may cancel its own returns and report the parcel's way back; everything else
(approve, refuse, receive, inspect, disposition, refund, close, confirmation) is staff's (or a
system's Basic login with the ``returns.change_returnrequest`` permission). Each view answers
with the return as ``GET /returns/{number}`` renders it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from returns.api.serializers import (
    ApproveInputSerializer,
    DispositionInputSerializer,
    InspectInputSerializer,
    ParcelInputSerializer,
    ReasonInputSerializer,
    ReceiveInputSerializer,
    RefundConfirmationInputSerializer,
    RefundOutput,
    ReturnOutput,
)
from returns.api.views import (
    ERRORS,
    ReturnsApi,
    StaffReturnsApi,
    location_id_of,
    render_return,
    return_of,
)
from returns.models import Refund
from returns.services.inspection import (
    DispositionChoice,
    InspectionInput,
    return_disposition,
    return_inspect,
)
from returns.services.receiving import ReceivedInput, return_receive
from returns.services.requests import (
    return_approve,
    return_cancel,
    return_parcel_update,
    return_refuse,
)
from returns.services.settlement import (
    refund_confirmation_record,
    return_close,
    return_refund_request,
)

F = TypeVar("F", bound=Callable[..., Any])


def _valid(serializer_class: type[serializers.Serializer[Any]], request: Request) -> dict[str, Any]:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _schema(operation: str, request: Any) -> Callable[[F], F]:
    return extend_schema(
        operation_id=f"return_{operation}",
        tags=["returns"],
        request=request,
        responses={200: ReturnOutput, **ERRORS},
    )


class ReturnApproveApi(StaffReturnsApi):
    @_schema("approve", ApproveInputSerializer)
    def post(self, request: Request, number: str) -> Response:
        data = _valid(ApproveInputSerializer, request)
        rma = return_of(self, request, number)
        quantities = (
            {line["id"]: line["quantity"] for line in data["lines"]} if "lines" in data else None
        )
        return_approve(return_id=rma.pk, actor=self.actor(request), quantities=quantities)
        return render_return(self, request, number)


class ReturnRefuseApi(StaffReturnsApi):
    @_schema("refuse", ReasonInputSerializer)
    def post(self, request: Request, number: str) -> Response:
        data = _valid(ReasonInputSerializer, request)
        rma = return_of(self, request, number)
        return_refuse(return_id=rma.pk, reason=data["reason"], actor=self.actor(request))
        return render_return(self, request, number)


class ReturnCancelApi(ReturnsApi):
    @_schema("cancel", ReasonInputSerializer)
    def post(self, request: Request, number: str) -> Response:
        data = _valid(ReasonInputSerializer, request)
        rma = return_of(self, request, number)
        return_cancel(return_id=rma.pk, actor=self.actor(request), reason=data["reason"])
        return render_return(self, request, number)


class ReturnParcelApi(ReturnsApi):
    """The parcel was dropped off at the relay point, or is in transit."""

    @_schema("parcel", ParcelInputSerializer)
    def post(self, request: Request, number: str) -> Response:
        data = _valid(ParcelInputSerializer, request)
        rma = return_of(self, request, number)
        return_parcel_update(return_id=rma.pk, status=data["status"], actor=self.actor(request))
        return render_return(self, request, number)


class ReturnReceiveApi(StaffReturnsApi):
    @_schema("receive", ReceiveInputSerializer)
    def post(self, request: Request, number: str) -> Response:
        data = _valid(ReceiveInputSerializer, request)
        rma = return_of(self, request, number)
        location_id = location_id_of(data["location"])
        assert location_id is not None
        lines = (
            [ReceivedInput(line["id"], line["quantity"]) for line in data["lines"]]
            if "lines" in data
            else None
        )
        return_receive(
            return_id=rma.pk, location_id=location_id, lines=lines, actor=self.actor(request)
        )
        return render_return(self, request, number)


class ReturnInspectApi(StaffReturnsApi):
    @_schema("inspect", InspectInputSerializer)
    def post(self, request: Request, number: str) -> Response:
        data = _valid(InspectInputSerializer, request)
        rma = return_of(self, request, number)
        return_inspect(
            return_id=rma.pk,
            lines=[
                InspectionInput(line["id"], line["condition"], line["note"])
                for line in data["lines"]
            ],
            actor=self.actor(request),
        )
        return render_return(self, request, number)


class ReturnDispositionApi(StaffReturnsApi):
    """Apply the proposed disposition of every received line, or the overrides given."""

    @_schema("disposition", DispositionInputSerializer)
    def post(self, request: Request, number: str) -> Response:
        data = _valid(DispositionInputSerializer, request)
        rma = return_of(self, request, number)
        overrides = [
            DispositionChoice(
                line["id"],
                line["disposition"],
                location_id_of(line.get("location"), f"lines.{index}.location"),
            )
            for index, line in enumerate(data["lines"])
        ]
        return_disposition(return_id=rma.pk, actor=self.actor(request), overrides=overrides)
        return render_return(self, request, number)


class ReturnRefundApi(StaffReturnsApi):
    """Request the refund (outbox ``return.refund_requested``); the payment system confirms."""

    @_schema("refund", None)
    def post(self, request: Request, number: str) -> Response:
        rma = return_of(self, request, number)
        return_refund_request(return_id=rma.pk, actor=self.actor(request))
        return render_return(self, request, number)


class ReturnCloseApi(StaffReturnsApi):
    @_schema("close", None)
    def post(self, request: Request, number: str) -> Response:
        rma = return_of(self, request, number)
        return_close(return_id=rma.pk, actor=self.actor(request))
        return render_return(self, request, number)


class RefundConfirmationApi(StaffReturnsApi):
    """``POST /refunds/{reference}/confirmation``: the payment system's answer (idempotent)."""

    @extend_schema(
        operation_id="refund_confirmation",
        tags=["returns"],
        request=RefundConfirmationInputSerializer,
        responses={200: RefundOutput, **ERRORS},
    )
    def post(self, request: Request, reference: str) -> Response:
        data = _valid(RefundConfirmationInputSerializer, request)
        refund = refund_confirmation_record(
            reference=reference,
            is_confirmed=data["status"] == "confirmed",
            actor=self.actor(request),
            external_reference=data["external_reference"],
            failure_reason=data["failure_reason"],
        )
        return Response(RefundOutput(Refund.objects.get(pk=refund.pk)).data)
