"""Who may see which store: every store screen and action is scoped here, server-side.

A user works in the stores they are a member of (``StoreStaff``); being a superuser or global
staff gives no store membership (the back office is the admin). Another store's order, or a
store the user is not a member of, is a 404: the page does not say whether it exists.

Views use ``StoreRequiredMixin`` (class-based) or ``store_view`` (function views). Both take
the store from the URL keyword ``store`` (a ``Location.code``), redirect anonymous users to the
store login page and set on the request:

- ``request.store``: the ``Location``;
- ``request.store_role``: ``"associate"`` or ``"manager"``;
- ``request.store_memberships``: every ``StoreStaff`` row of the user (location selected), for
  the store switcher of ``templates/store/base.html``.

One query resolves all three. Manager-only actions add ``manager_required`` (403 otherwise).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse

from fulfillment.models import FulfillmentOrder, FulfillmentOrderLine, PickList
from fulfillment.models_store import StoreStaff
from inventory.models import Location

__all__ = [
    "MANAGER",
    "StoreRequiredMixin",
    "floor_location_of",
    "floor_scope",
    "fulfillment_order_for_staff",
    "manager_required",
    "store_locations",
    "store_role",
    "store_view",
]

MANAGER = StoreStaff.Role.MANAGER.value
View = TypeVar("View", bound=Callable[..., HttpResponse])


def _is_authenticated(user: Any) -> bool:
    return bool(user is not None and user.is_authenticated)


def store_locations(user: Any) -> QuerySet[Location]:
    """The stores ``user`` belongs to, by code (none for anonymous users and non-members)."""
    if not _is_authenticated(user):
        return Location.objects.none()
    return Location.objects.filter(staff__user=user).order_by("code")


def store_role(user: Any, location: Location | int) -> str | None:
    """``"associate"`` or ``"manager"`` at ``location``; None when not a member."""
    if not _is_authenticated(user):
        return None
    location_id = location.pk if isinstance(location, Location) else location
    role = (
        StoreStaff.objects.filter(user=user, location_id=location_id)
        .values_list("role", flat=True)
        .first()
    )
    return str(role) if role is not None else None


def _memberships(user: Any) -> list[StoreStaff]:
    return list(
        StoreStaff.objects.filter(user=user).select_related("location").order_by("location__code")
    )


def store_resolve(request: HttpRequest, store: str) -> None:
    """Set ``request.store``, ``store_role`` and ``store_memberships`` or raise ``Http404``.

    Precondition: the user is authenticated.
    """
    memberships = _memberships(request.user)
    current = next((row for row in memberships if row.location.code == store), None)
    if current is None:
        raise Http404("No such store here.")
    request.store = current.location  # type: ignore[attr-defined]
    request.store_role = current.role  # type: ignore[attr-defined]
    request.store_memberships = memberships  # type: ignore[attr-defined]


def store_login_redirect(request: HttpRequest) -> HttpResponse:
    return redirect_to_login(request.get_full_path(), reverse("store:login"))


def store_view(view: View) -> View:
    """Function-view decorator: login required (store login page), store from the ``store``
    URL keyword, 404 unless the user is a member of it."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not _is_authenticated(request.user):
            return store_login_redirect(request)
        store_resolve(request, str(kwargs.get("store", "")))
        return view(request, *args, **kwargs)

    return cast(View, wrapped)


def manager_required(view: View) -> View:
    """Only the store's managers (403 otherwise). Put it inside ``store_view`` (or on a
    method of a ``StoreRequiredMixin`` view with ``method_decorator``)."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if getattr(request, "store_role", None) != MANAGER:
            raise PermissionDenied("Store managers only.")
        return view(request, *args, **kwargs)

    return cast(View, wrapped)


class StoreRequiredMixin:
    """Class-based-view mixin: the same checks as ``store_view``, before ``dispatch``.

    ``manager_only = True`` makes every method of the view manager-only.
    """

    manager_only = False

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not _is_authenticated(request.user):
            return store_login_redirect(request)
        store_resolve(request, str(kwargs.get("store", "")))
        if self.manager_only and request.store_role != MANAGER:  # type: ignore[attr-defined]
            raise PermissionDenied("Store managers only.")
        return super().dispatch(request, *args, **kwargs)  # type: ignore[misc,no-any-return]


def fulfillment_order_for_staff(user: Any, location: Location, pk: int) -> FulfillmentOrder:
    """``location``'s fulfillment order ``pk`` (order and location selected), or ``Http404``
    when it belongs to another store or ``user`` is not a member of ``location``."""
    if not _is_authenticated(user):
        raise Http404("No such order here.")
    found = (
        FulfillmentOrder.objects.select_related("order", "location")
        .filter(pk=pk, location=location, location__staff__user=user)
        .first()
    )
    if found is None:
        raise Http404("No such order here.")
    return found


def floor_scope(user: Any) -> frozenset[int] | None:
    """The location ids a fulfillment-floor API user may act on: None (everywhere) for global
    staff, superusers and floor users who belong to no store (warehouse pickers); otherwise
    only their stores."""
    if not _is_authenticated(user) or user.is_staff or user.is_superuser:
        return None
    stores = frozenset(StoreStaff.objects.filter(user=user).values_list("location_id", flat=True))
    return stores or None


def floor_location_of(
    *,
    fulfillment_order_id: int | None = None,
    location_code: str | None = None,
    pick_list_id: int | None = None,
    line_id: int | None = None,
) -> int | None:
    """The location a floor API path acts on (None when the object does not exist)."""
    if fulfillment_order_id is not None:
        query = FulfillmentOrder.objects.filter(pk=fulfillment_order_id)
        return query.values_list("location_id", flat=True).first()
    if location_code is not None:
        return Location.objects.filter(code=location_code).values_list("pk", flat=True).first()
    if pick_list_id is not None:
        return (
            PickList.objects.filter(pk=pick_list_id).values_list("location_id", flat=True).first()
        )
    if line_id is not None:
        return (
            FulfillmentOrderLine.objects.filter(pk=line_id)
            .values_list("fulfillment_order__location_id", flat=True)
            .first()
        )
    return None
