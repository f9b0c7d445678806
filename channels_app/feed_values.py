"""Cell parsing shared by the master-data feeds (CRM customers here, PIM products in
``inventory.services.pim_feed``, which sits above and imports this module).

A CSV cell is text; a JSON value may be anything. An empty cell (or JSON ``null``) clears the
field: blank text, ``None`` for optional values, the numeric default for dimensions. To leave a
field as it is, leave its column (or key) out.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

TRUE = frozenset({"true", "1", "yes", "y"})
FALSE = frozenset({"false", "0", "no", "n"})
MAX_INT = 2**31 - 1


class CellError(Exception):
    def __init__(self, message: str, code: str = "invalid") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def cell_text(value: Any, *, max_length: int) -> str:
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise CellError("Must be text.")
    text = str(value).strip()
    if "\x00" in text:
        raise CellError("Contains a NUL character.")
    if len(text) > max_length:
        raise CellError(f"At most {max_length} characters.", "max_length")
    return text


def cell_int(value: Any, *, minimum: int = 0, maximum: int = MAX_INT) -> int | None:
    """A whole number within bounds, ``None`` when empty."""
    if is_empty(value):
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise CellError("Must be a whole number.")
    try:
        number = int(str(value).strip())
    except ValueError:
        raise CellError("Must be a whole number.") from None
    if not minimum <= number <= maximum:
        raise CellError(f"Must be from {minimum} to {maximum}.", "out_of_range")
    return number


def cell_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in TRUE | FALSE:
        return value.strip().lower() in TRUE
    if is_empty(value):
        raise CellError("Give true or false.", "required")
    raise CellError("Must be true or false (also 1/0, yes/no).")


def cell_date(value: Any) -> date | None:
    if is_empty(value):
        return None
    if not isinstance(value, str):
        raise CellError("Must be a date (YYYY-MM-DD).")
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise CellError("Must be a date (YYYY-MM-DD).") from None


def values_assign(instance: Any, values: dict[str, Any], now: datetime) -> list[str]:
    """Set the fields of ``instance`` that differ from ``values``; their sorted names (none:
    the row changes nothing). Touches ``updated_at`` only when something changed."""
    changed = sorted(name for name, value in values.items() if getattr(instance, name) != value)
    for name in changed:
        setattr(instance, name, values[name])
    if changed:
        instance.updated_at = now
    return changed


def changed_rows_save(model: Any, changed: list[tuple[Any, list[str]]]) -> None:
    """One ``bulk_update`` of the changed rows over the union of their changed fields."""
    if changed:
        names = sorted({name for _row, fields in changed for name in fields})
        model.objects.bulk_update([row for row, _fields in changed], [*names, "updated_at"])
