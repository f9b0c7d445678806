"""Returns admin: RMAs (filters, search, lines inline, actions through the return services),
return policies, disposition rules, refunds and claims (read-only records).

Actions check the ``change`` permission and report each return's result or its
``ApplicationError`` message; refuse takes its reason and receive its location from the
action bar's fields.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.db.models import QuerySet
from django.http import HttpRequest

from inventory.models import Location
from omnilog.core.errors import ApplicationError
from returns.models import (
    Claim,
    ClaimLine,
    DispositionRule,
    Refund,
    ReturnLine,
    ReturnPolicy,
    ReturnRequest,
)
from returns.services.common import Actor
from returns.services.receiving import return_receive
from returns.services.requests import return_approve, return_refuse
from returns.services.settlement import return_close


class ReturnActionForm(ActionForm):
    reason = forms.CharField(max_length=300, required=False, help_text="For refuse.")
    location = forms.ModelChoiceField(
        queryset=Location.objects.filter(is_active=True).order_by("code"),
        required=False,
        help_text="For receive: where the parcel arrived.",
    )


class ReturnLineInline(admin.TabularInline[ReturnLine, ReturnRequest]):
    model = ReturnLine
    extra = 0
    can_delete = False
    fields = (
        "order_line",
        "quantity_requested",
        "quantity_approved",
        "quantity_received",
        "reason_code",
        "condition",
        "proposed_disposition",
        "proposed_location",
        "disposition",
        "disposition_location",
        "transfer",
        "refunded_amount",
    )
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class RefundInline(admin.TabularInline[Refund, ReturnRequest]):
    model = Refund
    fk_name = "return_request"
    extra = 0
    can_delete = False
    fields = ("reference", "amount", "currency", "document", "status", "external_reference")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ReturnRequest)
class ReturnRequestAdmin(admin.ModelAdmin[ReturnRequest]):
    list_display = (
        "number",
        "order",
        "status",
        "mode",
        "channel",
        "location",
        "received_location",
        "created_at",
    )
    list_filter = (
        "status",
        "mode",
        "channel",
        "location",
        "received_location",
        "lines__reason_code",
        "created_at",
    )
    search_fields = ("=number", "=order__number", "=order__customer_email", "tracking_number")
    list_select_related = ("order", "channel", "location", "received_location")
    date_hierarchy = "created_at"
    show_full_result_count = False
    inlines = (ReturnLineInline, RefundInline)
    action_form = ReturnActionForm
    actions = ("approve_returns", "refuse_returns", "receive_returns", "close_returns")
    readonly_fields = (
        "number",
        "order",
        "channel",
        "customer",
        "status",
        "mode",
        "location",
        "received_location",
        "relay_point_code",
        "carrier",
        "tracking_number",
        "exchange_order",
        "created_by",
        "source",
        "reason_note",
        "photo_urls",
        "refusal_reason",
        "approved_at",
        "received_at",
        "inspected_at",
        "dispositioned_at",
        "closed_at",
        "version",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # returns are opened through the API or the store desk (eligibility)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def _run(
        self,
        request: HttpRequest,
        queryset: QuerySet[ReturnRequest],
        verb: str,
        call: Callable[[int, Actor], Any],
    ) -> None:
        actor = Actor(name=f"staff:{request.user.get_username()}", source="admin")
        done = 0
        for pk, number in queryset.order_by("id").values_list("id", "number"):
            try:
                call(pk, actor)
            except ApplicationError as error:
                details = "; ".join(f"{e.field}: {e.message}" for e in error.field_errors)
                self.message_user(
                    request, f"{number}: {error.message} {details}".strip(), messages.ERROR
                )
            else:
                done += 1
        if done:
            self.message_user(request, f"{done} return(s) {verb}.", messages.SUCCESS)

    @admin.action(description="Approve (every requested unit)", permissions=["change"])
    def approve_returns(self, request: HttpRequest, queryset: QuerySet[ReturnRequest]) -> None:
        self._run(
            request,
            queryset,
            "approved",
            lambda pk, actor: return_approve(return_id=pk, actor=actor),
        )

    @admin.action(description="Refuse (with the reason above)", permissions=["change"])
    def refuse_returns(self, request: HttpRequest, queryset: QuerySet[ReturnRequest]) -> None:
        reason = (request.POST.get("reason") or "").strip()
        if not reason:
            self.message_user(request, "Give the reason to refuse.", messages.WARNING)
            return
        self._run(
            request,
            queryset,
            "refused",
            lambda pk, actor: return_refuse(return_id=pk, reason=reason, actor=actor),
        )

    @admin.action(
        description="Receive every approved unit (at the location above)", permissions=["change"]
    )
    def receive_returns(self, request: HttpRequest, queryset: QuerySet[ReturnRequest]) -> None:
        location = request.POST.get("location") or ""
        if not location.isdigit():
            self.message_user(request, "Choose the receiving location.", messages.WARNING)
            return
        self._run(
            request,
            queryset,
            "received",
            lambda pk, actor: return_receive(return_id=pk, location_id=int(location), actor=actor),
        )

    @admin.action(description="Close", permissions=["change"])
    def close_returns(self, request: HttpRequest, queryset: QuerySet[ReturnRequest]) -> None:
        self._run(
            request, queryset, "closed", lambda pk, actor: return_close(return_id=pk, actor=actor)
        )


@admin.register(ReturnPolicy)
class ReturnPolicyAdmin(admin.ModelAdmin[ReturnPolicy]):
    list_display = (
        "__str__",
        "channel",
        "category",
        "product",
        "window_days",
        "is_returnable",
        "restocking_fee_percent",
        "shipping_refund_rule",
        "is_auto_approved",
        "is_active",
    )
    list_filter = ("channel", "is_returnable", "is_auto_approved", "is_active")
    search_fields = ("category", "product__sku")
    raw_id_fields = ("product",)


@admin.register(DispositionRule)
class DispositionRuleAdmin(admin.ModelAdmin[DispositionRule]):
    list_display = (
        "name",
        "priority",
        "action",
        "target_location",
        "target_location_kind",
        "requires_wanted_here",
        "is_active",
    )
    list_editable = ("priority", "is_active")
    list_filter = ("action", "is_active")
    search_fields = ("name",)


@admin.register(Refund)
class RefundAdmin(admin.ModelAdmin[Refund]):
    list_display = (
        "reference",
        "order",
        "return_request",
        "claim",
        "amount",
        "currency",
        "document",
        "status",
        "requested_at",
    )
    list_filter = ("status", "document", "currency")
    search_fields = ("=reference", "=external_reference", "=order__number")
    list_select_related = ("order", "return_request", "claim")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # the payment system's confirmation settles refunds

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ClaimLineInline(admin.TabularInline[ClaimLine, Claim]):
    model = ClaimLine
    extra = 0
    can_delete = False
    readonly_fields = ("order_line", "quantity")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Claim)
class ClaimAdmin(admin.ModelAdmin[Claim]):
    list_display = ("number", "order", "kind", "resolution", "status", "created_at")
    list_filter = ("status", "kind", "resolution")
    search_fields = ("=number", "=order__number")
    list_select_related = ("order",)
    inlines = (ClaimLineInline,)
    readonly_fields = (
        "number",
        "order",
        "channel",
        "shipment",
        "kind",
        "resolution",
        "status",
        "replacement_order",
        "refusal_reason",
        "created_by",
        "resolved_at",
        "version",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
