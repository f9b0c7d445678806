"""Routing (sourcing): a pure core that decides where an order's lines are fulfilled.

No Django, DRF or Celery import (import-linter checks it). ``route(demand, candidates, policy)``
takes frozen dataclasses (``types``) and returns a ``Decision``: the plan and its explanation.
"""
