"""Routing (sourcing): a pure core that decides where an order's lines are fulfilled.

No Django, DRF or Celery import (import-linter checks it). ``route(demand, candidates, policy)``
takes frozen dataclasses (``types``) and returns a ``Decision``: the plan and its explanation.
"""

from fulfillment.routing.baseline import route_nearest_with_stock
from fulfillment.routing.engine import route
from fulfillment.routing.geo import haversine_km
from fulfillment.routing.selection import select_rule_set

__all__ = ["haversine_km", "route", "route_nearest_with_stock", "select_rule_set"]
