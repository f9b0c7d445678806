"""Tracking numbers with a check digit, and Code 128 payloads for the label barcode."""

from __future__ import annotations

from fulfillment.carriers.types import Code128, Service

_SERVICE_LETTER: dict[Service, str] = {
    Service.STANDARD: "S",
    Service.EXPRESS: "E",
    Service.SAME_DAY: "D",
    Service.RELAY: "R",
}
SERIAL_DIGITS = 12
MAX_PARCELS_PER_SHIPMENT = 99
TRACKING_PREFIX = "OM"
TRACKING_LENGTH = len(TRACKING_PREFIX) + 1 + SERIAL_DIGITS + 1


def luhn_check_digit(digits: str) -> int:
    """The digit that makes ``digits + check`` pass the Luhn test (ISO/IEC 7812-1): it catches
    every single-digit error and every adjacent transposition except 09 <-> 90."""
    if not digits.isdigit():
        raise ValueError(f"digits only, got {digits!r}")
    total = 0
    # From the right, every second digit (starting with the one next to the check) is doubled.
    for position, character in enumerate(reversed(digits)):
        value = int(character)
        if position % 2 == 0:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return (10 - total % 10) % 10


def tracking_number(*, service: Service, sequence: int, parcel_index: int) -> str:
    """``OM`` + a service letter + 12 digits (``sequence`` x 100 + the 1-based parcel index) +
    a Luhn check digit: ``OMS000000001234`` + check. Deterministic and unique per parcel for
    ``0 <= sequence < 10**10`` and ``1 <= parcel_index <= 99``."""
    if not 0 <= sequence < 10 ** (SERIAL_DIGITS - 2):
        raise ValueError(f"sequence out of range: {sequence}")
    if not 1 <= parcel_index <= MAX_PARCELS_PER_SHIPMENT:
        raise ValueError(f"parcel index out of range: {parcel_index}")
    serial = f"{sequence * 100 + parcel_index:0{SERIAL_DIGITS}d}"
    return f"{TRACKING_PREFIX}{_SERVICE_LETTER[service]}{serial}{luhn_check_digit(serial)}"


def is_valid_tracking_number(number: str) -> bool:
    """Shape (prefix, service letter, digits, length) and check digit."""
    if len(number) != TRACKING_LENGTH or not number.startswith(TRACKING_PREFIX):
        return False
    letter, digits = number[len(TRACKING_PREFIX)], number[len(TRACKING_PREFIX) + 1 :]
    if letter not in _SERVICE_LETTER.values() or not digits.isdigit():
        return False
    return luhn_check_digit(digits[:-1]) == int(digits[-1])


def service_of_tracking_number(number: str) -> Service | None:
    if not is_valid_tracking_number(number):
        return None
    letter = number[len(TRACKING_PREFIX)]
    return next(service for service, code in _SERVICE_LETTER.items() if code == letter)


CODE128_START_B = 104
CODE128_STOP = 106


def code128_b(payload: str) -> Code128:
    """Code set B symbol values for printable ASCII ``payload`` (space to ``~``)."""
    if not payload or any(not " " <= character <= "~" for character in payload):
        raise ValueError(f"Code 128 B needs printable ASCII, got {payload!r}")
    data = [ord(character) - 32 for character in payload]
    check = (CODE128_START_B + sum(weight * value for weight, value in enumerate(data, 1))) % 103
    return Code128(payload=payload, values=(CODE128_START_B, *data, check, CODE128_STOP))
