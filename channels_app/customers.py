"""Customers known across channels: resolve an identity to one ``Customer``, merge duplicates.

Matching order: loyalty id, then e-mail (case-insensitive), then phone. The unique constraints
on e-mail and loyalty id make creation race-safe: a concurrent insert of the same identity
fails in its savepoint and the loser re-reads the winner's row.

One customer, but per-channel privacy: a match proves no ownership (anyone can send an e-mail,
a phone or a loyalty id), so a channel may change or use a customer's own data only when the
customer is linked to it (:func:`customer_is_linked`: the channel that brought the customer in).
Another channel's match gets the order history joined up in the back office, nothing more.

Orders point at customers with ``PROTECT``; ``channels_app`` cannot import ``orders``, so the
full merge is ``orders.services.customers.customer_merge``, which re-points the orders and then
calls :func:`customer_merge` here for this app's rows.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import Q

from channels_app.models import Address, Customer, PriceList
from omnilog.core.errors import FieldError, NotFound, ValidationFailed
from omnilog.core.outbox import outbox_emit

# Fields copied from the request onto a matched customer when the customer has none yet.
_FILLABLE = (
    "email",
    "phone",
    "loyalty_id",
    "first_name",
    "last_name",
    "company_name",
    "vat_number",
)


def normalise_email(email: str) -> str:
    return email.strip().lower()


def normalise_phone(phone: str) -> str:
    """Keep a leading ``+`` and the digits: ``+33 6 12-34-56-78`` -> ``+33612345678``."""
    phone = phone.strip()
    digits = "".join(character for character in phone if character.isdigit())
    return f"+{digits}" if phone.startswith("+") and digits else digits


def customer_is_linked(*, customer: Customer, channel_id: int | None) -> bool:
    """Whether channel ``channel_id`` may use ``customer``'s own data (fill its blanks, price
    with its customer price lists, name it in a quote): only the customer's first channel may.

    Matching by e-mail, phone or loyalty id is no proof of ownership, and orders on a channel
    are no proof either (a channel makes them by matching), so the rule is the one fact a
    channel cannot forge. The back office (``channel_id`` None) is no channel: nothing is linked.
    """
    return channel_id is not None and customer.first_channel_id == channel_id


def _match(*, email: str, phone: str, loyalty_id: str) -> Customer | None:
    """The best match in one query: loyalty id wins, then e-mail, then phone (lowest id)."""
    condition = Q()
    if loyalty_id:
        condition |= Q(loyalty_id=loyalty_id)
    if email:
        condition |= Q(email__iexact=email)
    if phone:
        condition |= Q(phone=phone)
    if not condition:
        return None
    candidates = list(Customer.objects.filter(condition).order_by("id")[:10])

    def rank(customer: Customer) -> int:
        if loyalty_id and customer.loyalty_id == loyalty_id:
            return 0
        if email and customer.email.lower() == email:
            return 1
        return 2

    return min(candidates, key=lambda customer: (rank(customer), customer.pk), default=None)


def customer_resolve(
    *,
    email: str = "",
    phone: str = "",
    loyalty_id: str = "",
    first_name: str = "",
    last_name: str = "",
    company_name: str = "",
    vat_number: str = "",
    channel_id: int | None = None,
) -> Customer:
    """The customer with this identity, created when none matches (1 query when found).

    Raises ``ValidationFailed`` (field ``customer``) when no identifier is given. A matched
    customer linked to ``channel_id`` (:func:`customer_is_linked`) gains the identifiers and
    names it lacked, unless another customer already holds them (then the match is kept as it
    is: merging is a back-office decision); another channel's customer is never written to.
    Nothing is ever overwritten. The caller must not show the returned customer's fields to
    the channel: they may be another channel's data.
    """
    email = normalise_email(email)
    phone = normalise_phone(phone)
    loyalty_id = loyalty_id.strip()
    if not (email or phone or loyalty_id):
        raise ValidationFailed(
            "A customer needs an e-mail, a phone or a loyalty id.",
            field_errors=[
                FieldError("customer", "Give an e-mail, a phone or a loyalty id.", "required")
            ],
        )
    given = {
        "email": email,
        "phone": phone,
        "loyalty_id": loyalty_id,
        "first_name": first_name.strip(),
        "last_name": last_name.strip(),
        "company_name": company_name.strip(),
        "vat_number": vat_number.strip(),
    }
    for _attempt in range(3):
        customer = _match(email=email, phone=phone, loyalty_id=loyalty_id)
        if customer is not None:
            if customer_is_linked(customer=customer, channel_id=channel_id):
                _fill_blanks(customer, given)
            return customer
        try:
            with transaction.atomic():
                return Customer.objects.create(**given, first_channel_id=channel_id)
        except IntegrityError:
            continue  # a concurrent request created it: match again
    raise ValidationFailed(  # pragma: no cover - three lost races in a row
        "The customer could not be resolved; try again.", code="customer_conflict"
    )


def _fill_blanks(customer: Customer, given: dict[str, str]) -> None:
    missing = [name for name in _FILLABLE if given[name] and not getattr(customer, name)]
    if not missing:
        return
    for name in missing:
        setattr(customer, name, given[name])
    try:
        with transaction.atomic():
            customer.save(update_fields=[*missing, "updated_at"])
    except IntegrityError:
        customer.refresh_from_db()


def customer_merge(*, keep_id: int, merge_id: int, actor: str) -> Customer:
    """Fold customer ``merge_id`` into ``keep_id`` for this app's rows, then delete it.

    Moves addresses and customer price lists, fills the kept customer's blank fields, emits
    ``customer.merged``. Precondition: nothing outside this app still points at ``merge_id``
    (orders: call ``orders.services.customers.customer_merge``, which re-points them first);
    a remaining protected reference raises and the transaction rolls back.
    """
    if keep_id == merge_id:
        raise ValidationFailed(
            "A customer cannot be merged into itself.",
            field_errors=[FieldError("merge_id", "Must differ from keep_id.", "invalid")],
        )
    with transaction.atomic():
        # Both rows locked in primary-key order (one global lock order).
        locked = {
            customer.pk: customer
            for customer in Customer.objects.select_for_update()
            .filter(pk__in=[keep_id, merge_id])
            .order_by("pk")
        }
        if keep_id not in locked or merge_id not in locked:
            raise NotFound("No such customer.")
        keep, merged = locked[keep_id], locked[merge_id]
        moved_addresses = Address.objects.filter(customer_id=merge_id).update(customer_id=keep_id)
        moved_price_lists = PriceList.objects.filter(customer_id=merge_id).update(
            customer_id=keep_id
        )
        blanks = {
            name: getattr(merged, name)
            for name in _FILLABLE
            if getattr(merged, name) and not getattr(keep, name)
        }
        merged.delete()  # frees its unique e-mail / loyalty id before the kept row takes them
        if blanks:
            for name, value in blanks.items():
                setattr(keep, name, value)
            keep.save(update_fields=[*blanks, "updated_at"])
        outbox_emit(
            topic="customer.merged",
            aggregate_type="customer",
            aggregate_id=keep_id,
            payload={
                "customer_id": keep_id,
                "merged_customer_id": merge_id,
                "addresses_moved": moved_addresses,
                "price_lists_moved": moved_price_lists,
                "actor": actor,
            },
        )
    return keep
