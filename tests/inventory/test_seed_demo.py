"""Demo data: exact counts, determinism, idempotency, valid codes, counters = ledger."""

from __future__ import annotations

from dataclasses import dataclass
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection, transaction

from channels_app.models import Address, ChannelAPIKey, Customer, SalesChannel
from inventory.demo import (
    CustomerSpec,
    LocationSpec,
    ProductSpec,
    StockSpec,
    demo_plan,
    ean13_check_digit,
    french_vat_number,
    generate_customers,
    generate_locations,
    generate_products,
    generate_stock,
    is_valid_ean13,
    store_cities,
)
from inventory.demo_seed import api_keys_write, seed_demo
from inventory.models import Location, Product, StockLevel, StockMovement

SCALE = 0.05
SEED = 7


@dataclass(frozen=True)
class Generated:
    locations: list[LocationSpec]
    products: list[ProductSpec]
    stock: list[list[StockSpec]]
    customers: list[CustomerSpec]


def _generated(seed: int) -> Generated:
    plan = demo_plan(scale=SCALE, seed=seed)
    locations = generate_locations(plan=plan)
    products = generate_products(plan=plan)
    skus = [product.sku for product in products]
    return Generated(
        locations=locations,
        products=products,
        stock=[generate_stock(plan=plan, location=loc, skus=skus) for loc in locations],
        customers=generate_customers(plan=plan, cities=store_cities(plan=plan)),
    )


def _movements_expected(seed: int) -> int:
    plan = demo_plan(scale=SCALE, seed=seed)
    skus = [product.sku for product in generate_products(plan=plan)]
    return sum(
        1
        for location in generate_locations(plan=plan)
        for row in generate_stock(plan=plan, location=location, skus=skus)
        if row.quantity > 0
    )


def _snapshot() -> dict[str, list[tuple[object, ...]]]:
    """The seeded data by natural keys (database ids differ between runs)."""
    return {
        "products": list(Product.objects.order_by("sku").values_list("sku", "ean", "name")),
        "locations": list(
            Location.objects.order_by("code").values_list("code", "city", "latitude")
        ),
        "stock": list(
            StockLevel.objects.order_by("product__sku", "location__code").values_list(
                "product__sku", "location__code", "on_hand", "safety_stock"
            )
        ),
        "customers": list(
            Customer.objects.order_by("email").values_list("email", "vat_number", "loyalty_id")
        ),
    }


def _counts() -> dict[str, int]:
    return {
        "channels": SalesChannel.objects.count(),
        "locations": Location.objects.count(),
        "products": Product.objects.count(),
        "customers": Customer.objects.count(),
        "addresses": Address.objects.count(),
        "stock_levels": StockLevel.objects.count(),
        "movements": StockMovement.objects.count(),
        "users": get_user_model().objects.count(),
        "api_keys": ChannelAPIKey.objects.count(),
    }


def test_plan_at_small_scale() -> None:
    plan = demo_plan(scale=SCALE, seed=SEED)

    assert (plan.warehouse_count, plan.store_count) == (1, 3)
    assert (plan.product_count, plan.customer_count) == (100, 25)
    assert plan.stock_row_count == 1 * 100 + 3 * 50


def test_plan_at_scale_one_and_five() -> None:
    one, five = demo_plan(scale=1, seed=SEED), demo_plan(scale=5, seed=SEED)

    assert (one.warehouse_count, one.store_count, one.product_count) == (3, 40, 2000)
    assert one.customer_count == 500
    assert (five.product_count, five.store_count) == (10_000, 200)


@pytest.mark.parametrize("scale", [0, -1, 101])
def test_plan_refuses_a_bad_scale(scale: float) -> None:
    with pytest.raises(ValueError, match="scale"):
        demo_plan(scale=scale, seed=SEED)


def test_generation_is_deterministic_for_a_seed() -> None:
    assert _generated(SEED) == _generated(SEED)
    same, other = _generated(SEED), _generated(SEED + 1)
    assert [p.ean for p in other.products] != [p.ean for p in same.products]
    assert [row.quantity for rows in other.stock for row in rows] != [
        row.quantity for rows in same.stock for row in rows
    ]


def test_products_are_the_same_prefix_at_every_scale() -> None:
    small = generate_products(plan=demo_plan(scale=SCALE, seed=SEED))
    large = generate_products(plan=demo_plan(scale=0.5, seed=SEED))

    assert large[: len(small)] == small


def test_products_have_unique_skus_and_valid_unique_eans() -> None:
    products = generate_products(plan=demo_plan(scale=1, seed=SEED))

    assert len({p.sku for p in products}) == len({p.ean for p in products}) == 2000
    assert all(is_valid_ean13(product.ean) for product in products)
    assert products[0].sku == "SKU-000001"
    assert {p.category for p in products} == {
        "apparel",
        "shoes",
        "electronics",
        "home",
        "beauty",
        "sports",
        "toys",
        "books",
    }


def test_ean13_check_digit_matches_known_codes() -> None:
    assert ean13_check_digit("400638133393") == "1"
    assert is_valid_ean13("4006381333931")
    assert not is_valid_ean13("4006381333932")


def test_french_vat_number_key() -> None:
    assert french_vat_number(siren="404833048") == "FR83404833048"


def test_locations_warehouses_and_stores() -> None:
    locations = generate_locations(plan=demo_plan(scale=1, seed=SEED))
    warehouses = [loc for loc in locations if loc.kind == Location.Kind.WAREHOUSE]
    stores = [loc for loc in locations if loc.kind == Location.Kind.STORE]

    assert [w.city for w in warehouses] == [
        "Tremblay-en-France",
        "Saint-Priest",
        "Villeneuve-d'Ascq",
    ]
    assert len(stores) == 40
    assert len({loc.code for loc in locations}) == 43
    assert stores[0].city == "Paris"
    assert all(w.ships_parcels and "marketplace" in w.channel_codes for w in warehouses)
    assert all(s.is_click_and_collect and "marketplace" not in s.channel_codes for s in stores)
    assert all(
        set(loc.opening_hours) == {"mon", "tue", "wed", "thu", "fri", "sat", "sun"}
        for loc in locations
    )


@pytest.mark.django_db
def test_seed_creates_exact_counts(tmp_path: Path) -> None:
    report = seed_demo(plan=demo_plan(scale=SCALE, seed=SEED), api_keys_path=tmp_path / "keys")

    assert _counts() == {
        "channels": 6,
        "locations": 4,
        "products": 100,
        "customers": 25,
        "addresses": 25,
        "stock_levels": 250,
        "movements": _movements_expected(SEED),
        "users": 2,
        "api_keys": 6,
    }
    assert _movements_expected(SEED) == 224
    assert StockMovement.objects.exclude(kind=StockMovement.Kind.RECEIPT).count() == 0
    assert StockLevel.objects.filter(on_hand=0).count() == 250 - 224
    assert not report.is_unchanged
    marketplace = SalesChannel.objects.get(code="marketplace")
    assert (marketplace.rationing_percent, marketplace.buffer_units) == (30, 1)
    assert set(marketplace.locations.values_list("kind", flat=True)) == {"warehouse"}
    assert SalesChannel.objects.get(code="web").locations.count() == 4
    admin, store = get_user_model().objects.order_by("username")
    assert (admin.username, admin.is_staff, admin.is_superuser) == ("admin", True, True)
    assert (store.username, store.is_staff, store.is_superuser) == ("store", False, False)
    assert admin.check_password("admin")
    assert store.check_password("store")


@pytest.mark.django_db
def test_counters_equal_the_ledger_for_every_stock_level(tmp_path: Path) -> None:
    seed_demo(plan=demo_plan(scale=SCALE, seed=SEED), api_keys_path=tmp_path / "keys")

    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT count(*) FROM inventory_stocklevel s
            LEFT JOIN (
                SELECT stock_level_id, sum(delta_on_hand) AS on_hand,
                       sum(delta_reserved) AS reserved, sum(delta_damaged) AS damaged,
                       sum(delta_quality_control) AS quality_control,
                       sum(delta_in_transit) AS in_transit, sum(delta_incoming) AS incoming
                FROM inventory_stockmovement GROUP BY stock_level_id
            ) m ON m.stock_level_id = s.id
            WHERE s.on_hand <> coalesce(m.on_hand, 0) OR s.reserved <> coalesce(m.reserved, 0)
               OR s.damaged <> coalesce(m.damaged, 0)
               OR s.quality_control <> coalesce(m.quality_control, 0)
               OR s.in_transit <> coalesce(m.in_transit, 0)
               OR s.incoming <> coalesce(m.incoming, 0)
            """
        )
        assert cursor.fetchone() == (0,)
    assert StockLevel.objects.filter(on_hand__gt=0).count() == StockMovement.objects.count()


@pytest.mark.django_db
def test_second_run_adds_nothing(tmp_path: Path) -> None:
    plan = demo_plan(scale=SCALE, seed=SEED)
    seed_demo(plan=plan, api_keys_path=tmp_path / "keys")
    before = _counts()

    report = seed_demo(plan=plan, api_keys_path=tmp_path / "keys")

    assert _counts() == before
    assert report.is_unchanged
    assert report.api_keys == ()
    assert {s.name: s.present for s in report.sections}["stock levels"] == 250


@pytest.mark.django_db
def test_two_fresh_databases_with_the_same_seed_hold_the_same_data(tmp_path: Path) -> None:
    plan = demo_plan(scale=SCALE, seed=SEED)
    snapshots = []
    for _ in range(2):
        with transaction.atomic():
            seed_demo(plan=plan, api_keys_path=tmp_path / "keys")
            snapshots.append(_snapshot())
            transaction.set_rollback(True)  # the next run starts from an empty database

    assert snapshots[0] == snapshots[1]
    assert len(snapshots[0]["stock"]) == 250


@pytest.mark.django_db
def test_a_larger_scale_adds_only_what_is_missing(tmp_path: Path) -> None:
    seed_demo(plan=demo_plan(scale=SCALE, seed=SEED), api_keys_path=tmp_path / "keys")
    first_products = list(Product.objects.order_by("sku").values_list("sku", "ean"))

    report = seed_demo(plan=demo_plan(scale=0.1, seed=SEED), api_keys_path=tmp_path / "keys")

    created = {s.name: s.created for s in report.sections}
    assert (created["products"], created["customers"], created["channels"]) == (100, 25, 0)
    assert Customer.objects.count() == Address.objects.count() == 50
    assert list(Product.objects.order_by("sku").values_list("sku", "ean")[:100]) == first_products


@pytest.mark.django_db
def test_existing_passwords_are_never_reset(tmp_path: Path) -> None:
    get_user_model().objects.create_user(username="admin", password="changed-by-operator")

    seed_demo(plan=demo_plan(scale=SCALE, seed=SEED), api_keys_path=tmp_path / "keys")

    admin = get_user_model().objects.get(username="admin")
    assert admin.check_password("changed-by-operator")
    assert not admin.is_superuser


@pytest.mark.django_db
def test_key_file_keeps_only_valid_keys(tmp_path: Path) -> None:
    path = tmp_path / "var" / "demo-api-keys.txt"
    report = seed_demo(plan=demo_plan(scale=SCALE, seed=SEED), api_keys_path=path)
    written = path.read_text().splitlines()[1:]
    assert written == [f"{code} {secret}" for code, secret in sorted(report.api_keys)]
    assert all(ChannelAPIKey.objects.is_valid(line.split()[1]) for line in written)

    path.write_text(path.read_text() + "gone AbCdEf12.not-a-key-any-more\n")
    api_keys_write(path=path, created=[("extra", "x.y")])

    codes = [line.split()[0] for line in path.read_text().splitlines()[1:]]
    assert codes == ["app", "b2b", "callcentre", "extra", "marketplace", "pos", "web"]


@pytest.mark.django_db
def test_command_prints_keys_once_then_says_already_present(tmp_path: Path, settings: Any) -> None:
    settings.VAR_DIR = tmp_path
    first, second = StringIO(), StringIO()

    call_command("seed_demo", "--scale", "0.05", "--seed", str(SEED), stdout=first)
    call_command("seed_demo", "--scale", "0.05", "--seed", str(SEED), stdout=second)

    assert "demo data created" in first.getvalue()
    assert "API keys (shown once" in first.getvalue()
    assert (tmp_path / "demo-api-keys.txt").exists()
    assert second.getvalue().startswith("demo data already present: 6 channels, 4 locations")
    assert "nothing added" in second.getvalue()
    assert "API keys (shown once" not in second.getvalue()
