"""Pure statistics for the analytics (no framework): percentiles, rates, ageing buckets,
bottleneck ranking, the stage funnel and the Sankey layout of channel journeys.

The SQL aggregates (``omnilog.analytics.queries``) compute percentiles in PostgreSQL with
``percentile_cont``; ``percentile`` here is the same definition (linear interpolation between
the two closest ranks), used by tests as the reference and by the Python-side roll-ups.
Every function is deterministic: ties are broken by label.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

# Late orders ageing: (label, upper bound in hours, exclusive); the last bucket is open.
AGEING_BUCKETS: tuple[tuple[str, float], ...] = (
    ("< 1 day", 24.0),
    ("1-2 days", 48.0),
    ("2-4 days", 96.0),
    ("4-7 days", 168.0),
    ("> 7 days", math.inf),
)
# Purchase frequency: (label, lowest order count) per bucket, ascending.
FREQUENCY_BUCKETS: tuple[tuple[str, int], ...] = (
    ("1 order", 1),
    ("2 orders", 2),
    ("3-4 orders", 3),
    ("5+ orders", 5),
)


def percentile(values: Iterable[float], fraction: float) -> float | None:
    """PostgreSQL's ``percentile_cont(fraction)``: None for no values.

    Raises ``ValueError`` unless ``0 <= fraction <= 1``.
    """
    if not 0.0 <= fraction <= 1.0:
        raise ValueError("fraction must be between 0 and 1")
    ordered = sorted(values)
    if not ordered:
        return None
    position = fraction * (len(ordered) - 1)
    low = math.floor(position)
    high = math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def rate(numerator: float, denominator: float) -> float | None:
    """``numerator / denominator``; None (not 0) when nothing was measured."""
    if denominator == 0:
        return None
    return numerator / denominator


def ageing_bucket(hours_late: float) -> str:
    """The ageing bucket of an order ``hours_late`` past its promise (>= 0)."""
    for label, bound in AGEING_BUCKETS:
        if hours_late < bound:
            return label
    return AGEING_BUCKETS[-1][0]


def frequency_bucket(order_count: int) -> str:
    """The purchase-frequency bucket of a customer with ``order_count`` (>= 1) orders."""
    chosen = FREQUENCY_BUCKETS[0][0]
    for label, lowest in FREQUENCY_BUCKETS:
        if order_count >= lowest:
            chosen = label
    return chosen


@dataclass(frozen=True)
class Timing:
    """Lead time of one stage within one group (seconds)."""

    stage: str
    group: str
    key: str
    label: str
    count: int
    p50: float
    p90: float


def bottlenecks(timings: Iterable[Timing], *, minimum_count: int, limit: int) -> list[Timing]:
    """The slowest timings first (p90, then p50, descending), those measured at least
    ``minimum_count`` times; ties by stage, then label."""
    kept = [timing for timing in timings if timing.count >= minimum_count]
    kept.sort(key=lambda t: (-t.p90, -t.p50, t.stage, t.label, t.key))
    return kept[:limit]


@dataclass(frozen=True)
class FunnelStep:
    label: str
    count: int
    from_previous: float | None
    from_first: float | None


def funnel(steps: Sequence[tuple[str, int]]) -> list[FunnelStep]:
    """Conversion of each step from the previous one and from the first."""
    result: list[FunnelStep] = []
    first = steps[0][1] if steps else 0
    previous = first
    for index, (label, count) in enumerate(steps):
        result.append(
            FunnelStep(
                label=label,
                count=count,
                from_previous=None if index == 0 else rate(count, previous),
                from_first=rate(count, first),
            )
        )
        previous = count
    return result


# --- Sankey ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SankeyNode:
    column: int
    label: str
    value: int
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class SankeyLink:
    source: str
    target: str
    column: int
    value: int
    path: str  # SVG path of a filled band
    source_y: float
    target_y: float
    thickness: float


@dataclass(frozen=True)
class SankeyLayout:
    width: float
    height: float
    nodes: tuple[SankeyNode, ...]
    links: tuple[SankeyLink, ...]


def _fmt(value: float) -> str:
    return f"{value:.1f}"


def sankey_layout(
    paths: Sequence[tuple[Sequence[str], int]],
    *,
    width: float = 760.0,
    height: float = 360.0,
    node_width: float = 14.0,
    gap: float = 10.0,
) -> SankeyLayout:
    """Lay out journeys (a label per column, a count) as a Sankey diagram.

    Every path has the same number of columns; a node is a (column, label); nodes in a column
    are ordered by value (descending) then label, and links leave and enter nodes in the order
    of the node they go to or come from, so bands do not cross inside a node. Heights are
    proportional to counts, with ``gap`` between nodes of a column (the densest column fills
    ``height``). Empty input gives an empty layout.
    """
    kept = [(tuple(labels), count) for labels, count in paths if count > 0]
    if not kept:
        return SankeyLayout(width=width, height=height, nodes=(), links=())
    columns = len(kept[0][0])
    if columns < 2 or any(len(labels) != columns for labels, _ in kept):
        raise ValueError("every path needs the same number (>= 2) of columns")
    values: list[dict[str, int]] = [{} for _ in range(columns)]
    flows: list[dict[tuple[str, str], int]] = [{} for _ in range(columns - 1)]
    for labels, count in kept:
        for column, label in enumerate(labels):
            values[column][label] = values[column].get(label, 0) + count
        for column in range(columns - 1):
            pair = (labels[column], labels[column + 1])
            flows[column][pair] = flows[column].get(pair, 0) + count
    total = sum(count for _, count in kept)
    densest = max(len(column) for column in values)
    scale = (height - gap * (densest - 1)) / total
    step = (width - node_width) / (columns - 1)
    nodes: dict[tuple[int, str], SankeyNode] = {}
    order: list[list[str]] = []
    for column, column_values in enumerate(values):
        labels_sorted = sorted(column_values, key=lambda label: (-column_values[label], label))
        order.append(labels_sorted)
        y = 0.0
        for label in labels_sorted:
            node_height = column_values[label] * scale
            nodes[(column, label)] = SankeyNode(
                column=column,
                label=label,
                value=column_values[label],
                x=column * step,
                y=y,
                width=node_width,
                height=node_height,
            )
            y += node_height + gap
    links: list[SankeyLink] = []
    for column, column_flows in enumerate(flows):
        rank_left = {label: index for index, label in enumerate(order[column])}
        rank_right = {label: index for index, label in enumerate(order[column + 1])}
        out_offset = dict.fromkeys(order[column], 0.0)
        in_offset = dict.fromkeys(order[column + 1], 0.0)
        pairs = sorted(column_flows, key=lambda p: (rank_left[p[0]], rank_right[p[1]]))
        for source, target in pairs:
            value = column_flows[(source, target)]
            thickness = value * scale
            left = nodes[(column, source)]
            right = nodes[(column + 1, target)]
            y0 = left.y + out_offset[source]
            y1 = right.y + in_offset[target]
            out_offset[source] += thickness
            in_offset[target] += thickness
            x0 = left.x + node_width
            x1 = right.x
            middle = (x0 + x1) / 2
            path = (
                f"M{_fmt(x0)},{_fmt(y0)} C{_fmt(middle)},{_fmt(y0)} {_fmt(middle)},{_fmt(y1)} "
                f"{_fmt(x1)},{_fmt(y1)} L{_fmt(x1)},{_fmt(y1 + thickness)} "
                f"C{_fmt(middle)},{_fmt(y1 + thickness)} {_fmt(middle)},{_fmt(y0 + thickness)} "
                f"{_fmt(x0)},{_fmt(y0 + thickness)} Z"
            )
            links.append(
                SankeyLink(
                    source=source,
                    target=target,
                    column=column,
                    value=value,
                    path=path,
                    source_y=y0,
                    target_y=y1,
                    thickness=thickness,
                )
            )
    ordered_nodes = tuple(
        nodes[(column, label)] for column in range(columns) for label in order[column]
    )
    return SankeyLayout(width=width, height=height, nodes=ordered_nodes, links=tuple(links))
