"""Returns API: what an order may return, return requests (create, list, follow, label), and
the staff actions along the lifecycle (``returns.api.actions``).

Callers: a channel's systems with ``X-Api-Key`` (they see and act on their own channel's orders
and returns only; another channel's is a 404) or staff by session or HTTP Basic (every return).
Each view validates, calls one service or selector and renders; errors are problem details.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import django_filters
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, generics
from rest_framework.permissions import BasePermission
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from channels_app.api.auth import ChannelAPIKeyAuthentication
from channels_app.api.throttling import ChannelRateThrottle
from channels_app.models import ChannelAPIKey
from inventory.models import Location
from omnilog.core.api import exception_handler
from omnilog.core.authentication import STAFF_AUTHENTICATION_CLASSES
from omnilog.core.errors import ApplicationError, FieldError, NotFound, ValidationFailed
from omnilog.core.problems import PROBLEM_CONTENT_TYPE
from orders.services.idempotency import IdempotentResponse, idempotent
from returns.api.serializers import (
    ReturnableOutput,
    ReturnCreateInputSerializer,
    ReturnOutput,
)
from returns.models import ReturnRequest
from returns.selectors import order_get_by_number, order_returnable, return_get, return_list
from returns.services.common import Actor
from returns.services.requests import return_request_create

PROBLEM = OpenApiTypes.OBJECT
ERRORS = {400: PROBLEM, 401: PROBLEM, 403: PROBLEM, 404: PROBLEM, 409: PROBLEM, 422: PROBLEM}
IDEMPOTENCY_HEADER = "Idempotency-Key"
_CLIENT_ERRORS = (ApplicationError, exceptions.APIException, DjangoValidationError, DataError)


def is_returns_staff(user: Any) -> bool:
    return bool(
        user
        and user.is_authenticated
        and (user.is_staff or user.has_perm("returns.change_returnrequest"))
    )


class ChannelOrStaff(BasePermission):
    message = "A channel API key or a staff login is required."

    def has_permission(self, request: Request, view: Any) -> bool:
        return isinstance(request.auth, ChannelAPIKey) or is_returns_staff(request.user)


class ReturnsStaff(BasePermission):
    message = "Only returns staff may do this."

    def has_permission(self, request: Request, view: Any) -> bool:
        return not isinstance(request.auth, ChannelAPIKey) and is_returns_staff(request.user)


class ReturnsApi(APIView):
    """A channel's key or staff; ``actor()`` scopes every call to the key's channel."""

    authentication_classes = (ChannelAPIKeyAuthentication, *STAFF_AUTHENTICATION_CLASSES)
    permission_classes: tuple[type[BasePermission], ...] = (ChannelOrStaff,)
    throttle_classes = (ChannelRateThrottle,)

    def actor(self, request: Request) -> Actor:
        if isinstance(request.auth, ChannelAPIKey):
            channel = request.auth.channel
            return Actor(
                name=f"api-key:{request.auth.prefix}",
                channel_id=channel.pk,
                source=f"channel:{channel.code}",
            )
        return Actor(name=f"staff:{request.user.get_username()}", source="api")


class StaffReturnsApi(ReturnsApi):
    permission_classes = (ReturnsStaff,)


def location_id_of(code: str | None, field: str = "location") -> int | None:
    if not code:
        return None
    found = Location.objects.filter(code=code).values_list("id", flat=True).first()
    if found is None:
        raise ValidationFailed(
            "Unknown location.", field_errors=[FieldError(field, "No such location.", "not_found")]
        )
    return int(found)


def return_of(view: ReturnsApi, request: Request, number: str) -> ReturnRequest:
    return return_get(number=number, channel_id=view.actor(request).channel_id)


def render_return(view: ReturnsApi, request: Request, number: str, status: int = 200) -> Response:
    rma = return_of(view, request, number)
    return Response(ReturnOutput(rma, context={"request": request}).data, status=status)


class OrderReturnableApi(ReturnsApi):
    """``GET /orders/{number}/returnable``: per line, units that may still come back, why not,
    the policy, the reasons and the modes."""

    @extend_schema(
        operation_id="order_returnable",
        tags=["returns"],
        responses={200: ReturnableOutput, **ERRORS},
    )
    def get(self, request: Request, number: str) -> Response:
        from django.utils import timezone

        order = order_get_by_number(number=number, channel_id=self.actor(request).channel_id)
        returnable = order_returnable(order=order, now=timezone.now())
        return Response(ReturnableOutput(returnable).data)


class ReturnFilter(django_filters.FilterSet):  # type: ignore[misc]
    status = django_filters.MultipleChoiceFilter(choices=ReturnRequest.Status.choices)
    mode = django_filters.CharFilter()
    order = django_filters.CharFilter(field_name="order__number")
    location = django_filters.CharFilter(method="filter_location")
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = ReturnRequest
        fields = ("status", "mode", "order", "location", "created_after", "created_before")

    def filter_location(self, queryset: Any, name: str, value: str) -> Any:
        from django.db.models import Q

        return queryset.filter(Q(location__code=value) | Q(received_location__code=value))


class ReturnListCreateApi(ReturnsApi, generics.ListAPIView):  # type: ignore[type-arg]
    """``GET /returns`` (paginated, filters) and ``POST /returns`` (``Idempotency-Key``
    optional for channel callers: a retry with the same key replays the first answer)."""

    serializer_class = ReturnOutput
    filterset_class = ReturnFilter

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no caller
            return ReturnRequest.objects.none()
        return return_list(channel_id=self.actor(self.request).channel_id)

    @extend_schema(operation_id="return_list", tags=["returns"])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        operation_id="return_create",
        tags=["returns"],
        request=ReturnCreateInputSerializer,
        responses={201: ReturnOutput, **ERRORS},
    )
    def post(self, request: Request) -> HttpResponse:
        actor = self.actor(request)
        key = request.headers.get(IDEMPOTENCY_HEADER)
        if actor.channel_id is None or not key:
            return self._create(request, actor)
        body = request.body
        result = idempotent(
            channel_id=actor.channel_id,
            key=key,
            method="POST",
            path=request.path,
            body_bytes=body,
            handler=lambda: _stored(self, request, lambda: self._create(request, actor)),
        )
        response = HttpResponse(result.body, status=result.status)
        for name, value in result.headers.items():
            response[name] = value
        if result.is_replay:
            response["Idempotent-Replayed"] = "true"
        return response

    def _create(self, request: Request, actor: Actor) -> Response:
        serializer = ReturnCreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        order = order_get_by_number(number=data["order_number"], channel_id=actor.channel_id)
        rma = return_request_create(
            order_id=order.pk,
            data=serializer.to_input(location_id_of(data.get("location"))),
            actor=actor,
        )
        return render_return(self, request, rma.number, status=201)


def _stored(view: APIView, request: Request, run: Callable[[], Response]) -> IdempotentResponse:
    """Run ``run`` and keep its answer (a client error as its problem document)."""
    try:
        response = run()
    except _CLIENT_ERRORS as error:
        problem = exception_handler(error, {"request": request, "view": view})
        if problem is None:  # pragma: no cover - every client error type renders
            raise
        headers = {"Content-Type": PROBLEM_CONTENT_TYPE}
        headers.update({k: v for k, v in problem.items() if k == "Retry-After"})
        return IdempotentResponse(
            status=problem.status_code,
            body=JSONRenderer().render(problem.data).decode(),
            headers=headers,
        )
    return IdempotentResponse(
        status=response.status_code,
        body=JSONRenderer().render(response.data).decode(),
        headers={"Content-Type": "application/json"},
    )


class ReturnDetailApi(ReturnsApi):
    @extend_schema(
        operation_id="return_get", tags=["returns"], responses={200: ReturnOutput, **ERRORS}
    )
    def get(self, request: Request, number: str) -> Response:
        return render_return(self, request, number)


class ReturnLabelApi(ReturnsApi):
    """``GET /returns/{number}/label``: the return label PDF (relay drop-off, carrier pickup)."""

    @extend_schema(
        operation_id="return_label",
        tags=["returns"],
        responses={(200, "application/pdf"): OpenApiTypes.BINARY, **ERRORS},
    )
    def get(self, request: Request, number: str) -> HttpResponse:
        rma = return_of(self, request, number)
        if not rma.return_label_pdf:
            raise NotFound(f"Return {number} has no label.", code="label_not_found")
        response = HttpResponse(bytes(rma.return_label_pdf), content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="{rma.number}-label.pdf"'
        return response
