"""Back office for the supply side: suppliers (with what they sell), purchase orders (create,
send, confirm, cancel, close short, receive by scan), shipping notices, receipts, preorders.

Every stock-relevant change calls ``inventory.services.supply`` / ``receiving``; the admin
only renders and validates forms. Lines of a draft are edited through
``purchase_order_lines_update`` (same rules as creation); after that they are read-only.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from inventory.models import (
    AdvanceShippingNotice,
    AdvanceShippingNoticeLine,
    PreorderAllocation,
    Product,
    PurchaseOrder,
    PurchaseOrderLine,
    Receipt,
    ReceiptLine,
    Supplier,
    SupplierProduct,
)
from inventory.services.receiving import Scan, receipt_post
from inventory.services.supply import (
    purchase_order_cancel,
    purchase_order_close,
    purchase_order_confirm,
    purchase_order_create,
    purchase_order_lines_check,
    purchase_order_lines_update,
    purchase_order_send,
)
from inventory.supply_statuses import INCOMING
from omnilog.core.errors import ApplicationError

Status = PurchaseOrder.Status


class ReadOnlyAdmin(admin.ModelAdmin[Any]):
    """Records written by services only."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline[Any, Any]):
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# --- suppliers -----------------------------------------------------------------------------


class SupplierProductInline(admin.TabularInline[SupplierProduct, Supplier]):
    model = SupplierProduct
    extra = 1
    autocomplete_fields = ("product",)
    fields = ("product", "supplier_sku", "pack_size", "cost", "currency", "is_preferred")


@admin.register(Supplier)
class SupplierAdmin(admin.ModelAdmin[Supplier]):
    list_display = (
        "code",
        "name",
        "lead_time_days",
        "order_weekdays",
        "minimum_order_value",
        "currency",
        "is_active",
    )
    list_filter = ("is_active", "currency")
    search_fields = ("code", "name", "email", "contact_name")
    inlines = (SupplierProductInline,)


# --- purchase orders -----------------------------------------------------------------------


class PurchaseOrderAddForm(forms.ModelForm[PurchaseOrder]):
    """Header fields plus the lines as text: ``SKU QUANTITY [YYYY-MM-DD]`` per line."""

    lines_text = forms.CharField(
        label="Lines",
        widget=forms.Textarea(attrs={"rows": 8, "cols": 60}),
        help_text="One line per product: SKU QUANTITY [expected date YYYY-MM-DD].",
    )

    class Meta:
        model = PurchaseOrder
        fields = ("supplier", "location", "reference", "expected_date", "note")

    def clean_lines_text(self) -> list[tuple[Product, int, date | None]]:
        parsed: list[tuple[str, int, date | None]] = []
        for number, raw in enumerate(self.cleaned_data["lines_text"].splitlines(), start=1):
            parts = raw.split()
            if not parts:
                continue
            try:
                quantity = int(parts[1]) if len(parts) > 1 else 0
                day = date.fromisoformat(parts[2]) if len(parts) > 2 else None
            except ValueError as error:
                raise forms.ValidationError(f"Line {number}: {error}.") from error
            if len(parts) > 3 or quantity <= 0:
                raise forms.ValidationError(f"Line {number}: write SKU QUANTITY [YYYY-MM-DD].")
            parsed.append((parts[0], quantity, day))
        products = {p.sku: p for p in Product.objects.filter(sku__in=[p[0] for p in parsed])}
        unknown = [sku for sku, _, _ in parsed if sku not in products]
        if unknown:
            raise forms.ValidationError(f"Unknown SKU(s): {', '.join(unknown)}.")
        return [(products[sku], quantity, day) for sku, quantity, day in parsed]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("supplier") and data.get("location") and "lines_text" in data:
            errors, _ = purchase_order_lines_check(
                supplier=data["supplier"], location=data["location"], lines=data["lines_text"]
            )
            for error in errors:
                field = error.field if error.field in ("supplier", "location") else "lines_text"
                prefix = "" if field != "lines_text" else f"{error.field}: "
                self.add_error(field, f"{prefix}{error.message}")
        return data


class PurchaseOrderLineInline(admin.TabularInline[PurchaseOrderLine, PurchaseOrder]):
    model = PurchaseOrderLine
    extra = 0
    can_delete = False
    fields = (
        "line_number",
        "product",
        "supplier_sku",
        "quantity_ordered",
        "expected_date",
        "quantity_confirmed",
        "quantity_received",
        "quantity_damaged",
        "quantity_preordered",
        "unit_cost",
        "is_closed",
    )

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        editable = {"quantity_ordered", "expected_date"}
        if obj is not None and obj.status == Status.DRAFT:
            return [name for name in self.fields if name not in editable]
        return self.fields


def _action(
    label: str, call: Callable[[PurchaseOrder, str], object]
) -> Callable[[Any, HttpRequest, QuerySet[PurchaseOrder]], None]:
    """An admin action calling one service per selected order, reporting each refusal."""

    def run(model_admin: Any, request: HttpRequest, queryset: QuerySet[PurchaseOrder]) -> None:
        done = 0
        for purchase_order in queryset.order_by("id"):
            try:
                call(purchase_order, request.user.get_username())
            except ApplicationError as error:
                model_admin.message_user(
                    request, f"{purchase_order.number}: {error.message}", messages.ERROR
                )
            else:
                done += 1
        if done:
            model_admin.message_user(request, f"{done} order(s) {label}.", messages.SUCCESS)

    return run


@admin.register(PurchaseOrder)
class PurchaseOrderAdmin(admin.ModelAdmin[PurchaseOrder]):
    list_display = (
        "number",
        "supplier",
        "location",
        "status",
        "expected_date",
        "line_count",
        "created_at",
        "receive_link",
    )
    list_filter = (
        "status",
        "supplier",
        "location",
        ("lines__expected_date", admin.DateFieldListFilter),
    )
    search_fields = (
        "number",
        "reference",
        "supplier_reference",
        "supplier__code",
        "lines__product__sku",
    )
    list_select_related = ("supplier", "location")
    inlines = (PurchaseOrderLineInline,)
    actions = ("send", "confirm", "cancel", "close_short")
    readonly_fields = (
        "number",
        "status",
        "currency",
        "created_by",
        "sent_at",
        "confirmed_at",
        "received_at",
        "cancelled_at",
        "close_reason",
        "version",
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[PurchaseOrder]:
        return super().get_queryset(request).annotate(lines_total=Count("lines", distinct=True))

    def get_form(
        self,
        request: HttpRequest,
        obj: PurchaseOrder | None = None,
        change: bool = False,
        **kwargs: Any,
    ) -> Any:
        if obj is None:
            kwargs["form"] = PurchaseOrderAddForm
        return super().get_form(request, obj, change, **kwargs)

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return [(None, {"fields": [*PurchaseOrderAddForm.Meta.fields, "lines_text"]})]
        return super().get_fieldsets(request, obj)

    def get_inlines(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.inlines if obj is not None else ()

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is not None and obj.status != Status.DRAFT:
            return (*self.readonly_fields, "supplier", "location", "expected_date", "reference")
        return self.readonly_fields

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # cancel instead: the history stays

    def save_model(self, request: HttpRequest, obj: PurchaseOrder, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        try:
            created = purchase_order_create(
                supplier=form.cleaned_data["supplier"],
                location=form.cleaned_data["location"],
                lines=form.cleaned_data["lines_text"],
                actor=request.user.get_username(),
                reference=form.cleaned_data["reference"],
                expected_date=form.cleaned_data["expected_date"],
                note=form.cleaned_data["note"],
            )
        except ApplicationError as error:
            self.message_user(request, _describe(error), messages.ERROR)
            raise _Refused from error
        obj.pk = created.pk
        obj.number = created.number

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        changes = [
            (line.pk, line.quantity_ordered, line.expected_date)
            for line in formset.save(commit=False)
        ]
        if changes:
            try:
                purchase_order_lines_update(
                    purchase_order_id=form.instance.pk,
                    changes=changes,
                    actor=request.user.get_username(),
                )
            except ApplicationError as error:
                self.message_user(request, _describe(error), messages.ERROR)

    def add_view(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return super().add_view(request, *args, **kwargs)
        except _Refused:
            return HttpResponseRedirect(request.get_full_path())

    @admin.display(description="lines", ordering="lines_total")
    def line_count(self, purchase_order: PurchaseOrder) -> int:
        return int(getattr(purchase_order, "lines_total", 0))

    @admin.display(description="receive")
    def receive_link(self, purchase_order: PurchaseOrder) -> str:
        if purchase_order.status not in INCOMING:
            return "-"
        url = reverse("admin:inventory_purchaseorder_receive", args=[purchase_order.pk])
        return format_html('<a href="{}">Receive</a>', url)

    send = admin.action(description="Send to the supplier", permissions=["change"])(
        _action("sent", lambda o, actor: purchase_order_send(purchase_order_id=o.pk, actor=actor))
    )
    confirm = admin.action(
        description="Confirm as ordered (incoming stock)", permissions=["change"]
    )(
        _action(
            "confirmed",
            lambda o, actor: purchase_order_confirm(purchase_order_id=o.pk, actor=actor),
        )
    )
    cancel = admin.action(description="Cancel", permissions=["change"])(
        _action(
            "cancelled",
            lambda o, actor: purchase_order_cancel(
                purchase_order_id=o.pk, actor=actor, reason="cancelled in the back office"
            ),
        )
    )
    close_short = admin.action(
        description="Close short (the rest will not come)", permissions=["change"]
    )(
        _action(
            "closed",
            lambda o, actor: purchase_order_close(
                purchase_order_id=o.pk, actor=actor, reason="closed short in the back office"
            ),
        )
    )

    def get_urls(self) -> list[Any]:
        return [
            path(
                "<int:purchase_order_id>/receive/",
                self.admin_site.admin_view(self.receive_view),
                name="inventory_purchaseorder_receive",
            ),
            *super().get_urls(),
        ]

    def receive_view(self, request: HttpRequest, purchase_order_id: int) -> HttpResponse:
        """Scan against the order (or one of its notices) and post one receipt."""
        if not request.user.has_perm("inventory.add_receipt"):
            raise PermissionDenied
        purchase_order = get_object_or_404(
            PurchaseOrder.objects.select_related("supplier", "location"), pk=purchase_order_id
        )
        form = ReceiveForm(request.POST or None, purchase_order=purchase_order)
        if request.method == "POST" and form.is_valid():
            try:
                posted = receipt_post(
                    purchase_order_id=purchase_order.pk,
                    scans=form.cleaned_data["scans"] + form.cleaned_data["damaged"],
                    idempotency_key=form.cleaned_data["idempotency_key"],
                    notice_id=form.cleaned_data["notice"].pk
                    if form.cleaned_data["notice"]
                    else None,
                    note=form.cleaned_data["note"],
                    actor=request.user.get_username(),
                    source="admin",
                )
            except ApplicationError as error:
                form.add_error(None, _describe(error))
            else:
                receipt = posted.receipt
                flag = " with discrepancies" if receipt.has_discrepancies else ""
                self.message_user(request, f"Receipt {receipt.pk} posted{flag}.", messages.SUCCESS)
                return HttpResponseRedirect(
                    reverse("admin:inventory_receipt_change", args=[receipt.pk])
                )
        context = {
            **self.admin_site.each_context(request),
            "title": f"Receive {purchase_order.number}",
            "purchase_order": purchase_order,
            "lines": purchase_order.lines.select_related("product").order_by("line_number"),
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "inventory/receiving/receive.html", context)


class _Refused(Exception):
    """The service refused the add form: the admin shows its message and the form again."""


def _describe(error: ApplicationError) -> str:
    fields = "; ".join(f"{e.field}: {e.message}" for e in error.field_errors)
    return f"{error.message} {fields}".strip()


def _scan_lines(text: str, *, damaged: bool) -> list[Scan]:
    """``CODE [QUANTITY]`` per line (a scanner sends one code per line: each counts 1), or
    for damaged units ``CODE QUANTITY REASON``."""
    scans: list[Scan] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        parts = raw.split()
        if not parts:
            continue
        try:
            quantity = int(parts[1]) if len(parts) > 1 else 1
        except ValueError as error:
            raise forms.ValidationError(f"Line {number}: {parts[1]!r} is not a number.") from error
        if damaged:
            if len(parts) != 3:
                raise forms.ValidationError(f"Line {number}: write CODE QUANTITY REASON.")
            scans.append(Scan(parts[0], 0, damaged_quantity=quantity, damage_reason=parts[2]))
        else:
            if len(parts) > 2:
                raise forms.ValidationError(f"Line {number}: write CODE [QUANTITY].")
            scans.append(Scan(parts[0], quantity))
    return scans


class ReceiveForm(forms.Form):
    scans = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 10, "cols": 50, "autofocus": True}),
        help_text="Scan EANs (one per line, each counts 1) or type CODE QUANTITY.",
    )
    damaged = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 50}),
        help_text="Damaged units: CODE QUANTITY REASON ("
        + ", ".join(ReceiptLine.DamageReason.values)
        + ").",
    )
    notice = forms.ModelChoiceField(
        queryset=AdvanceShippingNotice.objects.none(), required=False, label="Shipping notice"
    )
    note = forms.CharField(required=False, max_length=200)
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args: Any, purchase_order: PurchaseOrder, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        notices = AdvanceShippingNotice.objects.filter(
            purchase_order=purchase_order, status=AdvanceShippingNotice.Status.ANNOUNCED
        )
        self.fields["notice"].queryset = notices  # type: ignore[attr-defined]
        # A double submit posts the same key: the second post returns the first receipt.
        self.fields["idempotency_key"].initial = f"admin-{uuid.uuid4()}"

    def clean_scans(self) -> list[Scan]:
        return _scan_lines(self.cleaned_data["scans"], damaged=False)

    def clean_damaged(self) -> list[Scan]:
        return _scan_lines(self.cleaned_data["damaged"], damaged=True)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("scans") and not data.get("damaged") and not self.errors:
            raise forms.ValidationError("Scan at least one item.")
        return data


# --- notices, receipts, preorders (written by services) ------------------------------------


class NoticeLineInline(ReadOnlyInline):
    model = AdvanceShippingNoticeLine
    fields = ("product", "quantity")
    readonly_fields = fields


@admin.register(AdvanceShippingNotice)
class AdvanceShippingNoticeAdmin(ReadOnlyAdmin):
    list_display = ("supplier_reference", "purchase_order", "expected_arrival", "status")
    list_filter = ("status", ("expected_arrival", admin.DateFieldListFilter))
    search_fields = ("supplier_reference", "purchase_order__number")
    list_select_related = ("purchase_order",)
    inlines = (NoticeLineInline,)


class ReceiptLineInline(ReadOnlyInline):
    model = ReceiptLine
    fields = (
        "product",
        "scanned_codes",
        "quantity_expected",
        "quantity_received",
        "quantity_damaged",
        "quantity_over",
        "quantity_short",
        "damage_reason",
        "discrepancy_note",
    )
    readonly_fields = fields


@admin.register(Receipt)
class ReceiptAdmin(ReadOnlyAdmin):
    list_display = ("id", "purchase_order", "location", "posted_at", "actor", "has_discrepancies")
    list_filter = ("has_discrepancies", "location", ("posted_at", admin.DateFieldListFilter))
    search_fields = ("purchase_order__number", "idempotency_key", "actor")
    list_select_related = ("purchase_order", "location")
    inlines = (ReceiptLineInline,)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_view_permission(request, obj) or request.user.has_perm(
            "inventory.add_receipt"
        )


@admin.register(PreorderAllocation)
class PreorderAllocationAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "product",
        "location",
        "reference_id",
        "quantity",
        "quantity_reserved",
        "status",
        "created_at",
    )
    list_filter = ("status", "location")
    search_fields = ("reference_id", "product__sku")
    list_select_related = ("product", "location")
