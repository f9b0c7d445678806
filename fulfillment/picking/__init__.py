"""Picking planning: a pure core that plans a location's open lines into waves and pick lists.

No Django, DRF or Celery import (import-linter checks it). ``plan_picking(lines, strategy,
now=...)`` takes frozen dataclasses (``types``) and returns a ``Plan``: waves per cut-off (hot
first), mono-line batches sorted to pack afterwards, multi-line clusters with one tote per
order, stops in walking order, missed cut-offs and a summary.
"""

from fulfillment.picking.bins import parse_bin
from fulfillment.picking.planner import plan_picking
from fulfillment.picking.render import render_pick_list, render_plan

__all__ = ["parse_bin", "plan_picking", "render_pick_list", "render_plan"]
