"""Returns admin: RMAs (filters, search, lines inline, actions through the return services),
return policies, disposition rules, refunds (read-only records) and claims (lines, refunds and
the replacement order shown; actions through the claim services).

Actions check the ``change`` permission (``returns.change_returnrequest``,
``returns.change_claim``) and report each row's result or its ``ApplicationError`` message
(each row is its own transaction: a refused one changes nothing). Inputs come from the action
bar's fields: the refusal reason, the receiving location, the note added on resolving a claim.
Those fields are optional in the form (an invalid action form would only say "No action
selected"): each action checks what it needs and says what is missing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

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
from returns.services.claims import (
    MAX_NOTE,
    claim_refund_request,
    claim_refuse,
    claim_resolve,
)
from returns.services.common import Actor
from returns.services.receiving import return_receive
from returns.services.requests import return_approve, return_refuse
from returns.services.settlement import return_close

MAX_REASON = 300  # ReturnRequest.refusal_reason, Claim.refusal_reason


def _reason_field() -> forms.CharField:
    # No max_length validator: an invalid action form only says "No action selected"; the
    # browser's maxlength stops typing and the action itself refuses a longer reason clearly.
    return forms.CharField(
        required=False,
        widget=forms.TextInput(attrs={"maxlength": MAX_REASON}),
        help_text=f"For refuse (at most {MAX_REASON} characters).",
    )


class ReturnActionForm(ActionForm):
    reason = _reason_field()
    location = forms.ModelChoiceField(
        queryset=Location.objects.filter(is_active=True).order_by("code"),
        required=False,
        help_text="For receive: where the parcel arrived.",
    )


def _actor(request: HttpRequest) -> Actor:
    return Actor(name=f"staff:{request.user.get_username()}", source="admin")


def _text_input(request: HttpRequest, name: str, *, max_length: int) -> str | None:
    """The action bar's ``name`` field, stripped; None (and a message) when too long."""
    value = (request.POST.get(name) or "").strip()
    if len(value) > max_length:
        messages.warning(
            request, f"The {name} is too long: at most {max_length} characters ({len(value)})."
        )
        return None
    return value


class ServiceActionsMixin:
    """Runs an action's service call for each selected row (by id, with its ``number``)."""

    action_noun = "row(s)"

    def _run(
        self,
        request: HttpRequest,
        queryset: QuerySet[Any],
        verb: str,
        call: Callable[[int, Actor], Any],
    ) -> None:
        actor = _actor(request)
        done = 0
        for pk, number in queryset.order_by("id").values_list("id", "number"):
            try:
                call(pk, actor)
            except ApplicationError as error:
                details = "; ".join(f"{e.field}: {e.message}" for e in error.field_errors)
                messages.error(request, f"{number}: {error.message} {details}".strip())
            else:
                done += 1
        if done:
            messages.success(request, f"{done} {self.action_noun} {verb}.")

    def _refuse(
        self,
        request: HttpRequest,
        queryset: QuerySet[Any],
        refuse: Callable[[int, str, Actor], Any],
    ) -> None:
        """Refuse each row with the action bar's reason (required, at most 300 characters)."""
        reason = _text_input(request, "reason", max_length=MAX_REASON)
        if reason == "":
            messages.warning(request, "Give the reason to refuse.")
        if not reason:
            return
        self._run(request, queryset, "refused", lambda pk, actor: refuse(pk, reason, actor))


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
    fields = (
        "reference",
        "amount",
        "currency",
        "document",
        "status",
        "external_reference",
    )
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ReturnRequest)
class ReturnRequestAdmin(ServiceActionsMixin, admin.ModelAdmin[ReturnRequest]):
    action_noun = "return(s)"
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
        self._refuse(
            request,
            queryset,
            lambda pk, reason, actor: return_refuse(return_id=pk, reason=reason, actor=actor),
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
    fields = ("order_line", "sku", "quantity")
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[ClaimLine]:
        return super().get_queryset(request).select_related("order_line")

    @admin.display(description="SKU")
    def sku(self, obj: ClaimLine) -> str:
        return obj.order_line.sku

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ClaimRefundInline(admin.TabularInline[Refund, Claim]):
    model = Refund
    fk_name = "claim"
    extra = 0
    can_delete = False
    fields = (
        "reference",
        "amount",
        "shipping_amount",
        "currency",
        "document",
        "status",
        "requested_at",
        "external_reference",
        "failure_reason",
    )
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ClaimActionForm(ActionForm):
    reason = _reason_field()
    note = forms.CharField(
        required=False,
        widget=forms.TextInput(attrs={"maxlength": MAX_NOTE}),
        help_text="For resolve: added to the claim's notes.",
    )


@admin.register(Claim)
class ClaimAdmin(ServiceActionsMixin, admin.ModelAdmin[Claim]):
    action_noun = "claim(s)"
    list_display = (
        "number",
        "order",
        "order_channel",
        "kind",
        "resolution",
        "status",
        "replacement_order_link",
        "created_at",
    )
    # The order's sales channel (``channel`` is the one whose key opened the claim, if any).
    list_filter = ("status", "kind", "resolution", "order__channel", "created_at")
    search_fields = ("=number", "=order__number", "=order__customer_email")
    list_select_related = ("order__channel", "replacement_order")
    date_hierarchy = "created_at"
    show_full_result_count = False
    inlines = (ClaimLineInline, ClaimRefundInline)
    action_form = ClaimActionForm
    actions = ("resolve_reship", "resolve_refund", "refuse_claims", "request_refund_again")
    fields = (
        "number",
        "order",
        "channel",
        "shipment",
        "kind",
        "resolution",
        "status",
        "replacement_order_link",
        "notes",
        "photo_urls",
        "refusal_reason",
        "created_by",
        "created_at",
        "resolved_at",
        "version",
    )
    readonly_fields = fields  # every change goes through the actions (the claim services)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # claims are opened through the API (the parcel's tracking number)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="Channel", ordering="order__channel__code")
    def order_channel(self, obj: Claim) -> str:
        return str(obj.order.channel)

    @admin.display(description="Replacement order", ordering="replacement_order__number")
    def replacement_order_link(self, obj: Claim) -> str:
        if obj.replacement_order is None:
            return "-"
        url = reverse("admin:orders_order_change", args=[obj.replacement_order_id])
        return format_html('<a href="{}">{}</a>', url, obj.replacement_order.number)

    def _resolve(
        self, request: HttpRequest, queryset: QuerySet[Claim], resolution: str, verb: str
    ) -> None:
        note = _text_input(request, "note", max_length=MAX_NOTE)
        if note is None:
            return
        self._run(
            request,
            queryset,
            verb,
            lambda pk, actor: claim_resolve(
                claim_id=pk, actor=actor, resolution=resolution, note=note
            ),
        )

    @admin.action(
        description="Resolve by reshipping (a free replacement order, reserved at once)",
        permissions=["change"],
    )
    def resolve_reship(self, request: HttpRequest, queryset: QuerySet[Claim]) -> None:
        self._resolve(request, queryset, Claim.Resolution.RESHIP, "resolved by reshipping")

    @admin.action(
        description="Resolve by refund (requested from the payment system)", permissions=["change"]
    )
    def resolve_refund(self, request: HttpRequest, queryset: QuerySet[Claim]) -> None:
        self._resolve(request, queryset, Claim.Resolution.REFUND, "resolved by refund")

    @admin.action(description="Refuse (with the reason above)", permissions=["change"])
    def refuse_claims(self, request: HttpRequest, queryset: QuerySet[Claim]) -> None:
        self._refuse(
            request,
            queryset,
            lambda pk, reason, actor: claim_refuse(claim_id=pk, reason=reason, actor=actor),
        )

    @admin.action(description="Request a failed refund again", permissions=["change"])
    def request_refund_again(self, request: HttpRequest, queryset: QuerySet[Claim]) -> None:
        self._run(
            request,
            queryset,
            "sent to the payment system again",
            lambda pk, actor: claim_refund_request(claim_id=pk, actor=actor),
        )
