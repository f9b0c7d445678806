"""Back office for carriers, shipments (events, label and invoice downloads), relay points and
transfer orders (ship / receive through the services)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from fulfillment.models import (
    Carrier,
    RelayPoint,
    Shipment,
    ShipmentEvent,
    TransferLine,
    TransferOrder,
)
from fulfillment.services.transfers import ReceivedLine, transfer_receive, transfer_ship
from omnilog.core.errors import ApplicationError


@admin.register(Carrier)
class CarrierAdmin(admin.ModelAdmin[Carrier]):
    list_display = ("code", "name", "adapter_code", "is_active")
    list_filter = ("is_active", "adapter_code")
    search_fields = ("code", "name")
    fields = ("code", "name", "adapter_code", "webhook_secret", "is_active")


class ShipmentEventInline(admin.TabularInline[ShipmentEvent, Shipment]):
    model = ShipmentEvent
    extra = 0
    can_delete = False
    fields = ("occurred_at", "from_status", "status", "description", "place", "carrier_event_id")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Shipment)
class ShipmentAdmin(admin.ModelAdmin[Shipment]):
    list_display = (
        "tracking_number",
        "carrier",
        "service",
        "status",
        "fulfillment_order",
        "customs_form",
        "price",
        "created_at",
    )
    list_filter = ("status", "carrier", "service", "customs_form", "incoterm")
    search_fields = ("tracking_number", "fulfillment_order__order__number")
    list_select_related = ("carrier", "fulfillment_order")
    inlines = (ShipmentEventInline,)
    readonly_fields = (
        "fulfillment_order",
        "carrier",
        "service",
        "tracking_number",
        "status",
        "relay_point",
        "parcels",
        "weight_grams",
        "zone",
        "price",
        "currency",
        "incoterm",
        "customs_form",
        "customs_data",
        "shipped_at",
        "delivered_at",
        "documents",
    )
    exclude = ("length_mm", "width_mm", "height_mm", "created_by")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # labels are bought through the API (shipment_create)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Shipment]:
        return super().get_queryset(request).defer("label_pdf", "commercial_invoice_pdf")

    def get_urls(self) -> list[URLPattern]:
        own = [
            path(
                "<int:shipment_id>/document/<str:kind>/",
                self.admin_site.admin_view(self.document_view),
                name="fulfillment_shipment_document",
            )
        ]
        return own + super().get_urls()

    def document_view(self, request: HttpRequest, shipment_id: int, kind: str) -> HttpResponse:
        shipment = get_object_or_404(Shipment, pk=shipment_id)
        content = shipment.label_pdf if kind == "label" else shipment.commercial_invoice_pdf
        if kind not in ("label", "invoice") or not content:
            return HttpResponse(status=404)
        response = HttpResponse(bytes(content), content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="{kind}-{shipment.pk}.pdf"'
        return response

    @admin.display(description="Documents")
    def documents(self, obj: Shipment) -> SafeString:
        label = reverse("admin:fulfillment_shipment_document", args=[obj.pk, "label"])
        if not obj.customs_form:
            return format_html('<a href="{}">Label PDF</a>', label)
        invoice = reverse("admin:fulfillment_shipment_document", args=[obj.pk, "invoice"])
        return format_html(
            '<a href="{}">Label PDF</a> · <a href="{}">Commercial invoice PDF</a>', label, invoice
        )


@admin.register(RelayPoint)
class RelayPointAdmin(admin.ModelAdmin[RelayPoint]):
    list_display = (
        "point_id",
        "name",
        "carrier",
        "city",
        "is_locker",
        "max_weight_grams",
        "is_active",
    )
    list_filter = ("carrier", "is_locker", "is_active", "country")
    search_fields = ("point_id", "name", "city", "postcode")
    list_select_related = ("carrier",)


class TransferLineInline(admin.TabularInline[TransferLine, TransferOrder]):
    model = TransferLine
    extra = 1
    fields = ("product", "quantity", "quantity_received", "discrepancy_note", "reservation")
    readonly_fields = ("quantity_received", "discrepancy_note")
    raw_id_fields = ("product", "reservation")


@admin.register(TransferOrder)
class TransferOrderAdmin(admin.ModelAdmin[TransferOrder]):
    list_display = (
        "id",
        "from_location",
        "to_location",
        "reason",
        "status",
        "expected_arrival",
        "order",
    )
    list_filter = ("status", "reason", "to_location", "from_location")
    search_fields = ("id", "order__number", "note")
    list_select_related = ("from_location", "to_location", "order")
    raw_id_fields = ("order",)
    readonly_fields = ("status", "shipped_at", "received_at", "created_by")
    inlines = (TransferLineInline,)
    actions = ("ship_selected", "receive_selected_as_shipped")

    def has_change_permission(self, request: HttpRequest, obj: TransferOrder | None = None) -> bool:
        # Once shipped, the ledger holds the truth: only drafts are edited here.
        return super().has_change_permission(request, obj) and (
            obj is None or obj.status == TransferOrder.Status.DRAFT
        )

    @admin.action(description="Ship selected transfers", permissions=["change"])
    def ship_selected(self, request: HttpRequest, queryset: QuerySet[TransferOrder]) -> None:
        for transfer_id in queryset.order_by("id").values_list("id", flat=True):
            try:
                transfer_ship(transfer_id=transfer_id, actor=f"admin:{request.user.get_username()}")
            except ApplicationError as error:
                self.message_user(request, f"TR-{transfer_id}: {error.message}", messages.ERROR)
            else:
                self.message_user(request, f"TR-{transfer_id} shipped.", messages.SUCCESS)

    @admin.action(
        description="Receive selected transfers as shipped (no discrepancy)",
        permissions=["change"],
    )
    def receive_selected_as_shipped(
        self, request: HttpRequest, queryset: QuerySet[TransferOrder]
    ) -> None:
        for transfer in queryset.order_by("id").prefetch_related("lines"):
            lines = [ReceivedLine(line.pk, line.quantity) for line in transfer.lines.all()]
            try:
                transfer_receive(
                    transfer_id=transfer.pk,
                    lines=lines,
                    actor=f"admin:{request.user.get_username()}",
                )
            except ApplicationError as error:
                self.message_user(request, f"{transfer.reference}: {error.message}", messages.ERROR)
            else:
                self.message_user(request, f"{transfer.reference} received.", messages.SUCCESS)
