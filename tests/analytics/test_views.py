"""The admin dashboard and drill-down pages: permissions, filters, CSV exports, drill-down
links that list exactly the orders behind a figure, and a query count that does not grow
with the data."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
import time_machine
from django.contrib.auth.models import Permission, User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests.analytics.support import NOW, at, fulfillment, order
from tests.analytics.test_kpis import month

pytestmark = pytest.mark.django_db

URL = "/admin/analytics/"
PERIOD = "date_from=2026-03-01&date_to=2026-03-10"


@pytest.fixture(autouse=True)
def _now() -> Any:
    with time_machine.travel(NOW, tick=False):
        yield


def staff(*, can_view: bool = True) -> Client:
    user = User.objects.create_user(f"staff{can_view}", password="x", is_staff=True)
    if can_view:
        user.user_permissions.add(Permission.objects.get(codename="view_order"))
    client = Client()
    client.force_login(user)
    return client


def rows(response: Any) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode())))


def test_only_staff_with_the_order_view_permission_see_the_analytics() -> None:
    month()
    assert Client().get(URL).status_code == 302  # the admin login
    customer = User.objects.create_user("someone", password="x")
    client = Client()
    client.force_login(customer)
    assert client.get(URL).status_code == 302
    assert client.get(f"{URL}orders/?measure=orders").status_code == 302
    refused = staff(can_view=False)
    assert refused.get(URL).status_code == 403
    assert refused.get(f"{URL}orders/?measure=orders").status_code == 403
    page = staff().get(f"{URL}?{PERIOD}")
    assert page.status_code == 200
    text = page.content.decode()
    for title in ("Bottlenecks: slowest stages", "Channel journeys", "Late orders now, by age"):
        assert title in text
    assert "vendor/chartjs/chart.umd.min.js" in text
    assert "<svg" in text


def test_every_table_exports_as_csv() -> None:
    month()
    client = staff()
    lead = client.get(f"{URL}?{PERIOD}&export=split_rate")
    assert lead["Content-Type"].startswith("text/csv")
    assert rows(lead) == [
        ["Channel", "Orders routed", "Split orders", "Split rate"],
        ["app", "2", "1", "0.5000"],
        ["web", "3", "0", "0.0000"],
        ["all", "5", "1", "0.2000"],
    ]
    ageing = rows(client.get(f"{URL}?{PERIOD}&export=late_ageing"))
    assert ageing[1:] == [
        ["< 1 day", "0"],
        ["1-2 days", "1"],
        ["2-4 days", "1"],
        ["4-7 days", "0"],
        ["> 7 days", "1"],
    ]
    page = client.get(f"{URL}?{PERIOD}").content.decode()
    board_tables = page.count('class="analytics-export"')
    assert board_tables == 23
    assert client.get(f"{URL}?{PERIOD}&export=nope").status_code == 404


def test_a_figure_links_to_exactly_its_orders() -> None:
    net = month()
    client = staff()
    page = client.get(f"{URL}?{PERIOD}").content.decode()
    query = f"{PERIOD}&measure=split&channel={net['app'].pk}".replace("&", "&amp;")
    link = f"/admin/analytics/orders/?{query}"
    assert link in page
    drilled = client.get(link.replace("&amp;", "&"))
    assert drilled.status_code == 200
    assert [o.pk for o, _ in drilled.context["rows"]] == [net["D"].pk]
    assert f"id__in={net['D'].pk}" in drilled.content.decode()
    exported = rows(client.get(link.replace("&amp;", "&") + "&format=csv"))
    assert [row[0] for row in exported] == ["order", net["D"].number]
    late = client.get(f"{URL}orders/?{PERIOD}&measure=on_time&flag=late&format=csv")
    assert [row[0] for row in rows(late)[1:]] == [net[n].number for n in "BDF"]


def test_filters_and_bad_input() -> None:
    net = month()
    client = staff()
    by_channel = client.get(f"{URL}?{PERIOD}&scope_channel=app&export=orders_by_channel_status")
    assert [row[:3] for row in rows(by_channel)[1:]] == [
        ["app", "collected", "1"],
        ["app", "shipped", "1"],
    ]
    at_store = client.get(f"{URL}?{PERIOD}&scope_location=st&export=store_reliability")
    assert [row[:2] for row in rows(at_store)[1:]] == [["st", "4"]]
    bad = client.get(f"{URL}?date_from=2026-03-10&date_to=2026-03-01&scope_channel=nope")
    assert bad.status_code == 400
    assert set(bad.context["form"].errors) == {"date_to", "scope_channel"}
    assert "board" not in bad.context
    drill = client.get(f"{URL}orders/?{PERIOD}&measure=stores&flag=sideways")
    assert drill.status_code == 400
    assert [(e.field, e.code) for e in drill.context["errors"]] == [
        ("location", "required"),
        ("flag", "invalid"),
    ]
    assert client.get(f"{URL}orders/?measure=orders&channel=1e9").status_code == 400
    assert client.get(f"{URL}orders/?{PERIOD}&measure=orders&page=99").status_code == 200
    assert net["A"].pk  # the data is untouched by any of it


def more_orders(net: dict[str, Any], count: int) -> None:
    for index in range(count):
        placed = at(2 + index % 8, 9)
        extra = order(
            net,
            channel="web" if index % 2 else "app",
            placed=placed,
            status="delivered",
            promised=at(9, 18),
        )
        fulfillment(
            net,
            extra,
            "wh" if index % 3 else "st",
            status="delivered",
            routed=at(2 + index % 8, 10),
            accepted=at(2 + index % 8, 11),
            picked=at(2 + index % 8, 12),
            packed=at(2 + index % 8, 13),
            shipped=at(2 + index % 8, 14),
            delivered=at(2 + index % 8, 40),
        )


def page_queries(client: Client) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(f"{URL}?{PERIOD}").status_code == 200
    return len(captured)


def test_the_dashboard_runs_a_fixed_number_of_queries_whatever_the_data() -> None:
    net = month()
    client = staff()
    small = page_queries(client)
    cached = page_queries(client)
    more_orders(net, 40)
    from django.core.cache import cache

    cache.clear()
    large = page_queries(client)
    assert small == large == 23
    # From the cache: only the session, the user and the filter form's choices.
    assert cached == 6
