"""The priced cart as stored on ``Order.pricing``: JSON, money as strings (exact)."""

from __future__ import annotations

import dataclasses
import enum
from decimal import Decimal
from typing import Any

from channels_app.pricing import PricedCart


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


def priced_cart_json(cart: PricedCart) -> dict[str, Any]:
    document: dict[str, Any] = _plain(dataclasses.asdict(cart))
    document["grand_total"] = str(cart.grand_total)
    return document
