"""Carrier adapters by code. The built-in ``omnilog-rates`` needs no network; real carriers
(HTTP adapters, outside this pure package) register a factory when their app starts."""

from __future__ import annotations

from collections.abc import Callable

from fulfillment.carriers.base import CarrierAdapter, CarrierError
from fulfillment.carriers.rate_table import DEFAULT_RATE_TABLE, RateTableCarrier

BUILT_IN_CODE = DEFAULT_RATE_TABLE.carrier_code

_FACTORIES: dict[str, Callable[[], CarrierAdapter]] = {BUILT_IN_CODE: RateTableCarrier}


def carrier_register(code: str, factory: Callable[[], CarrierAdapter]) -> None:
    """Make ``carrier_get(code)`` build adapters with ``factory``. Registering a code twice
    with another factory is a programming error (two apps claiming one carrier)."""
    existing = _FACTORIES.get(code)
    if existing is not None and existing is not factory:
        raise CarrierError("carrier_already_registered", f"carrier {code!r} is already registered")
    _FACTORIES[code] = factory


def carrier_codes() -> tuple[str, ...]:
    return tuple(sorted(_FACTORIES))


def carrier_get(code: str) -> CarrierAdapter:
    """The adapter registered under ``code``; ``CarrierError("unknown_carrier")`` otherwise."""
    factory = _FACTORIES.get(code)
    if factory is None:
        raise CarrierError(
            "unknown_carrier",
            f"no carrier {code!r}; known: {', '.join(carrier_codes())}",
        )
    return factory()
