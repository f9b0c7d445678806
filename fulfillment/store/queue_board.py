"""The rendered queue board, cached per store.

Every tablet of a store polls the same board every 10 s; at rush hour most polls see nothing
new. The board is rendered once per (store, fingerprint, minute) and kept in the cache: the
fingerprint (``selectors.store_queue_fingerprint``, one query) changes with anything a card
shows, and the minute bounds the ageing labels ("due in 12 min") and the no-show column, which
are computed at the start of the minute. A poll that hits costs the access queries, the
fingerprint query and one cache read; a change is rendered by the first poll that sees it.
"""

from __future__ import annotations

from datetime import datetime

from django.core.cache import cache
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from fulfillment.store.selectors import store_queue, store_queue_fingerprint
from inventory.models import Location

BOARD_SECONDS = 120


def queue_board_html(*, location: Location, now: datetime | None = None) -> str:
    minute = (now or timezone.now()).replace(second=0, microsecond=0)
    fingerprint = store_queue_fingerprint(location=location)
    key = f"store:queue:{location.pk}:{minute:%Y%m%d%H%M}:{fingerprint}"
    html = cache.get(key)
    if html is None:
        html = render_to_string(
            "store/_queue_board.html",
            {
                "queue": store_queue(location=location, now=minute),
                "store": location,
                "board_url": reverse("store:queue-board", kwargs={"store": location.code}),
            },
        )
        cache.set(key, html, timeout=BOARD_SECONDS)
    return str(html)
