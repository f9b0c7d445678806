"""Admin for the fulfillment floor: picking strategies, bins, waves and pick lists (PDF), and
the fulfillment order page's pick/pack state, parcels and packing slip (PDF).

Loaded from ``fulfillment.admin``; the fulfillment order admin is re-registered as a subclass
of the one defined there (its actions stay), so this file adds and never edits.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from fulfillment.admin import FulfillmentOrderAdmin
from fulfillment.documents import packing_slip_pdf, pick_list_pdf
from fulfillment.models import (
    FulfillmentOrder,
    PickingStrategy,
    PickList,
    PickTask,
    PickWave,
    ProductBin,
)


def _pdf(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@admin.register(PickingStrategy)
class PickingStrategyAdmin(admin.ModelAdmin[PickingStrategy]):
    list_display = (
        "location",
        "batch_max_lines",
        "batch_max_units",
        "cluster_totes",
        "max_wave_lines",
        "walk_path",
    )
    list_select_related = ("location",)
    autocomplete_fields = ()


@admin.register(ProductBin)
class ProductBinAdmin(admin.ModelAdmin[ProductBin]):
    list_display = ("location", "product", "bin_location")
    list_filter = ("location",)
    search_fields = ("product__sku", "bin_location")
    list_select_related = ("location", "product")
    raw_id_fields = ("product",)


class PickListInline(admin.TabularInline[PickList, PickWave]):
    model = PickList
    extra = 0
    fields = ("code", "kind", "status", "picker", "order_count", "unit_count")
    readonly_fields = fields
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(PickWave)
class PickWaveAdmin(admin.ModelAdmin[PickWave]):
    list_display = ("id", "code", "location", "kind", "cutoff_at", "release_at", "planned_at")
    list_filter = ("kind", "location", "planned_at")
    list_select_related = ("location",)
    readonly_fields = (
        "location",
        "code",
        "kind",
        "cutoff_at",
        "release_at",
        "planned_at",
        "carriers",
    )
    inlines = (PickListInline,)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


class PickTaskInline(admin.TabularInline[PickTask, PickList]):
    model = PickTask
    extra = 0
    fields = (
        "sequence",
        "bin_location",
        "sku",
        "ean",
        "quantity",
        "quantity_picked",
        "quantity_short",
        "tote",
        "sort_slot",
        "status",
        "fulfillment_order_line",
    )
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(PickList)
class PickListAdmin(admin.ModelAdmin[PickList]):
    list_display = (
        "id",
        "code",
        "location",
        "kind",
        "status",
        "picker",
        "order_count",
        "unit_count",
        "created_at",
        "pdf_link",
    )
    list_filter = ("status", "kind", "location", "created_at")
    list_select_related = ("location",)
    search_fields = ("=id", "code", "picker")
    readonly_fields = (
        "wave",
        "location",
        "code",
        "kind",
        "status",
        "picker",
        "order_count",
        "line_count",
        "unit_count",
        "weight_grams",
        "walk_score",
        "started_at",
        "completed_at",
        "pdf_link",
    )
    inlines = (PickTaskInline,)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view(self.pdf_view)
        return [
            path("<int:pick_list_id>/pdf/", view, name="fulfillment_picklist_pdf"),
            *super().get_urls(),
        ]

    def pdf_view(self, request: HttpRequest, pick_list_id: int) -> HttpResponse:
        return _pdf(pick_list_pdf(pick_list_id=pick_list_id), f"pick-list-{pick_list_id}.pdf")

    @admin.display(description="PDF")
    def pdf_link(self, obj: PickList) -> SafeString:
        url = reverse("admin:fulfillment_picklist_pdf", args=[obj.pk])
        return format_html('<a href="{}">Download PDF</a>', url)


class PickPackFulfillmentOrderAdmin(FulfillmentOrderAdmin):
    """The fulfillment order admin plus pick/pack state, parcels and the packing slip."""

    fields = (  # type: ignore[assignment]
        *FulfillmentOrderAdmin.fields,
        "picked_at",
        "packed_at",
        "shipped_at",
        "ready_for_pickup_at",
        "collected_at",
        "pick_pack",
        "packing_slip",
    )
    readonly_fields = fields  # type: ignore[assignment]

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view(self.packing_slip_view)
        return [
            path(
                "<int:fulfillment_order_id>/packing-slip/",
                view,
                name="fulfillment_fulfillmentorder_packing_slip",
            ),
            *super().get_urls(),
        ]

    def packing_slip_view(self, request: HttpRequest, fulfillment_order_id: int) -> HttpResponse:
        return _pdf(
            packing_slip_pdf(fulfillment_order_id=fulfillment_order_id),
            f"packing-slip-{fulfillment_order_id}.pdf",
        )

    @admin.display(description="Packing slip")
    def packing_slip(self, obj: FulfillmentOrder) -> SafeString:
        url = reverse("admin:fulfillment_fulfillmentorder_packing_slip", args=[obj.pk])
        return format_html('<a href="{}">Download PDF</a>', url)

    @admin.display(description="Pick / pack")
    def pick_pack(self, obj: FulfillmentOrder) -> SafeString:
        lines = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    line.order_line.sku,
                    line.quantity,
                    line.quantity_rejected,
                    line.quantity_picked,
                    line.quantity_packed,
                )
                for line in obj.lines.select_related("order_line").order_by("id")
            ),
        )
        parcels = format_html_join(
            "",
            "<li>Parcel {} ({}): box {} (suggested {}), {} g, {}x{}x{} mm</li>",
            (
                (
                    parcel.number,
                    parcel.status,
                    parcel.box_code or "-",
                    parcel.suggested_box_code or "-",
                    parcel.weight_grams,
                    parcel.length_mm,
                    parcel.width_mm,
                    parcel.height_mm,
                )
                for parcel in obj.parcels.order_by("number")
            ),
        )
        return format_html(
            "<table><thead><tr><th>SKU</th><th>Quantity</th><th>Rejected</th><th>Picked</th>"
            "<th>Packed</th></tr></thead><tbody>{}</tbody></table><ul>{}</ul>",
            lines,
            parcels,
        )


admin.site.unregister(FulfillmentOrder)
admin.site.register(FulfillmentOrder, PickPackFulfillmentOrderAdmin)
