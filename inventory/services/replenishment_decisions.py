"""Staff decisions on replenishment proposals: edit a line's quantity, confirm, discard.

Confirming calls the real services in one transaction with the proposal row locked:
``inventory.services.supply.purchase_order_create`` (a draft purchase order to the supplier)
or the transfer creator fulfillment registers in ``inventory.hooks`` (a draft replenishment
transfer). It is idempotent: a confirmed proposal returns as it is (one document, however many
times it is confirmed, concurrently or not); a refusal of the service (e.g. a quantity that is
not a whole number of packs) rolls everything back and the proposal stays open.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from inventory.hooks import transfer_creator
from inventory.models import ReplenishmentProposal, ReplenishmentProposalLine
from inventory.services.supply import purchase_order_create
from omnilog.core.errors import Conflict, FieldError, NotFound, ValidationFailed
from omnilog.core.outbox import outbox_emit

Status = ReplenishmentProposal.Status


def _lock(proposal_id: int) -> ReplenishmentProposal:
    proposal = (
        ReplenishmentProposal.objects.select_for_update(of=("self",))
        .select_related("location", "supplier", "source_location")
        .filter(pk=proposal_id)
        .first()
    )
    if proposal is None:
        raise NotFound(f"No replenishment proposal {proposal_id}.", code="proposal_not_found")
    return proposal


def _require_open(proposal: ReplenishmentProposal) -> None:
    if proposal.status != Status.OPEN:
        raise Conflict(
            f"Proposal {proposal.pk} is {proposal.status}.",
            code=f"proposal_{proposal.status}",
            details={"status": proposal.status},
        )


def replenishment_line_update(
    *, line_id: int, quantity: int, actor: str
) -> ReplenishmentProposalLine:
    """Set what an open proposal's line will order (0 leaves the product out)."""
    if isinstance(quantity, bool) or not isinstance(quantity, int) or not 0 <= quantity <= 10**9:
        raise ValidationFailed(
            "The quantity is not valid.",
            field_errors=[FieldError("quantity", "A whole number from 0.", "invalid")],
        )
    with transaction.atomic():
        proposal_id = (
            ReplenishmentProposalLine.objects.filter(pk=line_id)
            .values_list("proposal_id", flat=True)
            .first()
        )
        if proposal_id is None:
            raise NotFound(f"No proposal line {line_id}.", code="proposal_line_not_found")
        _require_open(_lock(proposal_id))
        line = ReplenishmentProposalLine.objects.get(pk=line_id)
        line.quantity = quantity
        line.save(update_fields=["quantity"])
    return line


def replenishment_proposal_confirm(*, proposal_id: int, actor: str) -> ReplenishmentProposal:
    """Create the proposal's purchase order or transfer (draft) and mark it confirmed."""
    with transaction.atomic():
        proposal = _lock(proposal_id)
        if proposal.status == Status.CONFIRMED:
            return proposal  # idempotent: the document exists already
        _require_open(proposal)
        lines = list(
            proposal.lines.filter(quantity__gt=0).select_related("product").order_by("product_id")
        )
        if not lines:
            raise Conflict(
                f"Proposal {proposal.pk} orders nothing (every quantity is 0).",
                code="proposal_empty",
            )
        note = f"Replenishment proposal {proposal.pk}"
        if proposal.kind == ReplenishmentProposal.Kind.PURCHASE:
            assert proposal.supplier is not None  # the kind/source CHECK constraint
            order = purchase_order_create(
                supplier=proposal.supplier,
                location=proposal.location,
                lines=[(line.product, line.quantity, None) for line in lines],
                actor=actor,
                reference=note.lower(),
            )
            proposal.document_id, proposal.document_reference = order.pk, order.number
        else:
            create = transfer_creator()
            if create is None:
                raise Conflict("Transfers are not available.", code="transfers_unavailable")
            proposal.document_id, proposal.document_reference = create(
                proposal.source_location_id or 0,
                proposal.location_id,
                [(line.product_id, line.quantity) for line in lines],
                actor,
                note,
            )
        proposal.status = Status.CONFIRMED
        proposal.decided_by = actor[:150]
        proposal.decided_at = timezone.now()
        proposal.save(
            update_fields=[
                "status",
                "document_id",
                "document_reference",
                "decided_by",
                "decided_at",
                "updated_at",
            ]
        )
        outbox_emit(
            topic="replenishment_proposal.confirmed",
            aggregate_type="replenishment_proposal",
            aggregate_id=proposal.pk,
            payload={
                "proposal_id": proposal.pk,
                "kind": proposal.kind,
                "location": proposal.location.code,
                "document_id": proposal.document_id,
                "document_reference": proposal.document_reference,
                "lines": [{"sku": line.product.sku, "quantity": line.quantity} for line in lines],
                "actor": actor,
            },
        )
    return proposal


def replenishment_proposal_discard(*, proposal_id: int, actor: str) -> ReplenishmentProposal:
    """An open proposal is set aside (a discarded one: no-op); a confirmed one is refused."""
    with transaction.atomic():
        proposal = _lock(proposal_id)
        if proposal.status == Status.DISCARDED:
            return proposal
        _require_open(proposal)
        proposal.status = Status.DISCARDED
        proposal.decided_by = actor[:150]
        proposal.decided_at = timezone.now()
        proposal.save(update_fields=["status", "decided_by", "decided_at", "updated_at"])
    return proposal
