"""Bin addresses and the walk: parse ``A-03-2-B`` into a sortable key, order the stops of a
pick list along the strategy's walk path, and estimate the walk."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from fulfillment.picking.types import (
    BinAddress,
    NaturalKey,
    NaturalPart,
    WalkEstimate,
    WalkPath,
)

_BIN = re.compile(r"([A-Z0-9]+)-([0-9]+)(?:-([A-Z0-9]+))?(?:-([A-Z0-9]+))?")
_TOKENS = re.compile(r"[0-9]+|[^0-9]+")
UNKNOWN_AISLE = "?"  # the zone of unparsable bins, for the walk estimate

# (is unknown, aisle rank, signed bay, level, slot, raw, sku): stops of one list in walk order.
WalkKey = tuple[int, int, int, NaturalKey, NaturalKey, str, str]


def natural_key(text: str) -> NaturalKey:
    """Digits compare as numbers, text by length then alphabet (``B`` < ``Z`` < ``AA``)."""
    parts: list[NaturalPart] = []
    for token in _TOKENS.findall(text):
        parts.append((0, int(token), "") if token.isdigit() else (1, len(token), token))
    return tuple(parts)


@lru_cache(maxsize=65_536)
def parse_bin(raw: str) -> BinAddress:
    """``aisle-bay[-level[-slot]]`` (letters/digits, bay numeric, case-insensitive); anything
    else is an unknown bin that sorts after every known one."""
    text = raw.strip().upper()
    match = _BIN.fullmatch(text)
    if match is None:
        return BinAddress(raw=raw, is_known=False, sort_key=(1, (), 0, (), (), text))
    aisle, bay, level, slot = match.group(1), int(match.group(2)), match.group(3), match.group(4)
    level, slot = level or "", slot or ""
    return BinAddress(
        raw=raw,
        is_known=True,
        aisle=aisle,
        bay=bay,
        level=level,
        slot=slot,
        sort_key=(0, natural_key(aisle), bay, natural_key(level), natural_key(slot), text),
    )


def walk_keys(addresses: Sequence[tuple[BinAddress, str]], path: WalkPath) -> list[WalkKey]:
    """The walk key of each (bin, sku) of one list: aisles in path order; with the serpentine
    path the k-th visited aisle is walked up (k even) or down (k odd) its bays; level and slot
    ascend within a bay; unknown bins come last by text. Total order: ties end on raw, sku."""
    aisles = sorted({address.sort_key[1] for address, _sku in addresses if address.is_known})
    rank = {aisle: index for index, aisle in enumerate(aisles)}
    keys: list[WalkKey] = []
    for address, sku in addresses:
        key = address.sort_key
        if not address.is_known:
            keys.append((1, 0, 0, (), (), key[5], sku))
            continue
        aisle_rank = rank[key[1]]
        is_down = path == WalkPath.SERPENTINE and aisle_rank % 2 == 1
        keys.append((0, aisle_rank, -key[2] if is_down else key[2], key[3], key[4], key[5], sku))
    return keys


def estimate_walk(addresses: Sequence[BinAddress], *, aisle_change_bays: int) -> WalkEstimate:
    """The walk metric of stops already in walking order (see ``WalkEstimate``)."""
    changes = bays = 0
    visited: set[str] = set()
    previous: BinAddress | None = None
    for address in addresses:
        aisle = address.aisle if address.is_known else UNKNOWN_AISLE
        visited.add(aisle)
        previous_aisle = None
        if previous is not None:
            previous_aisle = previous.aisle if previous.is_known else UNKNOWN_AISLE
        if aisle != previous_aisle:
            changes += 1
        elif address.is_known and previous is not None:
            bays += abs(address.bay - previous.bay)
        previous = address
    return WalkEstimate(
        aisles_visited=len(visited),
        aisle_changes=changes,
        bays_walked=bays,
        score=changes * aisle_change_bays + bays,
    )
