from django.contrib import admin
from rest_framework_api_key.admin import APIKeyModelAdmin

from channels_app.models import Address, ChannelAPIKey, Customer, SalesChannel


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
