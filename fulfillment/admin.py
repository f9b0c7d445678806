"""Fulfillment admin: rule sets (versioned, drafts for what-if), location groups, routing
decisions (read-only), fulfillment orders (accept / reject through the services), and the
"Why this store?" panel on the order page.

``orders`` cannot import ``fulfillment`` (layers), so the order page's panel is added from here:
the order admin is re-registered as a subclass of ``orders.admin.OrderAdmin`` with one more
read-only field.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.db.models import QuerySet
from django.forms import BaseInlineFormSet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

import orders.admin as orders_admin
from channels_app.models import SalesChannel
from fulfillment.admin_why import decision_html, decisions_html
from fulfillment.models import (
    FulfillmentOrder,
    FulfillmentOrderLine,
    LocationGroup,
    RoutingDecision,
    RoutingRule,
    RoutingRuleSet,
)
from fulfillment.services.fulfillment_orders import (
    fulfillment_order_accept,
    fulfillment_order_reject,
)
from fulfillment.services.rule_sets import routing_rule_set_version_bump
from fulfillment.services.whatif import routing_whatif
from fulfillment.statuses import OPEN
from omnilog.core.errors import ApplicationError
from orders.models import Order

WHY_DECISIONS = 5  # the latest decisions shown on the order page
# The admin's what-if runs in the request (a few seconds at most); longer periods belong to
# ``manage.py routing_whatif``, which shows a progress bar.
WHATIF_ADMIN_MAX_ORDERS = 5_000


class WhatIfForm(forms.Form):
    since = forms.DateField(help_text="First day placed (YYYY-MM-DD), included.")
    until = forms.DateField(help_text="Last day placed (YYYY-MM-DD), included.")
    channel = forms.ModelChoiceField(
        queryset=SalesChannel.objects.order_by("code"), required=False, empty_label="All"
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        since, until = data.get("since"), data.get("until")
        if since and until and until < since:
            self.add_error("until", "Must be on or after since.")
        return data


@admin.register(LocationGroup)
class LocationGroupAdmin(admin.ModelAdmin[LocationGroup]):
    list_display = ("name", "description")
    search_fields = ("name",)
    filter_horizontal = ("locations",)


class RoutingRuleInline(admin.TabularInline[RoutingRule, RoutingRuleSet]):
    model = RoutingRule
    extra = 0
    fields = (
        "position",
        "name",
        "location_kinds",
        "location_groups",
        "max_distance_km",
        "require_ship_from_store",
        "require_capacity",
        "respect_safety_stock",
        "split",
        "max_locations",
        "on_failure",
        "cancel_after_days",
    )


@admin.register(RoutingRuleSet)
class RoutingRuleSetAdmin(admin.ModelAdmin[RoutingRuleSet]):
    list_display = ("name", "priority", "version", "is_active", "is_draft", "updated_at")
    list_filter = ("is_active", "is_draft")
    search_fields = ("name",)
    readonly_fields = ("version",)
    inlines = (RoutingRuleInline,)
    actions = ("whatif",)

    @admin.action(
        description="What-if: replay a period against the selected draft",
        permissions=["change"],
    )
    def whatif(
        self, request: HttpRequest, queryset: QuerySet[RoutingRuleSet]
    ) -> HttpResponse | None:
        """Synchronous (bounded by ``WHATIF_ADMIN_MAX_ORDERS``): the form, then the table."""
        selected = list(queryset[:2])
        if len(selected) != 1 or not selected[0].is_draft:
            self.message_user(request, "Select exactly one draft rule set.", messages.ERROR)
            return None
        rule_set = selected[0]
        form = WhatIfForm(request.POST if "confirm" in request.POST else None)
        report = None
        if "confirm" in request.POST and form.is_valid():
            channel = form.cleaned_data["channel"]
            try:
                report = routing_whatif(
                    draft_rule_set_id=rule_set.pk,
                    since=form.cleaned_data["since"],
                    until=form.cleaned_data["until"],
                    channel_id=channel.pk if channel is not None else None,
                    max_orders=WHATIF_ADMIN_MAX_ORDERS,
                )
            except ApplicationError as error:
                form.add_error(None, error.message)
        return TemplateResponse(
            request,
            "admin/fulfillment/routingruleset/whatif.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "title": f"What-if: {rule_set.name}",
                "rule_set": rule_set,
                "form": form,
                "report": report,
                "rows": report.rows() if report is not None else [],
                "max_orders": WHATIF_ADMIN_MAX_ORDERS,
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            },
        )

    def save_related(
        self, request: HttpRequest, form: forms.ModelForm[Any], formsets: Any, change: bool
    ) -> None:
        super().save_related(request, form, formsets, change)
        changed = form.has_changed() or any(
            isinstance(formset, BaseInlineFormSet) and formset.has_changed() for formset in formsets
        )
        if change and changed:
            # Decisions record the version they ran with: every edit makes a new one.
            form.instance.version = routing_rule_set_version_bump(rule_set_id=form.instance.pk)


@admin.register(RoutingDecision)
class RoutingDecisionAdmin(admin.ModelAdmin[RoutingDecision]):
    list_display = (
        "id",
        "order",
        "order_version",
        "trigger",
        "outcome",
        "rule_set",
        "rule_set_version",
        "rule",
        "total_cost",
        "duration_ms",
        "created_at",
    )
    list_filter = ("outcome", "trigger", "rule_set", "created_at")
    search_fields = ("=order__number",)
    list_select_related = ("order",)
    show_full_result_count = False
    fields = ("order", "why")
    readonly_fields = ("order", "why")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="Why")
    def why(self, obj: RoutingDecision) -> SafeString:
        return decision_html(obj)


class FulfillmentOrderLineInline(admin.TabularInline[FulfillmentOrderLine, FulfillmentOrder]):
    model = FulfillmentOrderLine
    extra = 0
    fields = (
        "id",
        "order_line",
        "quantity",
        "quantity_rejected",
        "rejection_reason",
        "reservation",
    )
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[FulfillmentOrderLine]:
        return super().get_queryset(request).select_related("order_line", "reservation")


class RejectActionForm(ActionForm):
    reason = forms.CharField(required=False, max_length=200, help_text="Reason for reject")


@admin.register(FulfillmentOrder)
class FulfillmentOrderAdmin(admin.ModelAdmin[FulfillmentOrder]):
    list_display = ("id", "order", "location", "status", "accept_by", "created_at")
    list_filter = ("status", "location")
    search_fields = ("=order__number",)
    list_select_related = ("order", "location")
    show_full_result_count = False
    inlines = (FulfillmentOrderLineInline,)
    action_form = RejectActionForm
    actions = ("accept_orders", "reject_orders")
    fields = (
        "order",
        "location",
        "status",
        "delivery_mode",
        "routing_decision",
        "accept_by",
        "accepted_at",
        "cancel_reason",
    )
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def _run(self, request: HttpRequest, queryset: QuerySet[FulfillmentOrder], call: Any) -> int:
        done = 0
        for fulfillment_order in queryset.order_by("id"):
            try:
                call(fulfillment_order)
                done += 1
            except ApplicationError as error:
                self.message_user(
                    request, f"FO-{fulfillment_order.pk}: {error.message}", messages.ERROR
                )
        return done

    @admin.action(description="Accept selected fulfillment orders", permissions=["change"])
    def accept_orders(self, request: HttpRequest, queryset: QuerySet[FulfillmentOrder]) -> None:
        actor = request.user.get_username()
        done = self._run(
            request,
            queryset,
            lambda fo: fulfillment_order_accept(fulfillment_order_id=fo.pk, actor=actor),
        )
        self.message_user(request, f"{done} fulfillment order(s) accepted.", messages.SUCCESS)

    @admin.action(
        description="Reject every open line of the selected (re-routes the orders)",
        permissions=["change"],
    )
    def reject_orders(self, request: HttpRequest, queryset: QuerySet[FulfillmentOrder]) -> None:
        actor = request.user.get_username()
        reason = (request.POST.get("reason") or "").strip() or "rejected in the back office"

        def reject(fulfillment_order: FulfillmentOrder) -> None:
            lines = [
                (line.pk, line.quantity_open, reason)
                for line in fulfillment_order.lines.order_by("id")
                if line.quantity_open > 0
            ]
            fulfillment_order_reject(
                fulfillment_order_id=fulfillment_order.pk, lines=lines, actor=actor
            )

        done = self._run(request, queryset, reject)
        self.message_user(request, f"{done} fulfillment order(s) rejected.", messages.SUCCESS)


class RoutedOrderAdmin(orders_admin.OrderAdmin):
    """The orders app's admin, plus routing: its fulfillment orders and "Why this store?"."""

    readonly_fields = (  # type: ignore[assignment]
        *orders_admin.OrderAdmin.readonly_fields,
        "fulfillment",
        "routing_why",
    )
    fieldsets = (  # type: ignore[assignment]
        *orders_admin.OrderAdmin.fieldsets,
        ("Fulfillment", {"fields": ("fulfillment",)}),
        ("Why this store?", {"fields": ("routing_why",)}),
    )

    @admin.display(description="Fulfillment orders")
    def fulfillment(self, obj: Order) -> SafeString:
        rows = FulfillmentOrder.objects.filter(order=obj).select_related("location").order_by("id")
        body = format_html_join(
            "",
            "<tr><td>FO-{}</td><td>{}</td><td>{}{}</td><td>{}</td><td>#{}</td></tr>",
            (
                (
                    fo.pk,
                    fo.location.code,
                    fo.status,
                    "" if fo.status not in OPEN else " (open)",
                    fo.accept_by.strftime("%Y-%m-%d %H:%M"),
                    fo.routing_decision_id,
                )
                for fo in rows
            ),
        )
        if not body:
            return format_html("<p>{}</p>", "No fulfillment order.")
        return format_html(
            "<table><thead><tr><th>FO</th><th>Location</th><th>Status</th><th>Accept by</th>"
            "<th>Decision</th></tr></thead><tbody>{}</tbody></table>",
            body,
        )

    @admin.display(description="Routing decisions (latest first)")
    def routing_why(self, obj: Order) -> SafeString:
        return decisions_html(
            list(RoutingDecision.objects.filter(order=obj).order_by("-id")[:WHY_DECISIONS])
        )


admin.site.unregister(Order)
admin.site.register(Order, RoutedOrderAdmin)

# Picking, packing and documents (a separate module: this one stays about routing).
import fulfillment.admin_picking  # noqa: E402
import fulfillment.admin_shipping  # noqa: E402
import fulfillment.admin_store  # noqa: E402, F401
