"""``POST /api/v1/orders/``: place an order, once per ``Idempotency-Key``.

The view reads the raw body (the idempotency fingerprint), then lets
``orders.services.idempotency.idempotent`` run the capture at most once. Client errors inside
the capture are rendered here, with the one exception handler, into the stored response, so
that a replay returns them byte for byte.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError
from django.http import HttpResponse
from rest_framework import exceptions
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.views import APIView

from channels_app.api.auth import channel_of
from channels_app.models import SalesChannel
from omnilog.core.api import exception_handler
from omnilog.core.errors import ApplicationError
from omnilog.core.problems import PROBLEM_CONTENT_TYPE
from orders.api.serializers import OrderOutputSerializer, OrderPlaceInputSerializer
from orders.services.capture import order_place_for_channel
from orders.services.idempotency import IdempotentResponse, idempotent

IDEMPOTENCY_HEADER = "Idempotency-Key"
# DataError: a value PostgreSQL refuses; the handler renders the ones a client caused (422).
_CLIENT_ERRORS = (ApplicationError, exceptions.APIException, DjangoValidationError, DataError)


def order_place_response(view: APIView, request: Request) -> HttpResponse:
    channel = channel_of(request)
    body = request.body  # read before request.data: the fingerprint is of the raw bytes
    result = idempotent(
        channel_id=channel.pk,
        key=request.headers.get(IDEMPOTENCY_HEADER),
        method="POST",
        path=request.path,
        body_bytes=body,
        handler=lambda: _place(view, request, channel),
    )
    response = HttpResponse(result.body, status=result.status)
    for name, value in result.headers.items():
        response[name] = value
    if result.is_replay:
        response["Idempotent-Replayed"] = "true"
    return response


def _place(view: APIView, request: Request, channel: SalesChannel) -> IdempotentResponse:
    try:
        serializer = OrderPlaceInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        # Its writes run in their own savepoint: after a DataError the record is still writable.
        order = order_place_for_channel(
            channel=channel,
            data=serializer.to_input(),
            actor=f"api-key:{request.auth.prefix}",  # type: ignore[union-attr]
            source=f"channel:{channel.code}",
        )
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
    data = OrderOutputSerializer(order, context={"request": request}).data
    return IdempotentResponse(
        status=201,
        body=JSONRenderer().render(data).decode(),
        headers={"Content-Type": "application/json", "Location": f"{request.path}{order.pk}"},
    )
