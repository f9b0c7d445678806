"""The order endpoints' own per-channel budget (``ORDER_RATE_LIMIT``), counted like every
channel-key endpoint's (``channels_app.api.throttling``) but apart from it."""

from __future__ import annotations

from channels_app.api.throttling import ChannelRateThrottle


class OrderRateThrottle(ChannelRateThrottle):
    """At most ``ORDER_RATE_LIMIT`` requests per channel per window (e.g. ``600/min``)."""

    setting = "ORDER_RATE_LIMIT"
    scope = "orders"
