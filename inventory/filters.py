"""django-filter filter sets applied by the inventory selectors (never by the views)."""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet

from inventory.models import Location


class LocationAvailabilityFilter(django_filters.FilterSet):  # type: ignore[misc]
    """Filters for one product's per-location availability (rows annotated with ``atp``)."""

    kind = django_filters.MultipleChoiceFilter(choices=Location.Kind.choices)
    is_click_and_collect = django_filters.BooleanFilter()
    is_ship_from_store = django_filters.BooleanFilter()
    in_stock = django_filters.BooleanFilter(method="filter_in_stock")
    city = django_filters.CharFilter(lookup_expr="iexact")
    postcode = django_filters.CharFilter()

    class Meta:
        model = Location
        fields = ["kind", "is_click_and_collect", "is_ship_from_store", "city", "postcode"]

    def filter_in_stock(
        self, queryset: QuerySet[Location], name: str, value: bool | None
    ) -> QuerySet[Location]:
        if value is None:
            return queryset
        # ``atp`` is annotated by the selector (mypy cannot see annotations).
        in_stock = {"atp__gt": 0} if value else {"atp": 0}
        return queryset.filter(**in_stock)
