"""Back office: pages render, counters change only through services, imports preview first."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from inventory.models import Location, Product, Reservation, StockMovement
from inventory.services import ReserveLine, stock_reserve
from tests.factories import LocationFactory, ProductFactory, SalesChannelFactory, StoreFactory
from tests.inventory.helpers import assert_ledger_consistent, level
from tests.inventory.test_selectors import put_stock

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(db) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(User.objects.create_superuser("camille", "camille@example.com", "pw"))
    return client


@pytest.fixture
def stock(db):  # type: ignore[no-untyped-def]
    web = SalesChannelFactory(code="web")
    warehouse = LocationFactory(code="wh-paris", channels=[web])
    store = StoreFactory(code="st-lyon", channels=[web])
    shirt = ProductFactory(sku="SHIRT")
    shoes = ProductFactory(sku="SHOES")
    put_stock(shirt, warehouse, 20, damaged=2)  # ATP 18
    put_stock(shirt, store, 3)  # ATP 3: low
    put_stock(shoes, warehouse, 5, qc=5)  # ATP 0: out
    (reservation,) = stock_reserve(
        lines=[ReserveLine(product_id=shirt.id, quantity=2, location_id=warehouse.id)]
    )
    return {
        "warehouse": warehouse,
        "store": store,
        "shirt": shirt,
        "shoes": shoes,
        "reservation": reservation,
    }


@pytest.mark.parametrize(
    "url",
    [
        "/admin/inventory/location/?kind__exact=store&is_click_and_collect__exact=1&q=lyon",
        "/admin/inventory/location/add/",
        "/admin/inventory/product/?category=apparel&is_backorderable__exact=0&q=SHI",
        "/admin/inventory/stocklevel/?state=damaged&availability=low&q=SHIRT",
        "/admin/inventory/stocklevel/?location__kind__exact=store",
        "/admin/inventory/stockmovement/?kind__exact=receipt&source=none&q=SHIRT",
        "/admin/inventory/reservation/?status__exact=active&kind__exact=order&scope__exact=location",
        "/admin/inventory/channelstockrule/",
        "/admin/inventory/product/import/",
        "/admin/inventory/location/import/",
        "/admin/inventory/stocklevel/import-count/",
    ],
)
def test_admin_pages_render(staff, stock, url) -> None:  # type: ignore[no-untyped-def]
    assert staff.get(url).status_code == 200


def _codes(response) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    return sorted(
        (level.product.sku, level.location.code) for level in response.context["cl"].result_list
    )


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("availability=out", [("SHOES", "wh-paris")]),
        ("availability=low", [("SHIRT", "st-lyon"), ("SHOES", "wh-paris")]),
        ("availability=available", [("SHIRT", "wh-paris")]),
        ("state=damaged", [("SHIRT", "wh-paris")]),
        ("state=quality_control", [("SHOES", "wh-paris")]),
        ("state=reserved", [("SHIRT", "wh-paris")]),
        ("state=in_transit", []),
    ],
)
def test_stock_level_filters(staff, stock, query, expected) -> None:  # type: ignore[no-untyped-def]
    assert _codes(staff.get(f"/admin/inventory/stocklevel/?{query}")) == expected


def test_stock_level_list_shows_atp_and_the_level_is_read_only(staff, stock) -> None:  # type: ignore[no-untyped-def]
    shirt_level = level(stock["shirt"], stock["warehouse"])
    response = staff.get(
        f"/admin/inventory/stocklevel/?q=SHIRT&location__id__exact={stock['warehouse'].id}"
    )
    assert [row.atp_value for row in response.context["cl"].result_list] == [16]
    detail = staff.get(f"/admin/inventory/stocklevel/{shirt_level.id}/change/")
    assert detail.status_code == 200
    assert detail.context["has_change_permission"] is False
    assert (
        staff.post(f"/admin/inventory/stocklevel/{shirt_level.id}/change/", {}).status_code == 403
    )
    assert staff.get("/admin/inventory/stocklevel/add/").status_code == 403


def test_adjust_form_writes_one_adjustment_movement(staff, stock) -> None:  # type: ignore[no-untyped-def]
    shirt_level = level(stock["shirt"], stock["warehouse"])
    url = f"/admin/inventory/stocklevel/{shirt_level.id}/adjust/"
    assert staff.get(url).status_code == 200
    before = StockMovement.objects.count()
    response = staff.post(url, {"quantity_delta": "-4", "reason": "broken shelf"}, follow=True)
    assert response.redirect_chain == [
        (f"/admin/inventory/stocklevel/{shirt_level.id}/change/", 302)
    ]
    assert [str(m) for m in response.context["messages"]] == [
        "SHIRT at wh-paris: on hand is now 16, ATP 12."
    ]
    movement = StockMovement.objects.get(id__gt=0, stock_level=shirt_level, kind="adjustment")
    assert StockMovement.objects.count() == before + 1
    assert (movement.delta_on_hand, movement.reason, movement.actor, movement.source) == (
        -4,
        "broken shelf",
        "camille",
        "admin",
    )
    assert level(stock["shirt"], stock["warehouse"]).on_hand == 16
    assert_ledger_consistent()


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"quantity_delta": "3", "reason": ""}, "reason", "This field is required."),
        ({"quantity_delta": "0", "reason": "x"}, "quantity_delta", "Must not be zero."),
        (
            {"quantity_delta": "-21", "reason": "x"},
            "quantity_delta",
            "Would make on hand negative.",
        ),
        (
            {"quantity_delta": str(2**40), "reason": "x"},  # past the integer column: no 500
            "quantity_delta",
            "Ensure this value is less than or equal to 1000000.",
        ),
    ],
)
def test_a_refused_adjustment_changes_nothing(staff, stock, data, field, message) -> None:  # type: ignore[no-untyped-def]
    shirt_level = level(stock["shirt"], stock["warehouse"])
    before = StockMovement.objects.count()
    response = staff.post(f"/admin/inventory/stocklevel/{shirt_level.id}/adjust/", data)
    assert response.status_code == 200
    assert response.context["form"].errors[field] == [message]
    assert StockMovement.objects.count() == before
    assert level(stock["shirt"], stock["warehouse"]).on_hand == 20


def test_the_ledger_refuses_add_change_and_delete(staff, stock) -> None:  # type: ignore[no-untyped-def]
    movement = StockMovement.objects.order_by("id").first()
    assert movement is not None
    assert staff.get("/admin/inventory/stockmovement/add/").status_code == 403
    assert (
        staff.post(f"/admin/inventory/stockmovement/{movement.id}/change/", {}).status_code == 403
    )
    assert (
        staff.post(
            f"/admin/inventory/stockmovement/{movement.id}/delete/", {"post": "yes"}
        ).status_code
        == 403
    )
    assert staff.get(f"/admin/inventory/stockmovement/{movement.id}/change/").status_code == 200
    assert StockMovement.objects.filter(id=movement.id).exists()


def test_release_action_goes_through_the_service(staff, stock) -> None:  # type: ignore[no-untyped-def]
    reservation = stock["reservation"]
    response = staff.post(
        "/admin/inventory/reservation/",
        {"action": "release", "_selected_action": [reservation.id]},
        follow=True,
    )
    assert [str(m) for m in response.context["messages"]] == ["1 reservation(s) released."]
    reservation.refresh_from_db()
    assert (reservation.status, reservation.quantity) == (Reservation.Status.RELEASED, 0)
    assert level(stock["shirt"], stock["warehouse"]).reserved == 0
    release = StockMovement.objects.get(kind="release")
    assert (release.delta_reserved, release.actor) == (-2, "camille")
    assert_ledger_consistent()


# --- imports -------------------------------------------------------------------------------


def _import(staff, model: str, content: str):  # type: ignore[no-untyped-def]
    """Upload through django-import-export (preview), then confirm; return both responses."""
    upload = SimpleUploadedFile(f"{model}.csv", content.encode(), content_type="text/csv")
    formats = [fmt().get_title() for fmt in staff_formats()]
    preview = staff.post(
        f"/admin/inventory/{model}/import/",
        {"import_file": upload, "format": str(formats.index("csv"))},
    )
    assert preview.status_code == 200
    return preview


def staff_formats():  # type: ignore[no-untyped-def]
    from inventory.admin import ProductAdmin

    return ProductAdmin(Product, None).get_import_formats()  # type: ignore[arg-type]


def _confirm(staff, model: str, preview):  # type: ignore[no-untyped-def]
    form = preview.context["confirm_form"]
    return staff.post(
        f"/admin/inventory/{model}/process_import/",
        {name: form.initial[name] for name in form.fields if name in form.initial},
        follow=True,
    )


def test_product_import_previews_then_creates_and_updates_by_sku(staff, stock) -> None:  # type: ignore[no-untyped-def]
    content = (
        "sku,ean,name,category,weight_grams,is_backorderable,is_active\n"
        "SHIRT,,Shirt (new name),apparel,500,1,1\n"
        "CAP-1,3000000000017,Cap,hats,120,0,1\n"
        "CAP-2,,Cap two,hats,130,0,1\n"
    )
    preview = _import(staff, "product", content)
    result = preview.context["result"]
    assert [row.import_type for row in result.rows] == ["update", "new", "new"]
    assert not Product.objects.filter(sku="CAP-1").exists()  # a preview writes nothing
    assert Product.objects.get(sku="SHIRT").name == "Product SHIRT"
    _confirm(staff, "product", preview)
    assert list(
        Product.objects.filter(sku__in=["SHIRT", "CAP-1", "CAP-2"])
        .order_by("sku")
        .values_list("sku", "ean", "name", "is_backorderable")
    ) == [
        ("CAP-1", "3000000000017", "Cap", False),
        ("CAP-2", None, "Cap two", False),
        ("SHIRT", None, "Shirt (new name)", True),
    ]


def test_product_import_reports_invalid_rows_without_writing(staff, stock) -> None:  # type: ignore[no-untyped-def]
    preview = _import(staff, "product", "sku,name,weight_grams\nBAD,,500\nWORSE,x,heavy\n")
    result = preview.context["result"]
    assert [row.error_dict for row in result.invalid_rows] == [
        {"name": ["This field cannot be blank."]}
    ]
    assert result.has_errors()  # "heavy" is not a number
    assert "confirm_form" not in preview.context
    assert not Product.objects.filter(sku="BAD").exists()


def test_location_import_sets_channels_by_code(staff, stock) -> None:  # type: ignore[no-untyped-def]
    SalesChannelFactory(code="app")
    content = (
        "code,name,kind,city,postcode,latitude,longitude,is_click_and_collect,channels\n"
        "st-nice,Nice Masséna,store,Nice,06000,43.6977,7.2700,1,web|app\n"
    )
    preview = _import(staff, "location", content)
    assert [row.import_type for row in preview.context["result"].rows] == ["new"]
    _confirm(staff, "location", preview)
    nice = Location.objects.get(code="st-nice")
    assert (nice.name, nice.kind, nice.postcode, nice.is_click_and_collect) == (
        "Nice Masséna",
        "store",
        "06000",
        True,
    )
    assert sorted(nice.channels.values_list("code", flat=True)) == ["app", "web"]


COUNT_URL = "/admin/inventory/stocklevel/import-count/"


def _upload_count(staff, content: str, name: str = "count.csv"):  # type: ignore[no-untyped-def]
    upload = SimpleUploadedFile(name, content.encode(), content_type="text/csv")
    return staff.post(COUNT_URL, {"file": upload})


def test_stock_count_import_previews_then_counts_through_the_service(staff, stock) -> None:  # type: ignore[no-untyped-def]
    new_shoes_place = stock["store"]
    preview = _upload_count(
        staff, "sku,location,counted\nSHIRT,wh-paris,17\nSHOES,st-lyon,4\nSHIRT,st-lyon,3\n"
    )
    rows = preview.context["rows"]
    assert [(r.sku, r.location, r.on_hand, r.counted, r.difference, r.error) for r in rows] == [
        ("SHIRT", "wh-paris", 20, 17, -3, ""),
        ("SHOES", "st-lyon", 0, 4, 4, ""),
        ("SHIRT", "st-lyon", 3, 3, 0, ""),
    ]
    assert StockMovement.objects.filter(kind="count").count() == 0  # preview only
    payload = preview.context["payload"]
    response = staff.post(COUNT_URL, {"confirm": "1", "payload": payload}, follow=True)
    assert [str(m) for m in response.context["messages"]] == [
        "Stock count applied: 3 row(s), 2 level(s) changed, 0 failed."
    ]
    counts = StockMovement.objects.filter(kind="count").order_by("id")
    assert [
        (m.stock_level.product.sku, m.stock_level.location.code, m.delta_on_hand, m.actor, m.source)
        for m in counts
    ] == [
        ("SHIRT", "wh-paris", -3, "camille", "admin:count-import"),
        ("SHOES", "st-lyon", 4, "camille", "admin:count-import"),
    ]
    assert level(stock["shoes"], new_shoes_place).on_hand == 4
    assert_ledger_consistent()


def test_stock_count_preview_with_errors_cannot_be_confirmed(staff, stock) -> None:  # type: ignore[no-untyped-def]
    preview = _upload_count(
        staff,
        "sku,location,counted\nNOPE,wh-paris,1\nSHIRT,nowhere,1\nSHIRT,wh-paris,-2\n"
        "SHIRT,st-lyon,1\nSHIRT,st-lyon,2\nSHOES,wh-paris,99999999999\n",
    )
    assert [r.error for r in preview.context["rows"]] == [
        "Unknown SKU 'NOPE'.",
        "Unknown location 'nowhere'.",
        "Counted must be a whole number from 0 to 1000000 (got '-2').",
        "",
        "Counted twice in this file.",
        "Counted must be a whole number from 0 to 1000000 (got '99999999999').",
    ]
    assert preview.context["payload"] == ""
    assert b'name="confirm"' not in preview.content
    missing = _upload_count(staff, "sku,counted\nSHIRT,1\n")
    assert missing.context["form"].errors["file"] == ["Missing column(s): location."]


def test_a_tampered_stock_count_payload_is_refused(staff, stock) -> None:  # type: ignore[no-untyped-def]
    preview = _upload_count(staff, "sku,location,counted\nSHIRT,wh-paris,17\n")
    payload = preview.context["payload"]
    forged = re.sub(r"^.", "x", payload)
    response = staff.post(COUNT_URL, {"confirm": "1", "payload": forged}, follow=True)
    assert [str(m) for m in response.context["messages"]] == [
        "The preview expired or was altered; upload the file again."
    ]
    assert level(stock["shirt"], stock["warehouse"]).on_hand == 20


def test_stock_count_import_reads_xlsx(staff, stock) -> None:  # type: ignore[no-untyped-def]
    import tablib

    dataset = tablib.Dataset(headers=["sku", "location", "counted"])
    dataset.append(["SHIRT", "st-lyon", 9])
    upload = SimpleUploadedFile("count.xlsx", dataset.export("xlsx"))
    preview = staff.post(COUNT_URL, {"file": upload})
    assert [(r.sku, r.on_hand, r.counted) for r in preview.context["rows"]] == [("SHIRT", 3, 9)]
