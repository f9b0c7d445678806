"""Reads for the fulfillment floor: pick lists of a location, one pick list, one fulfillment
order with its lines and parcels (``select_related`` / ``prefetch_related`` here, not in views).
"""

from __future__ import annotations

from django.db.models import Prefetch

from fulfillment.models import FulfillmentOrder, FulfillmentOrderLine, PickList, PickTask
from inventory.models import Location
from omnilog.core.errors import NotFound

_TASKS = Prefetch(
    "tasks",
    queryset=PickTask.objects.select_related("fulfillment_order_line").order_by("sequence", "id"),
)


def pick_list_list(*, location_code: str) -> tuple[int, list[PickList]]:
    """(location id, its open and in-progress pick lists, oldest first)."""
    location_id = Location.objects.filter(code=location_code).values_list("pk", flat=True).first()
    if location_id is None:
        raise NotFound(f"No location {location_code!r}.", code="location_not_found")
    pick_lists = list(
        PickList.objects.filter(
            location_id=location_id,
            status__in=[PickList.Status.OPEN, PickList.Status.IN_PROGRESS],
        )
        .select_related("wave", "location")
        .prefetch_related(_TASKS)
        .order_by("id")
    )
    return location_id, pick_lists


def pick_list_get(pick_list_id: int) -> PickList:
    found = (
        PickList.objects.select_related("wave", "location")
        .prefetch_related(_TASKS)
        .filter(pk=pick_list_id)
        .first()
    )
    if found is None:
        raise NotFound(f"No pick list {pick_list_id}.", code="pick_list_not_found")
    return found


def fulfillment_order_get(fulfillment_order_id: int) -> FulfillmentOrder:
    found = (
        FulfillmentOrder.objects.select_related("location")
        .prefetch_related(
            Prefetch(
                "lines",
                queryset=FulfillmentOrderLine.objects.select_related("order_line").order_by("id"),
            ),
            "parcels",
        )
        .filter(pk=fulfillment_order_id)
        .first()
    )
    if found is None:
        raise NotFound(
            f"No fulfillment order {fulfillment_order_id}.", code="fulfillment_order_not_found"
        )
    return found
