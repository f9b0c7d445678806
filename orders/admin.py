"""Back office for orders: list with filters and search, order page, actions through services.

The order page is read-only (status, prices, quantities and allocations change only through
``orders.services``): actions hold / release / cancel and the "Edit order" form call the
lifecycle services and report their result or the ``ApplicationError`` message. The customer
admin gets a "merge" action here because the merge service lives in ``orders`` (it re-points
orders), and ``channels_app`` may not import ``orders``.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME, ActionForm
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from channels_app.admin import CustomerAdmin
from channels_app.models import Customer
from inventory.models import Location, Reservation
from omnilog.core.errors import ApplicationError
from orders.models import DeliveryMode, Order, OrderEvent, OrderLine
from orders.services.customers import customer_merge
from orders.services.late import order_late_q
from orders.services.lifecycle import (
    LineQuantityChange,
    OrderEdit,
    order_cancel,
    order_edit,
    order_hold,
    order_release,
)
from orders.services.line_stock import ORDER_LINE
from orders.statuses import OrderStatus

SETTLED = (
    OrderStatus.DELIVERED,
    OrderStatus.COLLECTED,
    OrderStatus.CANCELLED,
    OrderStatus.COMPLETED,
)


class LateFilter(admin.SimpleListFilter):
    """Past its promise and not yet delivered, collected, cancelled or completed."""

    title = "late"
    parameter_name = "late"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "Late"), ("no", "On time")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        # The promise watch's definition (orders.services.late), to the minute.
        late = queryset.filter(order_late_q(timezone.now())).exclude(status__in=SETTLED)
        if self.value() == "yes":
            return late
        if self.value() == "no":
            return queryset.exclude(pk__in=late.values("pk"))
        return queryset


class PickupStoreFilter(admin.SimpleListFilter):
    """Click-and-collect stores only (one query), not every location."""

    title = "pickup store"
    parameter_name = "pickup_location"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [
            (str(pk), f"{name} ({code})")
            for pk, code, name in Location.objects.filter(is_click_and_collect=True)
            .order_by("code")
            .values_list("pk", "code", "name")
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        return queryset.filter(pickup_location_id=value) if value and value.isdigit() else queryset


class OrderLineInline(admin.TabularInline[OrderLine, Order]):
    model = OrderLine
    extra = 0
    can_delete = False
    show_change_link = False
    fields = (
        "line_number",
        "sku",
        "name",
        "quantity",
        "quantity_allocated",
        "quantity_fulfilled",
        "quantity_cancelled",
        "quantity_returned",
        "unit_price",
        "discount_total",
        "total",
        "delivery_mode",
        "pickup_location",
    )
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[OrderLine]:
        return super().get_queryset(request).select_related("pickup_location")


class OrderEventInline(admin.TabularInline[OrderEvent, Order]):
    model = OrderEvent
    verbose_name_plural = "timeline"
    extra = 0
    can_delete = False
    fields = ("created_at", "kind", "from_status", "to_status", "actor", "source", "message")
    readonly_fields = (*fields, "channel", "details")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class OrderActionForm(ActionForm):
    reason = forms.CharField(max_length=200, required=False, help_text="For hold and cancel.")


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin[Order]):
    list_display = (
        "number",
        "channel",
        "status",
        "payment_status",
        "delivery_mode",
        "pickup_location",
        "customer_email",
        "grand_total",
        "placed_at",
        "promised_date",
    )
    list_filter = (
        "channel",
        "status",
        "delivery_mode",
        PickupStoreFilter,
        "placed_at",
        LateFilter,
        "payment_status",
    )
    search_fields = ("=number", "=external_id", "=customer_email")
    list_select_related = ("channel", "pickup_location")
    show_full_result_count = False
    date_hierarchy = "placed_at"
    inlines = (OrderLineInline, OrderEventInline)
    action_form = OrderActionForm
    actions = ("hold_orders", "release_orders", "cancel_orders")
    readonly_fields = ("edit_link", "line_reservations")
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "number",
                    "channel",
                    "external_id",
                    "customer",
                    "customer_email",
                    "status",
                    "hold_reason",
                    "payment_status",
                    "placed_at",
                    "promised_date",
                    "version",
                    "edit_link",
                )
            },
        ),
        (
            "Delivery",
            {
                "fields": (
                    "delivery_mode",
                    "pickup_location",
                    "relay_point_code",
                    "shipping_address",
                )
            },
        ),
        (
            "Money",
            {
                "fields": (
                    "currency",
                    "subtotal",
                    "discount_total",
                    "shipping_total",
                    "tax_total",
                    "grand_total",
                    "coupon_codes",
                )
            },
        ),
        ("Stock", {"fields": ("line_reservations",)}),
    )

    def get_readonly_fields(self, request: HttpRequest, obj: Order | None = None) -> Any:
        names = [name for _, options in self.fieldsets for name in options["fields"]]
        return tuple(dict.fromkeys([*names, *self.readonly_fields]))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # orders come in through capture

    def has_delete_permission(self, request: HttpRequest, obj: Order | None = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Order]:
        return super().get_queryset(request).select_related("channel", "pickup_location")

    @admin.display(description="Edit")
    def edit_link(self, obj: Order) -> SafeString:
        url = reverse("admin:orders_order_edit", args=[obj.pk])
        return format_html('<a class="button" href="{}">Edit quantities or delivery</a>', url)

    @admin.display(description="Reservations and allocations")
    def line_reservations(self, obj: Order) -> SafeString:
        numbers = dict(obj.lines.values_list("id", "line_number"))
        rows = (
            Reservation.objects.filter(
                reference_type=ORDER_LINE, reference_id__in=[str(pk) for pk in numbers]
            )
            .select_related("location", "product")
            .order_by("id")
        )
        body = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>"
            "<td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    numbers.get(int(r.reference_id), "?"),
                    r.product.sku,
                    r.location.code,
                    r.scope,
                    r.kind,
                    r.status,
                    r.quantity,
                    r.quantity_committed,
                    r.expires_at or "",
                )
                for r in rows
            ),
        )
        if not body:
            return format_html("<p>{}</p>", "No reservation.")
        return format_html(
            "<table><thead><tr><th>Line</th><th>SKU</th><th>Location</th><th>Scope</th>"
            "<th>Kind</th><th>Status</th><th>Held</th><th>Committed</th><th>Expires</th>"
            "</tr></thead><tbody>{}</tbody></table>",
            body,
        )

    # ------------------------------------------------------------------------------ actions

    def _run(self, request: HttpRequest, queryset: QuerySet[Order], verb: str, call: Any) -> None:
        done = 0
        for order_id, number in queryset.order_by("id").values_list("id", "number"):
            try:
                call(order_id)
            except ApplicationError as error:
                self.message_user(request, f"{number}: {error.message}", messages.ERROR)
            else:
                done += 1
        if done:
            self.message_user(request, f"{done} order(s) {verb}.", messages.SUCCESS)

    def _reason(self, request: HttpRequest, default: str) -> str:
        return (request.POST.get("reason") or "").strip() or default

    @admin.action(description="Put on hold", permissions=["change"])
    def hold_orders(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        reason = self._reason(request, "Held from the back office")
        actor = request.user.get_username()
        self._run(
            request,
            queryset,
            "put on hold",
            lambda pk: order_hold(order_id=pk, reason=reason, actor=actor, source="admin"),
        )

    @admin.action(description="Release hold", permissions=["change"])
    def release_orders(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        actor = request.user.get_username()
        self._run(
            request,
            queryset,
            "released",
            lambda pk: order_release(order_id=pk, actor=actor, source="admin"),
        )

    @admin.action(description="Cancel (every open unit)", permissions=["change"])
    def cancel_orders(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        reason = self._reason(request, "Cancelled from the back office")
        actor = request.user.get_username()
        self._run(
            request,
            queryset,
            "cancelled",
            lambda pk: order_cancel(order_id=pk, reason=reason, actor=actor, source="admin"),
        )

    # ---------------------------------------------------------------------------- edit view

    def get_urls(self) -> list[URLPattern]:
        return [
            path(
                "<int:order_id>/edit/",
                self.admin_site.admin_view(self.edit_view),
                name="orders_order_edit",
            ),
            *super().get_urls(),
        ]

    def edit_view(self, request: HttpRequest, order_id: int) -> HttpResponse:
        order = get_object_or_404(Order.objects.select_related("channel"), pk=order_id)
        if not self.has_change_permission(request, order):
            return HttpResponseRedirect(reverse("admin:index"))
        lines = list(order.lines.order_by("line_number"))
        form = OrderEditForm(request.POST or None, order=order, lines=lines)
        if request.method == "POST" and form.is_valid():
            try:
                order_edit(
                    order_id=order.pk,
                    changes=form.changes(),
                    actor=request.user.get_username(),
                    source="admin",
                )
            except ApplicationError as error:
                problems = "; ".join(f"{e.field}: {e.message}" for e in error.field_errors)
                form.add_error(None, f"{error.message} {problems}".strip())
            else:
                self.message_user(request, f"Order {order.number} edited.", messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:orders_order_change", args=[order.pk]))
        return TemplateResponse(
            request,
            "admin/orders/order/edit.html",
            {
                **self.admin_site.each_context(request),
                "opts": Order._meta,
                "title": f"Edit order {order.number}",
                "order": order,
                "form": form,
            },
        )


class OrderEditForm(forms.Form):
    """One quantity field per line with open units, the delivery mode and the pickup store."""

    delivery_mode = forms.ChoiceField(choices=DeliveryMode.choices)
    pickup_location = forms.ModelChoiceField(
        queryset=Location.objects.none(), required=False, help_text="For click-and-collect."
    )

    def __init__(self, data: Any = None, *, order: Order, lines: list[OrderLine]) -> None:
        super().__init__(data)
        self.order = order
        self.lines = lines
        self.fields["delivery_mode"].initial = order.delivery_mode
        store_field = self.fields["pickup_location"]
        assert isinstance(store_field, forms.ModelChoiceField)
        store_field.queryset = Location.objects.filter(
            is_click_and_collect=True, is_active=True, channels=order.channel_id
        ).order_by("code")
        store_field.initial = order.pickup_location_id
        for line in lines:
            if line.quantity_open:
                self.fields[f"line_{line.pk}"] = forms.IntegerField(
                    label=f"#{line.line_number} {line.sku}",
                    min_value=1,
                    initial=line.quantity,
                    help_text=f"Ordered; {line.quantity_cancelled} cancelled.",
                )

    def changes(self) -> OrderEdit:
        data = self.cleaned_data
        store = data.get("pickup_location")
        return OrderEdit(
            quantities=tuple(
                LineQuantityChange(line_id=line.pk, quantity=data[f"line_{line.pk}"])
                for line in self.lines
                if f"line_{line.pk}" in data and data[f"line_{line.pk}"] != line.quantity
            ),
            delivery_mode=data["delivery_mode"],
            pickup_location_id=store.pk
            if store is not None and data["delivery_mode"] == DeliveryMode.CLICK_AND_COLLECT
            else None,
        )


# ------------------------------------------------------------------------------ customer merge


class CustomerMergeForm(forms.Form):
    keep = forms.TypedChoiceField(coerce=int, widget=forms.RadioSelect, label="Customer to keep")


admin.site.unregister(Customer)


@admin.register(Customer)
class CustomerMergeAdmin(CustomerAdmin):
    """The channels customer admin, plus "merge" (orders move to the customer kept)."""

    actions = ("merge_customers",)

    def has_merge_permission(self, request: HttpRequest) -> bool:
        """A merge rewrites the kept customer and deletes the others: it needs both rights."""
        return self.has_change_permission(request) and self.has_delete_permission(request)

    @admin.action(
        description="Merge the selected customers (choose the one to keep)",
        permissions=["merge"],
    )
    def merge_customers(
        self, request: HttpRequest, queryset: QuerySet[Customer]
    ) -> HttpResponse | None:
        customers = list(queryset.order_by("id"))
        if len(customers) < 2:
            self.message_user(request, "Select at least two customers.", messages.WARNING)
            return None
        form = CustomerMergeForm(request.POST if "confirm" in request.POST else None)
        keep_field = form.fields["keep"]
        assert isinstance(keep_field, forms.TypedChoiceField)
        keep_field.choices = [(c.pk, f"#{c.pk} {c}") for c in customers]
        if "confirm" in request.POST and form.is_valid():
            keep_id = form.cleaned_data["keep"]
            actor = request.user.get_username()
            merged = 0
            for customer in customers:
                if customer.pk == keep_id:
                    continue
                try:
                    customer_merge(keep_id=keep_id, merge_id=customer.pk, actor=actor)
                except ApplicationError as error:
                    self.message_user(request, f"#{customer.pk}: {error.message}", messages.ERROR)
                else:
                    merged += 1
            if merged:
                self.message_user(
                    request,
                    f"{merged} customer(s) merged into #{keep_id}.",
                    messages.SUCCESS,
                )
            return None
        return TemplateResponse(
            request,
            "admin/orders/customer_merge.html",
            {
                **self.admin_site.each_context(request),
                "opts": Customer._meta,
                "title": "Merge customers",
                "customers": customers,
                "form": form,
                "action_checkbox_name": ACTION_CHECKBOX_NAME,
            },
        )
