"""Back office for replenishment: rules, proposals to review (edit quantities, confirm,
discard), and a run on demand. Every write goes through ``inventory.services.replenishment*``.
Imported at the end of ``inventory.admin``."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import Count, QuerySet
from django.forms import ModelForm
from django.http import HttpRequest

from inventory.models import (
    ReplenishmentProposal,
    ReplenishmentProposalLine,
    ReplenishmentRule,
)
from inventory.services.replenishment import replenishment_propose
from inventory.services.replenishment_decisions import (
    replenishment_line_update,
    replenishment_proposal_confirm,
    replenishment_proposal_discard,
)
from omnilog.core.errors import ApplicationError


@admin.register(ReplenishmentRule)
class ReplenishmentRuleAdmin(admin.ModelAdmin[ReplenishmentRule]):
    list_display = (
        "location",
        "product",
        "category",
        "method",
        "min_quantity",
        "max_quantity",
        "reorder_point",
        "safety_stock",
        "review_cycle_days",
        "supplier",
        "source_location",
        "is_active",
        "last_reviewed_on",
    )
    list_filter = ("method", "is_active", "location", "supplier")
    search_fields = ("product__sku", "category", "location__code", "supplier__code")
    raw_id_fields = ("product",)
    list_select_related = ("location", "product", "supplier", "source_location")
    readonly_fields = ("last_reviewed_on",)
    actions = ["propose_now"]

    @admin.action(
        description="Propose now for the selected rules' locations", permissions=["change"]
    )
    def propose_now(self, request: HttpRequest, queryset: QuerySet[ReplenishmentRule]) -> None:
        codes = sorted(set(queryset.values_list("location__code", flat=True)))
        try:
            run = replenishment_propose(location_codes=codes, force=True)
        except ApplicationError as error:
            self.message_user(request, error.message, messages.ERROR)
            return
        self.message_user(
            request,
            f"{run.rules_reviewed} rule(s) reviewed at {', '.join(codes)}: {len(run.drafts)}"
            f" open proposal(s) written, {run.replaced} replaced.",
            messages.SUCCESS,
        )
        for message in run.skipped:
            self.message_user(request, f"Skipped: {message}", messages.WARNING)


class ReplenishmentProposalLineInline(admin.TabularInline[ReplenishmentProposalLine, Any]):
    model = ReplenishmentProposalLine
    fields = (
        "product",
        "quantity",
        "proposed_quantity",
        "position",
        "in_transit",
        "on_order",
        "average_daily_demand",
        "lead_time_days",
        "explanation",
    )
    readonly_fields = tuple(name for name in fields if name != "quantity")
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is not None and obj.status != ReplenishmentProposal.Status.OPEN:
            return self.fields
        return self.readonly_fields


@admin.register(ReplenishmentProposal)
class ReplenishmentProposalAdmin(admin.ModelAdmin[ReplenishmentProposal]):
    list_display = (
        "id",
        "kind",
        "status",
        "source",
        "location",
        "proposed_on",
        "line_count",
        "document_reference",
        "decided_by",
    )
    list_filter = ("status", "kind", "location", "supplier", "proposed_on")
    search_fields = ("=id", "document_reference", "lines__product__sku")
    list_select_related = ("location", "supplier", "source_location")
    readonly_fields = (
        "kind",
        "status",
        "location",
        "supplier",
        "source_location",
        "proposed_on",
        "note",
        "document_reference",
        "decided_by",
        "decided_at",
    )
    fields = readonly_fields
    inlines = [ReplenishmentProposalLineInline]
    actions = ["confirm", "discard"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[ReplenishmentProposal]:
        return super().get_queryset(request).annotate(lines_total=Count("lines"))

    @admin.display(description="source")
    def source(self, proposal: ReplenishmentProposal) -> str:
        return str(proposal.supplier or proposal.source_location)

    @admin.display(description="lines", ordering="lines_total")
    def line_count(self, proposal: ReplenishmentProposal) -> int:
        return getattr(proposal, "lines_total", 0)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(
        self,
        request: HttpRequest,
        obj: ReplenishmentProposal,
        form: ModelForm[ReplenishmentProposal],
        change: bool,
    ) -> None:
        pass  # every field of the proposal itself is read-only

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        # What the admin's change message reads (normally set by ``formset.save``).
        formset.new_objects, formset.deleted_objects, formset.changed_objects = [], [], []
        for line_form in formset.forms:
            if "quantity" not in line_form.changed_data:
                continue
            line = line_form.instance
            try:
                replenishment_line_update(
                    line_id=line.pk,
                    quantity=line_form.cleaned_data["quantity"],
                    actor=request.user.get_username(),
                )
            except ApplicationError as error:
                self.message_user(request, f"{line.product}: {error.message}", messages.ERROR)
            else:
                formset.changed_objects.append((line, ["quantity"]))

    def _decide(
        self, request: HttpRequest, queryset: QuerySet[ReplenishmentProposal], verb: str
    ) -> None:
        service = (
            replenishment_proposal_confirm
            if verb == "confirmed"
            else replenishment_proposal_discard
        )
        done = 0
        for proposal_id in queryset.order_by("pk").values_list("pk", flat=True):
            try:
                proposal = service(proposal_id=proposal_id, actor=request.user.get_username())
            except ApplicationError as error:
                self.message_user(
                    request, f"Proposal {proposal_id}: {error.message}", messages.ERROR
                )
                continue
            done += 1
            if proposal.document_reference:
                self.message_user(
                    request,
                    f"Proposal {proposal_id}: {proposal.get_kind_display().lower()}"
                    f" {proposal.document_reference} (draft).",
                    messages.INFO,
                )
        self.message_user(request, f"{done} proposal(s) {verb}.", messages.SUCCESS)

    @admin.action(
        description="Confirm: create the purchase orders / transfers", permissions=["change"]
    )
    def confirm(self, request: HttpRequest, queryset: QuerySet[ReplenishmentProposal]) -> None:
        self._decide(request, queryset, "confirmed")

    @admin.action(description="Discard the selected proposals", permissions=["change"])
    def discard(self, request: HttpRequest, queryset: QuerySet[ReplenishmentProposal]) -> None:
        self._decide(request, queryset, "discarded")
