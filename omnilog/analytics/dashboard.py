"""The dashboard: every measure of a scope as tables (with drill-down parameters), headline
figures, charts and the channel-journey Sankey, cached in the Django cache (Redis).

``dashboard_get`` answers from the cache when the same scope was computed less than
``ANALYTICS_CACHE_SECONDS`` ago, else computes it with a fixed number of SQL queries
(one per measure, whatever the data) and caches it. ``analytics_refresh`` (beat) recomputes
the preset periods for every channel and location, so the usual views open from the cache.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from omnilog.analytics import panels_flow, panels_service, queries
from omnilog.analytics.scope import Scope
from omnilog.analytics.stats import SankeyLayout, funnel, rate
from omnilog.analytics.tables import Table, cell, table

CACHE_PREFIX = "analytics:v1:"
PRESETS = {"today": 1, "7d": 7, "30d": 30, "90d": 90}


def cache_seconds() -> int:
    return int(getattr(settings, "ANALYTICS_CACHE_SECONDS", 900))


def preset_period(name: str, *, now: datetime) -> tuple[datetime, datetime]:
    """Whole local days ending tonight at midnight: ``7d`` is the last 7 days with today."""
    tomorrow = timezone.localdate(now) + timedelta(days=1)
    end = timezone.make_aware(datetime.combine(tomorrow, time()))
    start = timezone.make_aware(datetime.combine(tomorrow - timedelta(days=PRESETS[name]), time()))
    return start, end


@dataclass(frozen=True)
class Headline:
    label: str
    display: str
    drill: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Dashboard:
    scope: Scope
    computed_at: datetime
    headlines: tuple[Headline, ...]
    tables: tuple[Table, ...]
    sankey: SankeyLayout

    def table(self, key: str) -> Table | None:
        return next((item for item in self.tables if item.key == key), None)


def dashboard_get(scope: Scope, *, refresh: bool = False) -> Dashboard:
    key = CACHE_PREFIX + scope.cache_key
    if not refresh:
        cached = cache.get(key)
        if isinstance(cached, Dashboard):
            return cached
    built = dashboard_build(scope)
    cache.set(key, built, cache_seconds())
    return built


def dashboard_build(scope: Scope) -> Dashboard:
    """Compute every table of ``scope`` (one SQL query per measure)."""
    lead, timings = panels_flow.lead_tables(scope)
    orders = panels_service.order_tables(scope)
    service = panels_service.service_tables(scope)
    stage_counts = queries.stage_funnel(scope)
    steps = funnel(stage_counts)
    funnel_table = table(
        key="funnel",
        title="Preparation funnel",
        note="Fulfillment orders reaching each step.",
        columns=[
            ("step", "Step", "text"),
            ("count", "Fulfillment orders", "int"),
            ("previous", "From previous", "percent"),
            ("first", "From routed", "percent"),
        ],
        rows=[(s.label, s.count, s.from_previous, s.from_first) for s in steps],
    )
    journeys, layout, (multi, active) = panels_flow.journey_tables(scope)
    all_tables = [
        *lead,
        *panels_flow.bottleneck_tables(timings),
        funnel_table,
        *orders,
        *service,
        *panels_service.return_tables(scope),
        *panels_service.stock_tables(scope),
        *journeys,
    ]
    headlines = _headlines(all_tables, timings, (multi, active))
    return Dashboard(
        scope=scope,
        computed_at=timezone.now(),
        headlines=headlines,
        tables=tuple(all_tables),
        sankey=layout,
    )


def _total_row(source: Table, column: str) -> Any:
    """The last row's value of ``column`` (ROLLUP puts the overall row last)."""
    keys = [c.key for c in source.columns]
    return source.rows[-1][keys.index(column)] if source.rows else None


def _headlines(
    tables: list[Table], timings: list[queries.LeadTime], multichannel: tuple[int, int]
) -> tuple[Headline, ...]:
    by_key = {t.key: t for t in tables}
    end = next((t for t in timings if t.group == "all" and t.stage == "end_to_end"), None)
    orders = sum(int(row[2].value) for row in by_key["orders_by_channel_status"].rows)
    basket = _total_row(by_key["baskets"], "average_value")
    on_time = next((row for row in by_key["on_time"].rows if row[0].value == "all"), None)
    late_now = sum(int(row[1].value) for row in by_key["late_ageing"].rows)
    fill = _total_row(by_key["fill_rates"], "unit_rate")
    split = _total_row(by_key["split_rate"], "rate")
    cancelled = sum(int(row[1].value) for row in by_key["cancellations"].rows)
    returned = sum(float(row[3].value or 0) for row in by_key["returns_by_reason"].rows)
    pickups = by_key["pickup_no_shows"].rows
    no_shows = rate(sum(int(r[3].value) for r in pickups), sum(int(r[1].value) for r in pickups))
    multi, active = multichannel
    return (
        Headline("Orders placed", f"{orders:,}", (("measure", "orders"),)),
        Headline("Average basket", basket.display if basket else "-", (("measure", "basket"),)),
        Headline(
            "End-to-end p50 / p90",
            f"{cell(end.p50, 'hours').display} / {cell(end.p90, 'hours').display}" if end else "-",
            (("measure", "lead_time"), ("stage", "end_to_end")) if end else (),
        ),
        Headline(
            "On time",
            on_time[5].display if on_time else "-",
            (("measure", "on_time"), ("flag", "late")),
        ),
        Headline("Late now", f"{late_now:,}", (("measure", "late"),)),
        Headline("Units filled", fill.display if fill else "-", (("measure", "fill_rate"),)),
        Headline("Split rate", split.display if split else "-", (("measure", "split"),)),
        Headline(
            "Cancelled",
            cell(rate(cancelled, orders), "percent").display,
            (("measure", "cancellations"),),
        ),
        Headline(
            "Units returned",
            cell(returned if by_key["returns_by_reason"].rows else None, "percent").display,
            (("measure", "returns"),),
        ),
        Headline("Pickup no-shows", cell(no_shows, "percent").display),
        Headline(
            "Multichannel customers",
            cell(rate(multi, active), "percent").display,
            (("measure", "multichannel"),),
        ),
    )


def analytics_refresh(*, now: datetime | None = None) -> int:
    """Recompute and cache the preset periods (``ANALYTICS_REFRESH_PRESETS``) for every
    channel and location; returns how many dashboards were computed."""
    moment = now or timezone.now()
    names = getattr(settings, "ANALYTICS_REFRESH_PRESETS", ("7d", "30d"))
    for name in names:
        start, end = preset_period(name, now=moment)
        dashboard_get(Scope(start=start, end=end, now=moment), refresh=True)
    cache.set(CACHE_PREFIX + "refreshed_at", moment, None)
    return len(names)


def last_refresh() -> datetime | None:
    value = cache.get(CACHE_PREFIX + "refreshed_at")
    return value if isinstance(value, datetime) else None
