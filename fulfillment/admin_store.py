"""Admin for the store screens' data: store staff and roles, store policies, pickup codes (the
digest is never shown; a new code can be sent) and handovers (read-only records).

Loaded from ``fulfillment.admin``.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from fulfillment.models_store import Handover, HandoverLine, PickupCode, StorePolicy, StoreStaff
from fulfillment.services.pickup_codes import pickup_code_issue
from omnilog.core.errors import ApplicationError


@admin.register(StoreStaff)
class StoreStaffAdmin(admin.ModelAdmin[StoreStaff]):
    list_display = ("user", "location", "role", "created_at")
    list_filter = ("role", "location")
    search_fields = ("user__username", "user__email", "location__code", "location__name")
    list_select_related = ("user", "location")
    raw_id_fields = ("user",)


@admin.register(StorePolicy)
class StorePolicyAdmin(admin.ModelAdmin[StorePolicy]):
    list_display = (
        "location",
        "slot_minutes",
        "slot_capacity",
        "preparation_minutes",
        "no_show_reminder_days",
        "no_show_cancel_days",
        "curbside_bays",
        "code_max_attempts",
        "code_valid_days",
    )
    search_fields = ("location__code", "location__name")
    list_select_related = ("location",)


@admin.register(PickupCode)
class PickupCodeAdmin(admin.ModelAdmin[PickupCode]):
    """Codes are secrets: only their state is shown (never the digest)."""

    list_display = (
        "fulfillment_order",
        "expires_at",
        "failed_attempts",
        "locked_at",
        "used_at",
        "reminded_at",
    )
    list_filter = ("fulfillment_order__location",)
    search_fields = ("fulfillment_order__order__number",)
    fields = (
        "fulfillment_order",
        "expires_at",
        "failed_attempts",
        "locked_at",
        "used_at",
        "reminded_at",
        "created_at",
        "updated_at",
    )
    readonly_fields = fields
    list_select_related = ("fulfillment_order__location",)
    actions = ("send_new_code",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description="Send the customer a new code (unlocks)", permissions=["change"])
    def send_new_code(self, request: HttpRequest, queryset: QuerySet[PickupCode]) -> None:
        actor = f"admin:{request.user.get_username()}"
        sent = 0
        for fulfillment_order_id in queryset.values_list("fulfillment_order_id", flat=True):
            try:
                pickup_code_issue(fulfillment_order_id=fulfillment_order_id, actor=actor)
                sent += 1
            except ApplicationError as error:
                self.message_user(
                    request, f"FO-{fulfillment_order_id}: {error.message}", messages.ERROR
                )
        if sent:
            self.message_user(request, f"{sent} new code(s) sent.", messages.SUCCESS)


class HandoverLineInline(admin.TabularInline[HandoverLine, Handover]):
    model = HandoverLine
    fields = ("fulfillment_order_line", "quantity")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Handover | None = None) -> bool:
        return False


@admin.register(Handover)
class HandoverAdmin(admin.ModelAdmin[Handover]):
    """What the counter recorded: read-only."""

    list_display = (
        "id",
        "fulfillment_order",
        "relation",
        "collector_name",
        "id_checked",
        "curbside_bay",
        "actor",
        "created_at",
    )
    list_filter = ("relation", "id_checked", "fulfillment_order__location")
    search_fields = ("fulfillment_order__order__number", "collector_name", "actor")
    list_select_related = ("fulfillment_order__location",)
    inlines = (HandoverLineInline,)
    readonly_fields = (
        "fulfillment_order",
        "actor",
        "relation",
        "collector_name",
        "proxy_relation",
        "id_checked",
        "curbside_bay",
        "created_at",
    )
    fields = readonly_fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Handover | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Handover | None = None) -> bool:
        return False
