"""Small input helpers of the store screens: a bad value is a field error, never a 500."""

from __future__ import annotations

from django.http import QueryDict

from omnilog.core.errors import FieldError, ValidationFailed

MAX_INT = 1_000_000


def int_field(data: QueryDict, name: str, *, default: int | None = None) -> int:
    """``data[name]`` as an int in 0..1,000,000 (``default`` when absent); ``ValidationFailed``
    naming the field otherwise."""
    raw = data.get(name, "")
    if raw in ("", None) and default is not None:
        return default
    try:
        value = int(str(raw).strip())
    except ValueError:
        value = -1
    if not 0 <= value <= MAX_INT:
        raise ValidationFailed(
            f"{name.replace('_', ' ').capitalize()}: a whole number is expected.",
            field_errors=[FieldError(name, "A whole number is expected.", "invalid")],
        )
    return value
