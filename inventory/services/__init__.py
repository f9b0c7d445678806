"""Inventory services: the only code that changes stock (see ``ledger`` for the contract)."""

from inventory.services.holds import stock_hold_confirm
from inventory.services.operations import (
    StockChange,
    stock_adjust,
    stock_count,
    stock_damage,
    stock_incoming_expect,
    stock_qc_hold,
    stock_qc_release,
    stock_receive,
    stock_safety_set,
    stock_transfer_receive,
    stock_transfer_ship,
    stock_write_off,
)
from inventory.services.reservations import (
    ReserveLine,
    reservations_expire,
    stock_allocate,
    stock_commit,
    stock_hold_extend,
    stock_release,
    stock_release_reference,
    stock_reserve,
)

__all__ = [
    "ReserveLine",
    "StockChange",
    "reservations_expire",
    "stock_adjust",
    "stock_allocate",
    "stock_commit",
    "stock_count",
    "stock_damage",
    "stock_hold_confirm",
    "stock_hold_extend",
    "stock_incoming_expect",
    "stock_qc_hold",
    "stock_qc_release",
    "stock_receive",
    "stock_release",
    "stock_release_reference",
    "stock_reserve",
    "stock_safety_set",
    "stock_transfer_receive",
    "stock_transfer_ship",
    "stock_write_off",
]
