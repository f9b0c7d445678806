"""Product feed from a PIM: create and update products by SKU (a ``products`` feed job).

Columns (CSV header or JSON keys), every one optional but ``sku``: ``name`` (required for a new
SKU), ``ean`` (GTIN-8/12/13/14 with a valid check digit, unique), ``category``, ``weight_grams``,
``length_mm``, ``width_mm``, ``height_mm``, ``tax_class``, ``hs_code`` (6 to 12 digits),
``country_of_origin`` (ISO alpha-2), ``is_active``, ``is_backorderable``, ``preorder_date``.
A column left out leaves the field as it is; an empty cell clears it (no EAN, 0 for a
dimension), except ``name`` and ``tax_class``, which a product always has.

Only fields that differ are written, with one ``product.created`` or ``product.updated``
outbox event per changed product (``changed``: the field names), so replaying a file writes
nothing. Products are never deleted: send ``is_active=false``. Moving an EAN from one SKU to
another takes two files (clear it, then set it): within one file it is refused as taken.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from channels_app.feed_values import (
    CellError,
    cell_bool,
    cell_date,
    cell_int,
    cell_text,
    changed_rows_save,
    is_empty,
    values_assign,
)
from inventory.models import Product
from inventory.services.master_data_feeds import BatchOutcome, FeedRow, Problem
from omnilog.core.errors import FieldError
from omnilog.core.outbox import outbox_emit_many


def gtin_is_valid(code: str) -> bool:
    """GS1 check digit (GTIN-8, 12, 13, 14)."""
    if not code.isdigit() or len(code) not in (8, 12, 13, 14):
        return False
    body, check = code[:-1], int(code[-1])
    total = sum(int(digit) * (3 if index % 2 == 0 else 1) for index, digit in enumerate(body[::-1]))
    return (10 - total % 10) % 10 == check


def _ean(value: Any) -> str | None:
    if is_empty(value):
        return None
    code = cell_text(value, max_length=14)
    if not code.isdigit() or len(code) not in (8, 12, 13, 14):
        raise CellError("A GTIN has 8, 12, 13 or 14 digits.")
    if not gtin_is_valid(code):
        raise CellError("The check digit is wrong.", "invalid_checksum")
    return code


def _required_text(max_length: int) -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        text = cell_text(value, max_length=max_length)
        if not text:
            raise CellError("Cannot be empty.", "required")
        return text

    return parse


def _hs_code(value: Any) -> str:
    code = cell_text(value, max_length=12).replace(".", "").replace(" ", "")
    if code and (not code.isdigit() or len(code) < 6):
        raise CellError("6 to 12 digits.")
    return code


def _country(value: Any) -> str:
    code = cell_text(value, max_length=2).upper()
    if code and not (len(code) == 2 and code.isascii() and code.isalpha()):
        raise CellError("An ISO 3166-1 alpha-2 code (e.g. FR).")
    return code


def _dimension(value: Any) -> int:
    return cell_int(value) or 0


PARSERS: dict[str, Callable[[Any], Any]] = {
    "name": _required_text(200),
    "ean": _ean,
    "category": lambda value: cell_text(value, max_length=64),
    "weight_grams": _dimension,
    "length_mm": _dimension,
    "width_mm": _dimension,
    "height_mm": _dimension,
    "tax_class": _required_text(16),
    "hs_code": _hs_code,
    "country_of_origin": _country,
    "is_active": cell_bool,
    "is_backorderable": cell_bool,
    "preorder_date": cell_date,
}
COLUMNS = frozenset({"sku", *PARSERS})


@dataclass(frozen=True)
class ProductItem:
    row: FeedRow
    sku: str
    values: dict[str, Any]


class ProductFeed:
    """The ``products`` kind of ``inventory.services.master_data_feeds`` (one per job run)."""

    columns = COLUMNS

    def __init__(self) -> None:
        self._ean_rows: dict[str, tuple[str, int]] = {}  # EANs claimed by earlier rows

    def key(self, row: FeedRow) -> str:
        value = row.values.get("sku")
        return value.strip() if isinstance(value, str) else ""

    def _parse(self, row: FeedRow) -> tuple[ProductItem | None, list[FieldError]]:
        if "__malformed__" in row.values:
            return None, [FieldError("row", "Not a row of the header's columns.", "malformed_row")]
        errors: list[FieldError] = [
            FieldError(name, "Unknown field.", "unknown_field")
            for name in sorted(set(row.values) - COLUMNS)
        ]
        sku = ""
        try:
            sku = cell_text(row.values.get("sku"), max_length=32)
            if not sku:
                errors.append(FieldError("sku", "A row needs its SKU.", "required"))
        except CellError as error:
            errors.append(FieldError("sku", error.message, error.code))
        values: dict[str, Any] = {}
        for name, parse in PARSERS.items():
            if name in row.values:
                try:
                    values[name] = parse(row.values[name])
                except CellError as error:
                    errors.append(FieldError(name, error.message, error.code))
        if errors:
            return None, errors
        return ProductItem(row, sku, values), []

    def check(self, rows: Sequence[FeedRow]) -> tuple[list[ProductItem], list[Problem]]:
        parsed = [(row, *self._parse(row)) for row in rows]
        items = [item for _row, item, _errors in parsed if item is not None]
        existing = dict(
            Product.objects.filter(sku__in=[item.sku for item in items]).values_list("sku", "pk")
        )
        eans = [item.values["ean"] for item in items if item.values.get("ean")]
        ean_holders = {
            ean: sku
            for ean, sku in Product.objects.filter(ean__in=eans).values_list("ean", "sku")
            if ean
        }
        valid: list[ProductItem] = []
        problems: list[Problem] = []
        for row, item, errors in parsed:
            if item is not None:
                errors = self._item_errors(item, existing, ean_holders)
            if errors or item is None:
                problems.append((row, self.key(row), errors))
            else:
                valid.append(item)
        return valid, problems

    def _item_errors(
        self, item: ProductItem, existing: dict[str, int], ean_holders: dict[str, str]
    ) -> list[FieldError]:
        errors = []
        if item.sku not in existing and "name" not in item.values:
            errors.append(FieldError("name", "A new product needs a name.", "required"))
        ean = item.values.get("ean")
        if ean:
            holder = ean_holders.get(ean)
            claimed = self._ean_rows.get(ean)
            if holder is not None and holder != item.sku:
                errors.append(FieldError("ean", f"Held by SKU {holder}.", "ean_taken"))
            elif claimed is not None and claimed[0] != item.sku:
                errors.append(FieldError("ean", f"Also given to row {claimed[1]}.", "duplicate"))
            else:
                self._ean_rows[ean] = (item.sku, item.row.number)
        return errors

    def apply(self, items: Sequence[ProductItem], *, job_id: str, actor: str) -> BatchOutcome:
        """Inside the caller's transaction: locks the batch's existing products (pk order)."""
        locked = {
            product.sku: product
            for product in Product.objects.select_for_update()
            .filter(sku__in=[item.sku for item in items])
            .order_by("pk")
        }
        now = timezone.now()
        created: list[Product] = []
        changed: list[tuple[Product, list[str]]] = []
        unchanged = 0
        for item in items:
            product = locked.get(item.sku)
            if product is None:
                created.append(Product(sku=item.sku, **item.values))
                continue
            fields = values_assign(product, item.values, now)
            if fields:
                changed.append((product, fields))
            else:
                unchanged += 1
        Product.objects.bulk_create(created)
        changed_rows_save(Product, changed)
        source = {"source": "pim_feed", "job_id": job_id, "actor": actor}
        outbox_emit_many(
            [
                (
                    "product.created",
                    "product",
                    product.pk,
                    {"product_id": product.pk, "sku": product.sku, **source},
                )
                for product in created
            ]
            + [
                (
                    "product.updated",
                    "product",
                    product.pk,
                    {"product_id": product.pk, "sku": product.sku, "changed": fields, **source},
                )
                for product, fields in changed
            ]
        )
        return BatchOutcome(created=len(created), updated=len(changed), unchanged=unchanged)
