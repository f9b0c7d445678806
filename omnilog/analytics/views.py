"""Back-office doors of the analytics: the dashboard, the orders behind a figure, CSV exports.

Both pages sit under ``/admin/analytics/`` behind ``admin.site.admin_view`` (staff login) and
require ``orders.view_order``. Filters (period preset or dates, channel, location) are one
form; a bad value re-renders the page with the form's errors (400) and computes nothing.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone

from channels_app.models import SalesChannel
from inventory.models import Location
from omnilog.analytics.dashboard import PRESETS, dashboard_get, last_refresh, preset_period
from omnilog.analytics.drill import drill_orders
from omnilog.analytics.scope import Scope
from omnilog.analytics.tables import Table, table_csv
from omnilog.core.errors import ValidationFailed
from orders.models import Order

PERMISSION = "orders.view_order"
MAX_DAYS = 366
PAGE_SIZE = 50
ADMIN_LINK_MAX_IDS = 300  # beyond this the order admin link would make too long a URL
FILTER_FIELDS = ("period", "date_from", "date_to", "scope_channel", "scope_location")


class FilterForm(forms.Form):
    period = forms.ChoiceField(
        choices=[
            ("7d", "Last 7 days"),
            ("30d", "Last 30 days"),
            ("90d", "Last 90 days"),
            ("today", "Today"),
            ("custom", "From ... to ..."),
        ],
        required=False,
        initial="30d",
    )
    date_from = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    scope_channel = forms.ModelChoiceField(
        SalesChannel.objects.order_by("code"), required=False, label="Channel", to_field_name="code"
    )
    scope_location = forms.ModelChoiceField(
        Location.objects.order_by("code"), required=False, label="Location", to_field_name="code"
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        period = data.get("period") or "30d"
        if data.get("date_from") or data.get("date_to"):
            period = "custom"
        data["period"] = period
        if period == "custom":
            start, end = data.get("date_from"), data.get("date_to")
            if start is None:
                self.add_error("date_from", "Give the first day.")
            if end is None:
                self.add_error("date_to", "Give the last day.")
            if start and end and start > end:
                self.add_error("date_to", "The last day is before the first.")
            if start and end and (end - start).days >= MAX_DAYS:
                self.add_error("date_to", f"At most {MAX_DAYS} days.")
        return data

    def scope(self, *, now: datetime) -> Scope:
        """Precondition: the form is valid."""
        data = self.cleaned_data
        if data["period"] == "custom":
            start = _midnight(data["date_from"])
            end = _midnight(data["date_to"] + timedelta(days=1))
        else:
            start, end = preset_period(data["period"], now=now)
        channel, location = data.get("scope_channel"), data.get("scope_location")
        return Scope(
            start=start,
            end=end,
            now=now,
            channel_id=channel.pk if channel else None,
            location_id=location.pk if location else None,
        )


def _midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time()))


def _require_permission(request: HttpRequest) -> None:
    if not request.user.has_perm(PERMISSION):
        raise PermissionDenied("Viewing the analytics needs the permission to view orders.")


def _filter_query(request: HttpRequest) -> dict[str, str]:
    return {name: request.GET[name] for name in FILTER_FIELDS if request.GET.get(name)}


def _drill_url(filters: dict[str, str], drill: tuple[tuple[str, str], ...]) -> str:
    return f"{reverse('analytics:orders')}?{urlencode([*filters.items(), *drill])}"


def _present(source: Table, filters: dict[str, str]) -> dict[str, Any]:
    """A table as the template shows it: cells with their drill-down links."""
    return {
        "key": source.key,
        "title": source.title,
        "note": source.note,
        "columns": source.columns,
        "chart": source.chart,
        "export": "?" + urlencode({**filters, "export": source.key}),
        "rows": [
            [
                {
                    "display": item.display,
                    "url": _drill_url(filters, item.drill) if item.drill else "",
                }
                for item in row
            ]
            for row in source.rows
        ],
    }


def _csv(name: str, content: str) -> HttpResponse:
    response = HttpResponse(content, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return response


def dashboard_view(request: HttpRequest) -> HttpResponse:
    _require_permission(request)
    form = FilterForm(request.GET or None)
    context: dict[str, Any] = {
        **admin.site.each_context(request),
        "title": "Flow analytics",
        "form": form,
        "presets": PRESETS,
    }
    if request.GET and not form.is_valid():
        return TemplateResponse(request, "admin/analytics/dashboard.html", context, status=400)
    if not request.GET:
        form = FilterForm({"period": "30d"})
        form.is_valid()
        context["form"] = form
    board = dashboard_get(form.scope(now=timezone.now()))
    export = request.GET.get("export")
    if export:
        chosen = board.table(export)
        if chosen is None:
            raise Http404("No such table.")
        return _csv(f"analytics-{chosen.key}", table_csv(chosen))
    filters = _filter_query(request)
    context.update(
        board=board,
        headlines=[
            {
                "label": h.label,
                "display": h.display,
                "url": _drill_url(filters, h.drill) if h.drill else "",
            }
            for h in board.headlines
        ],
        tables={item.key: _present(item, filters) for item in board.tables},
        refreshed_at=last_refresh(),
        sankey_colours=["#417690", "#79aec8", "#e0a040", "#70bf2b", "#ba2121", "#8c6bb1"],
    )
    return TemplateResponse(request, "admin/analytics/dashboard.html", context)


def drill_view(request: HttpRequest) -> HttpResponse:
    _require_permission(request)
    form = FilterForm(request.GET)
    context: dict[str, Any] = {
        **admin.site.each_context(request),
        "title": "Orders behind a figure",
    }
    if not form.is_valid():
        context.update(form=form, errors=[])
        return TemplateResponse(request, "admin/analytics/orders.html", context, status=400)
    scope = form.scope(now=timezone.now())
    params = {key: str(request.GET.get(key, "")) for key in request.GET if key not in FILTER_FIELDS}
    try:
        found = drill_orders(scope=scope, measure=params.get("measure", ""), params=params)
    except ValidationFailed as error:
        context.update(form=form, errors=error.field_errors)
        return TemplateResponse(request, "admin/analytics/orders.html", context, status=400)
    notes = {item.order_id: item.note for item in found}
    if request.GET.get("format") == "csv":
        return _csv("analytics-orders", _orders_csv(list(notes), notes))
    paginator = Paginator(list(notes), PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    orders = Order.objects.select_related("channel").in_bulk(list(page.object_list))
    query = request.GET.copy()
    query.pop("page", None)
    context.update(
        form=form,
        errors=[],
        page=page,
        total=len(notes),
        rows=[
            (orders[order_id], notes[order_id])
            for order_id in page.object_list
            if order_id in orders
        ],
        query=query.urlencode(),
        dashboard_url=f"{reverse('analytics:dashboard')}?{urlencode(_filter_query(request))}",
        admin_url=(
            f"{reverse('admin:orders_order_changelist')}?id__in={','.join(map(str, notes))}"
            if 0 < len(notes) <= ADMIN_LINK_MAX_IDS
            else ""
        ),
        measure=params.get("measure", ""),
    )
    return TemplateResponse(request, "admin/analytics/orders.html", context)


def _orders_csv(order_ids: list[int], notes: dict[int, str]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(
        ["order", "channel", "status", "placed at", "delivery mode", "total", "currency", "note"]
    )
    rows = Order.objects.filter(pk__in=order_ids).values_list(
        "pk",
        "number",
        "channel__code",
        "status",
        "placed_at",
        "delivery_mode",
        "grand_total",
        "currency",
    )
    by_id = {row[0]: row[1:] for row in rows}
    for order_id in order_ids:
        number, channel, status, placed, mode, total, currency = by_id[order_id]
        writer.writerow(
            [
                number,
                channel,
                status,
                timezone.localtime(placed).isoformat(),
                mode,
                total,
                currency,
                notes[order_id],
            ]
        )
    return buffer.getvalue()
