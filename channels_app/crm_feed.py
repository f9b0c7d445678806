"""Customer feed from a CRM: create and update customers (a ``customers`` feed job).

The job mechanics live in ``inventory.services.master_data_feeds`` (above this app); this
module parses, checks and writes the rows, and rows reach it duck-typed (``number``,
``values``).

Matching: by ``loyalty_id`` (the CRM's customer number), else by ``email`` (normalised like
``customers.customer_resolve``). A row needs at least one of the two. A row whose loyalty id
and e-mail point at two different customers, or whose e-mail belongs to a customer with
another loyalty id, is refused (``identity_conflict``): merging is a back-office decision
(``customer_merge``). Unlike a channel's order, the CRM is the customer master: the fields it
sends overwrite ours (a column left out leaves the field; an empty cell clears it). A customer
the CRM creates belongs to no channel (``first_channel`` empty): no channel may use its data
until it orders there.

Every created or changed customer writes ``customer.created`` / ``customer.updated`` to the
outbox (customer id, e-mail, loyalty id, changed fields, ``source: crm_feed``, so a CRM can
ignore the echo of its own feed). Replaying a file writes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError
from django.db.models import Q
from django.utils import timezone

from channels_app.customers import normalise_email, normalise_phone
from channels_app.feed_values import (
    CellError,
    cell_bool,
    cell_int,
    cell_text,
    changed_rows_save,
    values_assign,
)
from channels_app.models import Customer
from omnilog.core.errors import FieldError
from omnilog.core.outbox import outbox_emit_many


class FeedRowLike(Protocol):
    number: int
    values: Mapping[str, Any]


def _email(value: Any) -> str:
    email = normalise_email(cell_text(value, max_length=254))
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise CellError("Not an e-mail address.") from None
    return email


def _text(max_length: int) -> Callable[[Any], str]:
    return lambda value: cell_text(value, max_length=max_length)


PARSERS: dict[str, Callable[[Any], Any]] = {
    "email": _email,
    "loyalty_id": _text(32),
    "phone": lambda value: normalise_phone(cell_text(value, max_length=32)),
    "first_name": _text(100),
    "last_name": _text(100),
    "company_name": _text(200),
    "vat_number": _text(32),
    "payment_terms_days": lambda value: cell_int(value, maximum=365),
    "is_partial_delivery_allowed": cell_bool,
}
COLUMNS = frozenset(PARSERS)


@dataclass(frozen=True)
class CustomerItem:
    row: FeedRowLike
    loyalty_id: str
    email: str
    values: dict[str, Any]


@dataclass(frozen=True)
class CustomerBatchOutcome:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


def _identity(values: Mapping[str, Any]) -> tuple[str, str]:
    loyalty = values.get("loyalty_id")
    email = values.get("email")
    return (
        loyalty.strip() if isinstance(loyalty, str) else "",
        normalise_email(email) if isinstance(email, str) else "",
    )


def _matches(
    items: Sequence[CustomerItem], *, lock: bool = False
) -> tuple[dict[str, Customer], dict[str, Customer]]:
    """Customers by loyalty id and by e-mail for a batch, in one query (locked in pk order)."""
    loyalties = [item.loyalty_id for item in items if item.loyalty_id]
    emails = [item.email for item in items if item.email]
    query = Customer.objects.filter(Q(loyalty_id__in=loyalties) | Q(email__in=emails))
    if lock:
        query = query.select_for_update()
    customers = list(query.order_by("pk"))
    by_loyalty = {customer.loyalty_id: customer for customer in customers if customer.loyalty_id}
    by_email = {customer.email: customer for customer in customers if customer.email}
    return by_loyalty, by_email


def _target(
    item: CustomerItem, by_loyalty: dict[str, Customer], by_email: dict[str, Customer]
) -> tuple[Customer | None, FieldError | None]:
    """The customer a row updates (None: a new one), or why it cannot be told."""
    with_loyalty = by_loyalty.get(item.loyalty_id) if item.loyalty_id else None
    with_email = by_email.get(item.email) if item.email else None
    if with_loyalty and with_email and with_loyalty.pk != with_email.pk:
        return None, FieldError(
            "email",
            f"The loyalty id is customer {with_loyalty.pk}'s, the e-mail customer "
            f"{with_email.pk}'s: merge them first.",
            "identity_conflict",
        )
    if with_email and item.loyalty_id and with_email.loyalty_id not in ("", item.loyalty_id):
        return None, FieldError(
            "loyalty_id",
            f"The e-mail belongs to customer {with_email.pk}, whose loyalty id is another.",
            "identity_conflict",
        )
    return with_loyalty or with_email, None


class CustomerFeed:
    """The ``customers`` kind of ``inventory.services.master_data_feeds`` (one per job run)."""

    columns = COLUMNS

    def __init__(self) -> None:
        self._claimed: dict[str, int] = {}  # loyalty ids / e-mails given by earlier rows

    def key(self, row: FeedRowLike) -> str:
        loyalty, email = _identity(row.values)
        return f"loyalty:{loyalty}" if loyalty else (f"email:{email}" if email else "")

    def _parse(self, row: FeedRowLike) -> tuple[CustomerItem | None, list[FieldError]]:
        if "__malformed__" in row.values:
            return None, [FieldError("row", "Not a row of the header's columns.", "malformed_row")]
        errors = [
            FieldError(name, "Unknown field.", "unknown_field")
            for name in sorted(set(row.values) - COLUMNS)
        ]
        values: dict[str, Any] = {}
        for name, parse in PARSERS.items():
            if name in row.values:
                try:
                    values[name] = parse(row.values[name])
                except CellError as error:
                    errors.append(FieldError(name, error.message, error.code))
        loyalty, email = values.get("loyalty_id", ""), values.get("email", "")
        if not errors and not (loyalty or email):
            errors.append(FieldError("email", "A row needs an e-mail or a loyalty id.", "required"))
        for name, value in (("loyalty_id", loyalty), ("email", email)):
            earlier = self._claimed.get(f"{name}:{value}")
            if value and earlier is not None and earlier != row.number:
                errors.append(FieldError(name, f"Also given in row {earlier}.", "duplicate"))
        if errors:
            return None, errors
        for name, value in (("loyalty_id", loyalty), ("email", email)):
            if value:
                self._claimed[f"{name}:{value}"] = row.number
        return CustomerItem(row, loyalty, email, values), []

    def check(
        self, rows: Sequence[FeedRowLike]
    ) -> tuple[list[CustomerItem], list[tuple[Any, str, list[FieldError]]]]:
        parsed = [(row, *self._parse(row)) for row in rows]
        by_loyalty, by_email = _matches([item for _row, item, _errors in parsed if item])
        valid: list[CustomerItem] = []
        problems: list[tuple[Any, str, list[FieldError]]] = []
        for row, item, errors in parsed:
            if item is not None:
                _customer, conflict = _target(item, by_loyalty, by_email)
                errors = [conflict] if conflict else []
            if errors or item is None:
                problems.append((row, self.key(row), errors))
            else:
                valid.append(item)
        return valid, problems

    def apply(
        self, items: Sequence[CustomerItem], *, job_id: str, actor: str
    ) -> CustomerBatchOutcome:
        """Inside the caller's transaction: locks the batch's matched customers (pk order).
        A row whose match changed since the check raises ``IntegrityError`` (the job retries
        the batch row by row and reports that row)."""
        by_loyalty, by_email = _matches(items, lock=True)
        now = timezone.now()
        created: list[Customer] = []
        changed: list[tuple[Customer, list[str]]] = []
        unchanged = 0
        for item in items:
            customer, conflict = _target(item, by_loyalty, by_email)
            if conflict is not None:
                raise IntegrityError(conflict.message)
            if customer is None:
                created.append(Customer(**item.values))
                continue
            fields = values_assign(customer, item.values, now)
            if fields:
                changed.append((customer, fields))
            else:
                unchanged += 1
        Customer.objects.bulk_create(created)
        changed_rows_save(Customer, changed)
        source = {"source": "crm_feed", "job_id": job_id, "actor": actor}

        def payload(customer: Customer, **extra: Any) -> dict[str, Any]:
            return {
                "customer_id": customer.pk,
                "email": customer.email,
                "loyalty_id": customer.loyalty_id,
                **extra,
                **source,
            }

        outbox_emit_many(
            [("customer.created", "customer", c.pk, payload(c)) for c in created]
            + [
                ("customer.updated", "customer", c.pk, payload(c, changed=fields))
                for c, fields in changed
            ]
        )
        return CustomerBatchOutcome(len(created), len(changed), unchanged)
