"""The project's URLs plus test-only views that raise each kind of error.

Used with ``@pytest.mark.urls("tests.core.urls")``. Django takes the error handlers from the
root URLconf module, so this module re-exports the project's.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import include, path
from rest_framework import exceptions, serializers, status
from rest_framework.authentication import BaseAuthentication, SessionAuthentication
from rest_framework.permissions import AllowAny, BasePermission, IsAdminUser, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from omnilog import urls as project_urls
from omnilog.core.errors import FieldError, InsufficientStock

handler400 = project_urls.handler400
handler403 = project_urls.handler403
handler404 = project_urls.handler404
handler500 = project_urls.handler500


class LineInputSerializer(serializers.Serializer[Any]):
    sku = serializers.CharField(max_length=12)
    quantity = serializers.IntegerField(min_value=1, max_value=1000)


class OrderInputSerializer(serializers.Serializer[Any]):
    channel = serializers.CharField(max_length=20)
    lines = LineInputSerializer(many=True, allow_empty=False)
    tags = serializers.ListField(child=serializers.CharField(max_length=5), required=False)

    def validate(self, attrs: dict[str, object]) -> dict[str, object]:
        if attrs["channel"] == "closed":
            raise serializers.ValidationError("The channel is closed.", code="channel_closed")
        return attrs


class PublicApi(APIView):
    authentication_classes = ()
    permission_classes = (AllowAny,)


class OrderEchoApi(PublicApi):
    """POST only: validates an order-like body and echoes it back."""

    def post(self, request: Request) -> Response:
        serializer = OrderInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(serializer.validated_data, status=status.HTTP_201_CREATED)


class ApplicationErrorApi(PublicApi):
    def get(self, request: Request) -> Response:
        raise InsufficientStock(
            "2 lines cannot be served.",
            details={"lines": [{"sku": "A-1", "short": 3}, {"sku": "B-2", "short": 1}]},
            field_errors=[FieldError("lines.0.quantity", "Only 2 left.", "insufficient_stock")],
        )


class DjangoValidationErrorApi(PublicApi):
    def get(self, request: Request) -> Response:
        if request.query_params.get("shape") == "list":
            raise DjangoValidationError(["First problem.", "Second problem."])
        raise DjangoValidationError(
            {"email": [DjangoValidationError("Enter a valid e-mail.", code="invalid_email")]}
        )


class MissingApi(PublicApi):
    def get(self, request: Request) -> Response:
        raise Http404("No such order.")


class CrashApi(PublicApi):
    def get(self, request: Request) -> Response:
        raise RuntimeError("a bug in a view")


class PrivateApi(APIView):
    """A signed-in user over a session cookie, as the back office and store screens have."""

    authentication_classes = (SessionAuthentication,)
    permission_classes = (IsAuthenticated,)

    def get(self, request: Request) -> Response:
        return Response({"user": request.user.get_username()})


class HeaderKeyAuthentication(BaseAuthentication):
    """A header-borne credential: it can send a challenge, so refusals are 401."""

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        key = request.headers.get("X-Test-Key")
        if key is None:
            return None
        if key != "good":
            raise exceptions.AuthenticationFailed("The key is not valid.")
        return None, key

    def authenticate_header(self, request: Request) -> str:
        return 'Api-Key realm="test"'


class HasKey(BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        return request.auth is not None


class KeyApi(APIView):
    authentication_classes = (HeaderKeyAuthentication,)
    permission_classes = (HasKey,)

    def get(self, request: Request) -> Response:
        return Response({"key": request.auth})


class StaffApi(APIView):
    authentication_classes = (SessionAuthentication,)
    permission_classes = (IsAdminUser,)

    def get(self, request: Request) -> Response:
        return Response({"ok": True})


def crash_page(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("a bug in a page")


test_api = [
    path("orders", OrderEchoApi.as_view(), name="test-orders"),
    path("application-error", ApplicationErrorApi.as_view()),
    path("django-validation-error", DjangoValidationErrorApi.as_view()),
    path("missing", MissingApi.as_view()),
    path("crash", CrashApi.as_view()),
    path("private", PrivateApi.as_view()),
    path("staff", StaffApi.as_view()),
    path("key", KeyApi.as_view()),
]

urlpatterns = [
    path("api/v1/_test/", include(test_api)),
    path("_test/crash", crash_page),
    *project_urls.urlpatterns,
]
