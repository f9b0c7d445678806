"""Pickup codes: the secret a customer shows at the counter to collect a ready order.

A code is 6 random digits (``secrets``). Only its HMAC-SHA256 digest is stored, keyed with
``SECRET_KEY`` over ``"<fulfillment order id>:<code>"``, so the same digits on two orders give
two digests and a database dump reveals no code. The customer gets the code, a QR code of
``OMNI:<fulfillment order id>:<code>`` (PNG made with segno, inline in the HTML e-mail) and the
store's address and opening hours by e-mail, sent after the transaction commits.

Guessing is limited twice: per order (``StorePolicy.code_max_attempts`` wrong codes lock the
code; a store manager issues a new one) and per staff user across orders (a window in the
Django cache: ``STORE_CODE_GUESSES`` wrong codes per ``STORE_CODE_GUESS_WINDOW`` seconds).
"""

from __future__ import annotations

import hashlib
import hmac
import io
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.mime.image import MIMEImage

import segno
from django.conf import settings
from django.core.cache import cache
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from fulfillment.models import FulfillmentOrder
from fulfillment.models_store import PickupCode, StorePolicy
from fulfillment.services.fulfillment_orders import _fulfillment_order_lock, _order_id_of
from fulfillment.statuses import FulfillmentStatus
from inventory.models import Location
from omnilog.core.errors import ApplicationError, Conflict
from omnilog.core.outbox import outbox_emit
from orders.models import Order, OrderEvent
from orders.services.timeline import order_event_write, order_lock

logger = logging.getLogger(__name__)

CODE_DIGITS = 6
QR_PREFIX = "OMNI"
QR_PATTERN = re.compile(r"^\s*OMNI:(\d{1,18}):(\d{6})\s*$", re.IGNORECASE)
CODE_PATTERN = re.compile(r"^\d{6}$")
WEEKDAYS = (
    ("mon", "Monday"),
    ("tue", "Tuesday"),
    ("wed", "Wednesday"),
    ("thu", "Thursday"),
    ("fri", "Friday"),
    ("sat", "Saturday"),
    ("sun", "Sunday"),
)


def _guess_limit() -> tuple[int, int]:
    return (
        int(getattr(settings, "STORE_CODE_GUESSES", 10)),
        int(getattr(settings, "STORE_CODE_GUESS_WINDOW", 600)),
    )


@dataclass(frozen=True)
class IssuedCode:
    """A freshly issued code; ``code`` is only ever in memory and in the customer's e-mail."""

    fulfillment_order_id: int
    code: str
    expires_at: datetime
    emailed_to: str

    @property
    def qr_payload(self) -> str:
        return qr_payload(self.fulfillment_order_id, self.code)


def code_digest(fulfillment_order_id: int, code: str) -> str:
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, f"{fulfillment_order_id}:{code}".encode(), hashlib.sha256).hexdigest()


def code_matches(pickup_code: PickupCode, code: str) -> bool:
    expected = code_digest(pickup_code.fulfillment_order_id, code.strip())
    return hmac.compare_digest(expected, pickup_code.digest)


def qr_payload(fulfillment_order_id: int, code: str) -> str:
    return f"{QR_PREFIX}:{fulfillment_order_id}:{code}"


def qr_payload_parse(text: str) -> tuple[int, str] | None:
    """(fulfillment order id, code) from a scanned QR payload, None when it is not one."""
    found = QR_PATTERN.match(text or "")
    return (int(found.group(1)), found.group(2)) if found else None


def qr_png(payload: str) -> bytes:
    buffer = io.BytesIO()
    segno.make(payload, micro=False, error="m").save(buffer, kind="png", scale=6, border=2)
    return buffer.getvalue()


def store_policy_get(location_id: int) -> StorePolicy:
    """The store's policy, or the defaults (an unsaved row) when it has none."""
    return StorePolicy.objects.filter(location_id=location_id).first() or StorePolicy(
        location_id=location_id
    )


def opening_hours_lines(location: Location) -> list[str]:
    """``Location.opening_hours`` as readable lines ("Monday: 09:00-19:00"), closed days too."""
    hours = location.opening_hours if isinstance(location.opening_hours, dict) else {}
    lines = []
    for key, name in WEEKDAYS:
        spans = hours.get(key) or []
        text = ", ".join(
            f"{span[0]} to {span[1]}"
            for span in spans
            if isinstance(span, list | tuple) and len(span) == 2
        )
        lines.append(f"{name}: {text or 'closed'}")
    return lines if hours else []


def _send_email(*, order: Order, location: Location, issued: IssuedCode) -> None:
    """E-mail the code and its QR (runs after commit: no transaction, no lock held)."""
    context = {
        "order": order,
        "store": location,
        "code": issued.code,
        "expires_at": issued.expires_at,
        "opening_hours": opening_hours_lines(location),
        "qr_cid": "pickup-qr",
    }
    message = EmailMultiAlternatives(
        subject=f"Order {order.number} is ready for pickup at {location.name}",
        body=render_to_string("emails/pickup_ready.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[issued.emailed_to],
    )
    message.attach_alternative(render_to_string("emails/pickup_ready.html", context), "text/html")
    message.mixed_subtype = "related"  # type: ignore[attr-defined]
    image = MIMEImage(qr_png(issued.qr_payload), "png")
    image.add_header("Content-ID", "<pickup-qr>")
    image.add_header("Content-Disposition", "inline", filename="pickup-code.png")
    message.attach(image)
    try:
        message.send()
    except Exception:  # the code is valid; a manager can re-issue it (new e-mail)
        logger.exception("pickup code e-mail for order %s failed", order.number)


def pickup_code_issue(
    *, fulfillment_order_id: int, actor: str, now: datetime | None = None
) -> IssuedCode:
    """Issue (or re-issue) the pickup code of a ready pickup order and e-mail it.

    A new code replaces the old one (attempts reset, unlocked, unused) and expires after the
    store's ``code_valid_days``. Timeline: "Pickup code sent"; outbox
    ``fulfillment_order.pickup_code_sent`` (no code in it). The e-mail leaves after commit.
    Refused (``Conflict`` ``not_ready``) unless the fulfillment order is ready for pickup.
    May run inside a caller's transaction holding the order's and the fulfillment order's
    locks (the same rows are locked again, in the same order).
    """
    moment = now or timezone.now()
    with transaction.atomic():
        order = order_lock(order_id=_order_id_of(fulfillment_order_id))
        fulfillment_order = _fulfillment_order_lock(fulfillment_order_id)
        if fulfillment_order.status != FulfillmentStatus.READY_FOR_PICKUP:
            raise Conflict(
                f"FO-{fulfillment_order.pk} is {fulfillment_order.status}: a pickup code is "
                "sent once the order is ready for pickup.",
                code="not_ready",
                details={"status": fulfillment_order.status},
            )
        policy = store_policy_get(fulfillment_order.location_id)
        code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
        expires_at = moment + timedelta(days=policy.code_valid_days)
        PickupCode.objects.update_or_create(
            fulfillment_order=fulfillment_order,
            defaults={
                "digest": code_digest(fulfillment_order.pk, code),
                "expires_at": expires_at,
                "failed_attempts": 0,
                "locked_at": None,
                "used_at": None,
            },
        )
        issued = IssuedCode(
            fulfillment_order_id=fulfillment_order.pk,
            code=code,
            expires_at=expires_at,
            emailed_to=order.customer_email,
        )
        details = {
            "fulfillment_order_id": fulfillment_order.pk,
            "expires_at": expires_at.isoformat(),
            "emailed": bool(order.customer_email),
        }
        order_event_write(
            order=order,
            kind=OrderEvent.Kind.PICKUP,
            actor=actor,
            source="store",
            message="Pickup code sent"
            if order.customer_email
            else "Pickup code issued (no e-mail address on the order)",
            details=details,
        )
        outbox_emit(
            topic="fulfillment_order.pickup_code_sent",
            aggregate_type="fulfillment_order",
            aggregate_id=fulfillment_order.pk,
            payload={"order_id": order.pk, **details},
        )
        if order.customer_email:
            location = fulfillment_order.location
            transaction.on_commit(
                lambda: _send_email(order=order, location=location, issued=issued)
            )
    return issued


# --- Guessing limits ---------------------------------------------------------------------------


def _guess_key(staff_key: str) -> str:
    return f"store:code-guesses:{staff_key}"


def code_guesses_check(staff_key: str) -> None:
    """Refuse (429 ``too_many_attempts``) a staff user who typed too many wrong codes lately."""
    limit, window = _guess_limit()
    if int(cache.get(_guess_key(staff_key), 0)) >= limit:
        raise ApplicationError(
            f"Too many wrong pickup codes from this account: wait {window // 60} minutes, or "
            "ask a store manager.",
            code="too_many_attempts",
            status=429,
        )


def code_guess_failed(staff_key: str) -> None:
    """Count one wrong code in the staff user's window (the window starts at the first)."""
    _, window = _guess_limit()
    key = _guess_key(staff_key)
    if not cache.add(key, 1, timeout=window):
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.add(key, 1, timeout=window)


def pickup_code_search(*, location: Location, code: str, now: datetime | None = None) -> int | None:
    """The store's ready fulfillment order whose live code is ``code`` (None when none is).

    Reads the store's unlocked, unused, unexpired codes and compares digests (the digest is
    keyed by fulfillment order id, so each one is computed). The caller counts a miss against
    the staff user's guessing window.
    """
    moment = now or timezone.now()
    if not CODE_PATTERN.match(code.strip()):
        return None
    candidates = PickupCode.objects.filter(
        fulfillment_order__location=location,
        fulfillment_order__status=FulfillmentStatus.READY_FOR_PICKUP,
        locked_at__isnull=True,
        used_at__isnull=True,
        expires_at__gt=moment,
    ).only("fulfillment_order_id", "digest")
    for candidate in candidates:
        if code_matches(candidate, code):
            return candidate.fulfillment_order_id
    return None


def pickup_code_state(fulfillment_order: FulfillmentOrder) -> PickupCode | None:
    return PickupCode.objects.filter(fulfillment_order=fulfillment_order).first()
