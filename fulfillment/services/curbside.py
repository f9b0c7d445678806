"""Curbside pickup: what the store side tells the order side (bays per store).

``orders`` runs the customer's "I'm here" check-in (``orders.services.curbside``); it cannot
import fulfillment, so ``FulfillmentConfig.ready`` registers :func:`store_curbside_bays` as the
``orders.hooks`` bays provider.
"""

from __future__ import annotations

from fulfillment.models_store import StorePolicy
from inventory.models import Location


def store_curbside_bays(store_id: int) -> int:
    """The store's curbside bays (``StorePolicy.curbside_bays``, the model's default without a
    row); 0 for an unknown location or one that offers no click-and-collect. Two queries."""
    if not Location.objects.filter(pk=store_id, is_click_and_collect=True).exists():
        return 0
    bays = StorePolicy.objects.filter(location_id=store_id).values_list("curbside_bays", flat=True)
    found = bays.first()
    return int(found) if found is not None else int(StorePolicy().curbside_bays)
