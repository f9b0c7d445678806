"""One error vocabulary for every door.

Services raise ``ApplicationError`` (or a subclass) with a stable ``code``, a human ``message``
and optional ``details`` / ``field_errors``. The API renders them as RFC 9457 problem details;
the admin and store screens show ``message``. A raised error means nothing was written: services
raise before writing or inside the transaction they own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class FieldError:
    """One problem with one input field. ``field`` is a dotted path such as ``lines.2.quantity``."""

    field: str
    message: str
    code: str = "invalid"


class ApplicationError(Exception):
    """A failure the caller can understand and act on (never a bug)."""

    status: int = 400
    code: str = "invalid_request"
    title: str = "The request cannot be processed"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status: int | None = None,
        details: Mapping[str, Any] | None = None,
        field_errors: Sequence[FieldError] = (),
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        self.details = dict(details or {})
        self.field_errors = tuple(field_errors)


class ValidationFailed(ApplicationError):
    status = 422
    code = "validation_failed"
    title = "The input is not valid"


class NotFound(ApplicationError):
    status = 404
    code = "not_found"
    title = "Not found"


class Conflict(ApplicationError):
    status = 409
    code = "conflict"
    title = "Conflict with the current state"


class InsufficientStock(ApplicationError):
    """Raised with one entry per short line in ``details['lines']``."""

    status = 409
    code = "insufficient_stock"
    title = "Not enough stock"
