"""Back office for stock: locations, products, levels, the ledger, reservations, channel rules.

Stock counters are read-only here: every change goes through ``inventory.services`` (the
"Adjust stock" form, the reservation "release" action, the stock-count import), so it lands in
the movement ledger. Products and locations import from CSV/XLSX with a preview
(django-import-export, natural keys ``sku`` / ``code``).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import admin, messages
from django.db.models import F, IntegerField, Q, QuerySet, Value
from django.db.models.functions import Greatest
from django.http import HttpRequest
from django.urls import path, reverse
from django.utils.html import format_html
from import_export import fields, resources, widgets
from import_export.admin import ImportExportModelAdmin
from import_export.tmp_storages import CacheStorage

from channels_app.models import SalesChannel
from inventory.admin_stock_views import stock_adjust_view, stock_count_import_view
from inventory.models import (
    ChannelStockRule,
    Location,
    Product,
    Reservation,
    StockLevel,
    StockMovement,
)
from inventory.services import stock_release
from omnilog.core.errors import ApplicationError

# Import previews live in the cache (Redis), so any web process can confirm them.
IMPORT_STORAGE = CacheStorage


class LocationResource(resources.ModelResource):  # type: ignore[misc]
    channels = fields.Field(
        attribute="channels",
        column_name="channels",
        widget=widgets.ManyToManyWidget(SalesChannel, field="code", separator="|"),
    )

    class Meta:
        model = Location
        import_id_fields = ("code",)
        fields = (
            "code",
            "name",
            "kind",
            "address_line",
            "postcode",
            "city",
            "country",
            "latitude",
            "longitude",
            "timezone",
            "ships_parcels",
            "is_click_and_collect",
            "is_ship_from_store",
            "accepts_returns",
            "daily_capacity",
            "pick_minutes",
            "pack_minutes",
            "is_active",
            "channels",
        )
        skip_unchanged = True
        report_skipped = True
        clean_model_instances = True


class BlankAsNullWidget(widgets.CharWidget):  # type: ignore[misc]
    """An empty cell is NULL (for unique, nullable codes such as the EAN)."""

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> str | None:
        text = "" if value is None else str(value).strip()
        return text or None


class ProductResource(resources.ModelResource):  # type: ignore[misc]
    # A blank EAN is "none" (NULL), so that many products without one stay unique.
    ean = fields.Field(attribute="ean", column_name="ean", widget=BlankAsNullWidget())

    class Meta:
        model = Product
        import_id_fields = ("sku",)
        fields = (
            "sku",
            "ean",
            "name",
            "category",
            "weight_grams",
            "length_mm",
            "width_mm",
            "height_mm",
            "hs_code",
            "country_of_origin",
            "is_backorderable",
            "preorder_date",
            "is_active",
        )
        skip_unchanged = True
        report_skipped = True
        clean_model_instances = True


@admin.register(Location)
class LocationAdmin(ImportExportModelAdmin):  # type: ignore[misc]
    resource_classes = [LocationResource]
    tmp_storage_class = IMPORT_STORAGE
    list_display = (
        "code",
        "name",
        "kind",
        "city",
        "postcode",
        "ships_parcels",
        "is_click_and_collect",
        "is_ship_from_store",
        "accepts_returns",
        "is_active",
    )
    list_filter = (
        "kind",
        "is_active",
        "ships_parcels",
        "is_click_and_collect",
        "is_ship_from_store",
        "accepts_returns",
        "channels",
        "country",
    )
    search_fields = ("code", "name", "city", "postcode")
    filter_horizontal = ("channels",)
    show_full_result_count = False


class ProductStockRuleInline(admin.TabularInline[ChannelStockRule, Product]):
    model = ChannelStockRule
    fields = ("channel", "buffer_units", "buffer_percent")
    extra = 0
    verbose_name = "channel buffer for this product"
    verbose_name_plural = "channel buffers for this product"


@admin.register(Product)
class ProductAdmin(ImportExportModelAdmin):  # type: ignore[misc]
    resource_classes = [ProductResource]
    tmp_storage_class = IMPORT_STORAGE
    list_display = ("sku", "name", "category", "ean", "is_backorderable", "is_active")
    list_filter = ("category", "is_active", "is_backorderable", "kind")
    search_fields = ("sku", "ean", "name")
    inlines = [ProductStockRuleInline]
    show_full_result_count = False


@admin.register(ChannelStockRule)
class ChannelStockRuleAdmin(admin.ModelAdmin[ChannelStockRule]):
    list_display = ("channel", "product", "category", "buffer_units", "buffer_percent")
    list_filter = ("channel",)
    list_select_related = ("channel", "product")
    search_fields = ("product__sku", "category", "channel__code")
    raw_id_fields = ("product",)


def _atp_sql() -> Greatest:
    free = F("on_hand") - F("reserved") - F("damaged") - F("quality_control") - F("safety_stock")
    return Greatest(Value(0), free, output_field=IntegerField())


class StockStateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [
            ("damaged", "Has damaged units"),
            ("quality_control", "Has units in quality control"),
            ("reserved", "Has reservations"),
            ("in_transit", "In transit"),
            ("incoming", "Incoming from suppliers"),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() in {"damaged", "quality_control", "reserved", "in_transit", "incoming"}:
            return queryset.filter(**{f"{self.value()}__gt": 0})
        return queryset


class StockAvailabilityFilter(admin.SimpleListFilter):
    title = "availability"
    parameter_name = "availability"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        low = settings.STOCK_LOW_THRESHOLD
        return [
            ("out", "Out of stock (ATP 0)"),
            ("low", f"Low stock (ATP <= {low})"),
            ("available", f"ATP above {low}"),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        low = settings.STOCK_LOW_THRESHOLD
        if self.value() == "out":
            return queryset.filter(atp_value=0)
        if self.value() == "low":
            return queryset.filter(atp_value__lte=low)
        if self.value() == "available":
            return queryset.filter(atp_value__gt=low)
        return queryset


@admin.register(StockLevel)
class StockLevelAdmin(admin.ModelAdmin[StockLevel]):
    """Counters, read-only: adjust through the form (a service call, a ledger row)."""

    change_list_template = "admin/inventory/stocklevel/change_list.html"
    list_display = (
        "product_sku",
        "location_code",
        "on_hand",
        "reserved",
        "damaged",
        "quality_control",
        "safety_stock",
        "in_transit",
        "incoming",
        "incoming_expected_date",
        "atp",
        "adjust_link",
    )
    list_filter = (
        StockAvailabilityFilter,
        StockStateFilter,
        "location__kind",
        "location",
    )
    list_select_related = ("product", "location")
    search_fields = ("product__sku", "location__code")
    readonly_fields = (
        "product",
        "location",
        "on_hand",
        "reserved",
        "damaged",
        "quality_control",
        "safety_stock",
        "in_transit",
        "incoming",
        "incoming_expected_date",
        "atp",
        "updated_at",
        "adjust_link",
    )
    show_full_result_count = False
    list_per_page = 100

    def get_queryset(self, request: HttpRequest) -> QuerySet[StockLevel]:
        queryset: QuerySet[StockLevel] = super().get_queryset(request)
        return queryset.annotate(atp_value=_atp_sql())

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # levels appear when services first touch a (product, location)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # the form would write counters behind the ledger's back

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_urls(self) -> list[Any]:
        custom = [
            path(
                "<int:level_id>/adjust/",
                self.admin_site.admin_view(stock_adjust_view),
                name="inventory_stocklevel_adjust",
            ),
            path(
                "import-count/",
                self.admin_site.admin_view(stock_count_import_view),
                name="inventory_stocklevel_import_count",
            ),
        ]
        return custom + super().get_urls()

    @admin.display(description="SKU", ordering="product__sku")
    def product_sku(self, level: StockLevel) -> str:
        return level.product.sku

    @admin.display(description="location", ordering="location__code")
    def location_code(self, level: StockLevel) -> str:
        return level.location.code

    @admin.display(description="ATP", ordering="atp_value")
    def atp(self, level: StockLevel) -> int:
        return int(getattr(level, "atp_value", level.atp))

    @admin.display(description="adjust")
    def adjust_link(self, level: StockLevel) -> str:
        url = reverse("admin:inventory_stocklevel_adjust", args=[level.pk])
        return format_html('<a href="{}">Adjust stock</a>', url)


class MovementSourceFilter(admin.SimpleListFilter):
    """By source family: a prefix match, so no DISTINCT over the whole ledger."""

    title = "source"
    parameter_name = "source"
    prefixes = {
        "admin": "Back office",
        "api": "API",
        "wms": "WMS feeds",
        "pos": "Store tills",
        "transfer": "Transfers",
    }

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [*self.prefixes.items(), ("none", "No source")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "none":
            return queryset.filter(source="")
        if self.value() in self.prefixes:
            return queryset.filter(source__startswith=self.value())
        return queryset


@admin.register(StockMovement)
class StockMovementAdmin(admin.ModelAdmin[StockMovement]):
    """The ledger: append-only in the database, read-only here."""

    list_display = (
        "id",
        "recorded_at",
        "kind",
        "stock_level",
        "delta_on_hand",
        "delta_reserved",
        "delta_damaged",
        "delta_quality_control",
        "delta_in_transit",
        "delta_incoming",
        "reason",
        "reference_type",
        "reference_id",
        "actor",
        "source",
    )
    list_filter = ("kind", MovementSourceFilter)
    list_select_related = ("stock_level__product", "stock_level__location")
    date_hierarchy = "recorded_at"
    search_fields = ("=reference_id", "reference_type", "stock_level__product__sku")
    show_full_result_count = False
    list_per_page = 100

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Reservation)
class ReservationAdmin(admin.ModelAdmin[Reservation]):
    list_display = (
        "id",
        "product",
        "location",
        "channel",
        "kind",
        "scope",
        "status",
        "quantity",
        "quantity_committed",
        "reference_type",
        "reference_id",
        "expires_at",
        "created_at",
    )
    list_filter = ("status", "kind", "scope", "channel")
    list_select_related = ("product", "location", "channel")
    search_fields = ("=reference_id", "product__sku", "location__code")
    actions = ["release"]
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_release_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("inventory.change_reservation")

    @admin.action(description="Release the selected active reservations", permissions=["release"])
    def release(self, request: HttpRequest, queryset: QuerySet[Reservation]) -> None:
        released = 0
        for reservation_id in queryset.filter(Q(status=Reservation.Status.ACTIVE)).values_list(
            "id", flat=True
        ):
            try:
                stock_release(
                    reservation_id=reservation_id,
                    reason="released in the back office",
                    actor=request.user.get_username(),
                )
            except ApplicationError as error:
                self.message_user(
                    request, f"Reservation {reservation_id}: {error.message}", messages.ERROR
                )
            else:
                released += 1
        self.message_user(request, f"{released} reservation(s) released.", messages.SUCCESS)


import inventory.admin_feeds  # noqa: E402, F401
from inventory import admin_master_data, admin_replenishment, admin_supply  # noqa: E402, F401
