from django.contrib import admin
from rest_framework_api_key.admin import APIKeyModelAdmin

from channels_app.models import (
    Address,
    ChannelAPIKey,
    Customer,
    PriceList,
    PriceListItem,
    Promotion,
    SalesChannel,
    TaxRate,
)


@admin.register(SalesChannel)
class SalesChannelAdmin(admin.ModelAdmin[SalesChannel]):
    list_display = ("code", "name", "kind", "currency", "country", "rationing_percent", "is_active")
    list_filter = ("kind", "is_active", "country")
    search_fields = ("code", "name")


@admin.register(ChannelAPIKey)
class ChannelAPIKeyAdmin(APIKeyModelAdmin):
    list_display = (*APIKeyModelAdmin.list_display, "channel")  # type: ignore[assignment]
    list_filter = (*APIKeyModelAdmin.list_filter, "channel")  # type: ignore[assignment]
    search_fields = (*APIKeyModelAdmin.search_fields, "channel__code")  # type: ignore[assignment]


class AddressInline(admin.TabularInline[Address, Customer]):
    model = Address
    extra = 0


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin[Customer]):
    list_display = ("id", "email", "first_name", "last_name", "company_name", "first_channel")
    list_filter = ("first_channel",)
    search_fields = ("email", "phone", "loyalty_id", "last_name", "company_name", "vat_number")
    inlines = [AddressInline]
    show_full_result_count = False


class PriceListItemInline(admin.TabularInline[PriceListItem, PriceList]):
    model = PriceListItem
    extra = 0
    fields = ("sku", "min_quantity", "unit_price")
    ordering = ("sku", "min_quantity")
    show_change_link = False


@admin.register(PriceList)
class PriceListAdmin(admin.ModelAdmin[PriceList]):
    list_display = (
        "code",
        "name",
        "currency",
        "channel",
        "customer",
        "priority",
        "prices_include_tax",
        "valid_from",
        "valid_until",
        "is_active",
    )
    list_filter = ("is_active", "currency", "prices_include_tax", "channel")
    search_fields = ("code", "name", "customer__company_name", "customer__email")
    raw_id_fields = ("customer",)
    list_select_related = ("channel", "customer")
    inlines = [PriceListItemInline]


@admin.register(Promotion)
class PromotionAdmin(admin.ModelAdmin[Promotion]):
    list_display = (
        "code",
        "name",
        "kind",
        "target",
        "value",
        "coupon_code",
        "priority",
        "is_exclusive",
        "stacking_group",
        "starts_at",
        "ends_at",
        "is_active",
    )
    list_filter = ("is_active", "kind", "target", "channels", "customer_segment", "is_exclusive")
    search_fields = ("code", "name", "coupon_code")
    filter_horizontal = ("channels",)
    readonly_fields = ("times_used",)
    fieldsets = (
        (None, {"fields": ("code", "name", "is_active", "kind", "target", "value", "currency")}),
        ("Targets", {"fields": ("skus", "categories", "buy_quantity", "get_quantity")}),
        (
            "Conditions",
            {
                "fields": (
                    "coupon_code",
                    "starts_at",
                    "ends_at",
                    "channels",
                    "customer_segment",
                    "min_cart_amount",
                    "usage_limit",
                    "times_used",
                )
            },
        ),
        ("Stacking", {"fields": ("priority", "is_exclusive", "stacking_group")}),
    )


@admin.register(TaxRate)
class TaxRateAdmin(admin.ModelAdmin[TaxRate]):
    list_display = ("country", "tax_class", "rate")
    list_filter = ("country",)
    search_fields = ("country", "tax_class")
