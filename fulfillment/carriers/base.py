"""The carrier adapter interface. Real carriers (HTTP clients) implement it outside this pure
package and register themselves (``registry.carrier_register``) when their app starts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol, runtime_checkable

from fulfillment.carriers.types import (
    Address,
    Label,
    Parcel,
    Quote,
    Service,
    ShipmentRequest,
    TrackingInfo,
)


class CarrierError(Exception):
    """A carrier cannot do what was asked. ``code`` is stable (API problem code), ``message``
    is for humans, ``details`` lists every reason (e.g. each refused parcel)."""

    def __init__(self, code: str, message: str, details: Sequence[Mapping[str, str]] = ()) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = tuple(details)


@runtime_checkable
class CarrierAdapter(Protocol):
    """Rates, labels and tracking for one carrier.

    ``quote`` never raises for a parcel the service cannot take: it returns a ``Quote`` whose
    ``refusals`` say why, so that a caller comparing services sees every reason at once.
    ``create_label`` raises ``CarrierError`` when the shipment is refused. Adapters that call a
    network are not pure and must not be called while a database lock is held.
    """

    @property
    def code(self) -> str: ...

    @property
    def name(self) -> str: ...

    def services(self) -> tuple[Service, ...]: ...

    def quote(
        self,
        parcels: Sequence[Parcel],
        origin: Address,
        destination: Address,
        service: Service,
    ) -> Quote: ...

    def create_label(self, shipment: ShipmentRequest) -> Label: ...

    def tracking_status(self, tracking_number: str) -> TrackingInfo: ...
