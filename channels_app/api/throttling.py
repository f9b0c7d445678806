"""Per-channel rate limits of the channel-key endpoints: a fixed window counted in Redis.

Every ``ChannelApi`` view counts against ``CHANNEL_RATE_LIMIT``; the order endpoints count
against their own ``ORDER_RATE_LIMIT`` (``orders.api.views.OrderRateThrottle``).

DRF's ``SimpleRateThrottle`` keeps every request's timestamp in one cache value; at hundreds
of orders per second that list is read and rewritten on every request. A counter per channel
and window (``cache.add`` then ``cache.incr``, atomic in Redis) costs the same at any rate.
"""

from __future__ import annotations

import math
import time
from typing import Any

from django.conf import settings
from django.core.cache import cache
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from channels_app.models import ChannelAPIKey

_PERIODS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hour": 3600, "d": 86400, "day": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """``"600/min"`` -> ``(600, 60)``."""
    count, _, period = rate.partition("/")
    return int(count), _PERIODS[period.strip().lower()]


class ChannelRateThrottle(BaseThrottle):
    """At most ``settings.<setting>`` requests per channel per window (e.g. ``1200/min``).

    A subclass sets ``setting`` (the rate) and ``scope`` (the counter's name) for its own budget.
    """

    setting = "CHANNEL_RATE_LIMIT"
    scope = "channel"

    def __init__(self) -> None:
        self._wait: float | None = None

    def allow_request(self, request: Request, view: Any) -> bool:
        api_key = request.auth
        if not isinstance(api_key, ChannelAPIKey):
            return True  # HasChannel has refused already; nothing to count
        limit, period = parse_rate(str(getattr(settings, self.setting)))
        now = time.time()
        window = int(now // period)
        key = f"throttle:{self.scope}:{api_key.channel_id}:{window}"
        if cache.add(key, 1, timeout=period + 1):
            count = 1
        else:
            try:
                count = cache.incr(key)
            except ValueError:  # expired between the two calls: a new window
                cache.add(key, 1, timeout=period + 1)
                count = 1
        if count <= limit:
            return True
        # Whole seconds, rounded up: DRF writes Retry-After with %d (a floor), and 0 would
        # invite an immediate, refused retry.
        self._wait = float(math.ceil((window + 1) * period - now))
        return False

    def wait(self) -> float | None:
        return self._wait
