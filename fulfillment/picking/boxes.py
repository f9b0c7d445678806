"""Box suggestion for packing: the smallest box of a catalogue that fits the items (pure).

An item fits a box when its dimensions, both sorted, fit the box's inner dimensions one by one
(any rotation); the items together fit when their volume is at most ``fill_ratio`` of the
box's inner volume and their weight plus the box's own weight is at most the box's limit.
Items with unknown dimensions (any side 0) add weight only. This is a deliberately simple
rule: no 3-D bin packing, a fill ratio for the air between items.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Box:
    code: str
    length_mm: int  # inner dimensions
    width_mm: int
    height_mm: int
    max_weight_grams: int  # box included
    tare_grams: int = 0

    @property
    def volume_mm3(self) -> int:
        return self.length_mm * self.width_mm * self.height_mm


@dataclass(frozen=True)
class PackItem:
    """``quantity`` units of one product, dimensions and weight per unit."""

    length_mm: int
    width_mm: int
    height_mm: int
    weight_grams: int
    quantity: int = 1

    @property
    def is_measured(self) -> bool:
        return min(self.length_mm, self.width_mm, self.height_mm) > 0


BOX_CATALOGUE: tuple[Box, ...] = (
    Box("XS", 200, 150, 50, 2_000, 60),
    Box("S", 300, 200, 100, 5_000, 120),
    Box("M", 400, 300, 200, 10_000, 250),
    Box("L", 500, 400, 300, 20_000, 400),
    Box("XL", 600, 500, 400, 30_000, 600),
)

FILL_RATIO = 0.8


def _fits_one(item: PackItem, box: Box) -> bool:
    sides = sorted((item.length_mm, item.width_mm, item.height_mm))
    inner = sorted((box.length_mm, box.width_mm, box.height_mm))
    return all(side <= room for side, room in zip(sides, inner, strict=True))


def box_fits(items: Sequence[PackItem], box: Box, *, fill_ratio: float = FILL_RATIO) -> bool:
    weight = box.tare_grams + sum(item.weight_grams * item.quantity for item in items)
    if weight > box.max_weight_grams:
        return False
    measured = [item for item in items if item.is_measured]
    if any(not _fits_one(item, box) for item in measured):
        return False
    volume = sum(
        item.length_mm * item.width_mm * item.height_mm * item.quantity for item in measured
    )
    return volume <= box.volume_mm3 * fill_ratio


def box_suggest(
    items: Sequence[PackItem],
    catalogue: Sequence[Box] = BOX_CATALOGUE,
    *,
    fill_ratio: float = FILL_RATIO,
) -> Box | None:
    """The smallest box (inner volume, then max weight, then code) the items fit in; None when
    none does (split the parcel)."""
    for box in sorted(catalogue, key=lambda b: (b.volume_mm3, b.max_weight_grams, b.code)):
        if box_fits(items, box, fill_ratio=fill_ratio):
            return box
    return None


def box_by_code(code: str, catalogue: Sequence[Box] = BOX_CATALOGUE) -> Box | None:
    return next((box for box in catalogue if box.code == code), None)
