"""Filters of the channel's order list (django-filter), applied by ``order_list_for_channel``."""

from __future__ import annotations

import django_filters

from orders.models import DeliveryMode, Order


class OrderFilter(django_filters.FilterSet):  # type: ignore[misc]
    status = django_filters.MultipleChoiceFilter(choices=Order.Status.choices)
    delivery_mode = django_filters.ChoiceFilter(choices=DeliveryMode.choices)
    placed_after = django_filters.IsoDateTimeFilter(field_name="placed_at", lookup_expr="gte")
    placed_before = django_filters.IsoDateTimeFilter(field_name="placed_at", lookup_expr="lt")
    external_id = django_filters.CharFilter()
    customer_email = django_filters.CharFilter(
        field_name="customer_email", lookup_expr="iexact", label="Customer e-mail"
    )

    class Meta:
        model = Order
        fields = ["status", "delivery_mode", "external_id"]
