"""Back-office stock forms: adjust one level, import a stock count (upload, preview, confirm).

Both call ``inventory.services`` (``stock_adjust``, ``stock_count``) so that every change is a
ledger row with the staff member as actor; nothing here writes a counter.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import tablib
from django import forms
from django.contrib import admin, messages
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse

from inventory.models import Location, Product, StockLevel
from inventory.services import stock_adjust, stock_count
from omnilog.core.errors import ApplicationError

COUNT_SIGNING_SALT = "inventory.stock-count-import"
COUNT_MAX_ROWS = 5000
COUNT_COLUMNS = ("sku", "location", "counted")
# Quantities are PostgreSQL integers: bound them so a typo is a form error, not a 500.
COUNT_MAX_UNITS = 1_000_000


def _context(request: HttpRequest, title: str, **extra: Any) -> dict[str, Any]:
    return {
        **admin.site.each_context(request),
        "opts": StockLevel._meta,
        "title": title,
        **extra,
    }


def _require(request: HttpRequest, permission: str) -> None:
    if not request.user.has_perm(permission):
        raise PermissionDenied


class StockAdjustForm(forms.Form):
    quantity_delta = forms.IntegerField(
        label="Change in on hand",
        help_text="Signed: +3 adds three units, -2 removes two.",
        min_value=-COUNT_MAX_UNITS,
        max_value=COUNT_MAX_UNITS,
    )
    reason = forms.CharField(max_length=200, help_text="Why (stored in the ledger).")


def stock_adjust_view(request: HttpRequest, level_id: int) -> HttpResponse:
    """GET shows the form; POST calls ``stock_adjust`` and returns to the level."""
    _require(request, "inventory.change_stocklevel")
    level = get_object_or_404(StockLevel.objects.select_related("product", "location"), pk=level_id)
    form = StockAdjustForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            result = stock_adjust(
                product_id=level.product_id,
                location_id=level.location_id,
                quantity_delta=form.cleaned_data["quantity_delta"],
                reason=form.cleaned_data["reason"],
                actor=request.user.get_username(),
                source="admin",
            )
        except ApplicationError as error:
            for field_error in error.field_errors:
                field = field_error.field if field_error.field in form.fields else None
                form.add_error(field, field_error.message)
            messages.error(request, error.message)
        else:
            messages.success(
                request,
                f"{level.product.sku} at {level.location.code}: on hand is now {result.on_hand}"
                f", ATP {result.atp}.",
            )
            return HttpResponseRedirect(
                reverse("admin:inventory_stocklevel_change", args=[level.pk])
            )
    return TemplateResponse(
        request,
        "admin/inventory/stocklevel/adjust.html",
        _context(
            request,
            f"Adjust stock: {level.product.sku} at {level.location.code}",
            level=level,
            form=form,
        ),
    )


@dataclass(frozen=True)
class CountRow:
    line: int
    sku: str
    location: str
    counted: int | None
    product_id: int | None = None
    location_id: int | None = None
    on_hand: int | None = None
    error: str = ""

    @property
    def difference(self) -> int | None:
        if self.counted is None or self.error:
            return None
        return self.counted - (self.on_hand or 0)


class StockCountUploadForm(forms.Form):
    file = forms.FileField(help_text="CSV or XLSX with the columns sku, location, counted.")


def _load(upload: Any) -> tablib.Dataset:
    content = upload.read()
    if upload.name.lower().endswith(".xlsx"):
        return tablib.Dataset().load(content, format="xlsx")
    return tablib.Dataset().load(content.decode("utf-8-sig"), format="csv")


def _count(value: Any) -> int | None:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return number if 0 <= number <= COUNT_MAX_UNITS else None


def count_rows_preview(dataset: tablib.Dataset) -> list[CountRow]:
    """Resolve SKUs and location codes (two queries) and today's on hand (one query)."""
    headers = [str(header or "").strip().lower() for header in dataset.headers or []]
    missing = [column for column in COUNT_COLUMNS if column not in headers]
    if missing:
        raise forms.ValidationError(f"Missing column(s): {', '.join(missing)}.")
    if len(dataset) > COUNT_MAX_ROWS:
        raise forms.ValidationError(f"At most {COUNT_MAX_ROWS} rows per file.")
    index = {column: headers.index(column) for column in COUNT_COLUMNS}
    raw = [
        (
            str(row[index["sku"]] or "").strip(),
            str(row[index["location"]] or "").strip(),
            row[index["counted"]],
        )
        for row in dataset
    ]
    products = dict(
        Product.objects.filter(sku__in={sku for sku, _, _ in raw}).values_list("sku", "id")
    )
    locations = dict(
        Location.objects.filter(code__in={code for _, code, _ in raw}).values_list("code", "id")
    )
    on_hand = {
        (product_id, location_id): units
        for product_id, location_id, units in StockLevel.objects.filter(
            product_id__in=products.values(), location_id__in=locations.values()
        ).values_list("product_id", "location_id", "on_hand")
    }
    rows, seen = [], set()
    for line, (sku, code, value) in enumerate(raw, start=2):  # line 1 is the header
        counted = _count(value)
        product_id, location_id = products.get(sku), locations.get(code)
        error = ""
        if product_id is None:
            error = f"Unknown SKU {sku!r}."
        elif location_id is None:
            error = f"Unknown location {code!r}."
        elif counted is None:
            error = f"Counted must be a whole number from 0 to {COUNT_MAX_UNITS} (got {value!r})."
        elif (product_id, location_id) in seen:
            error = "Counted twice in this file."
        seen.add((product_id, location_id))
        rows.append(
            CountRow(
                line=line,
                sku=sku,
                location=code,
                counted=counted,
                product_id=product_id,
                location_id=location_id,
                on_hand=None if error else on_hand.get((product_id or 0, location_id or 0), 0),
                error=error,
            )
        )
    return rows


def stock_count_import_view(request: HttpRequest) -> HttpResponse:
    """Upload -> preview table -> confirm. Confirmed rows go through ``stock_count``.

    The preview's rows travel to the confirm step signed (not trusted from the browser), and
    only a file with no row errors can be confirmed.
    """
    _require(request, "inventory.change_stocklevel")
    title = "Import a stock count"
    if request.method == "POST" and "confirm" in request.POST:
        try:
            payload = signing.loads(request.POST["payload"], salt=COUNT_SIGNING_SALT)
        except (KeyError, signing.BadSignature):
            messages.error(request, "The preview expired or was altered; upload the file again.")
            return HttpResponseRedirect(reverse("admin:inventory_stocklevel_import_count"))
        changed, failed = 0, 0
        for row in payload["rows"]:
            try:
                result = stock_count(
                    product_id=row["product_id"],
                    location_id=row["location_id"],
                    counted=row["counted"],
                    actor=request.user.get_username(),
                    source="admin:count-import",
                )
            except ApplicationError as error:
                failed += 1
                messages.error(request, f"Line {row['line']}: {error.message}")
            else:
                changed += int(result.on_hand != row["on_hand"])
        messages.success(
            request,
            f"Stock count applied: {len(payload['rows']) - failed} row(s), "
            f"{changed} level(s) changed, {failed} failed.",
        )
        return HttpResponseRedirect(reverse("admin:inventory_stocklevel_changelist"))

    form = StockCountUploadForm(request.POST or None, request.FILES or None)
    rows: list[CountRow] = []
    payload = ""
    if request.method == "POST" and form.is_valid():
        try:
            rows = count_rows_preview(_load(form.cleaned_data["file"]))
        except forms.ValidationError as error:
            form.add_error("file", error)
        except Exception as error:
            form.add_error("file", f"The file cannot be read ({type(error).__name__}).")
        if rows and not any(row.error for row in rows):
            payload = signing.dumps(
                {"rows": [asdict(row) for row in rows]}, salt=COUNT_SIGNING_SALT, compress=True
            )
    return TemplateResponse(
        request,
        "admin/inventory/stocklevel/import_count.html",
        _context(
            request,
            title,
            form=form,
            rows=rows,
            payload=payload,
            has_errors=any(row.error for row in rows),
        ),
    )
