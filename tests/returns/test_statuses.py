"""The RMA and claim status tables: choices match, every status is reachable, final ones end."""

from __future__ import annotations

from returns.models import Claim, ReturnRequest
from returns.statuses import (
    CANCELLABLE,
    FINAL,
    TRANSITIONS,
    ClaimStatus,
    ReturnStatus,
    can_transition,
    claim_can_transition,
)


def test_model_choices_are_the_status_sets() -> None:
    assert {value for value, _ in ReturnRequest.Status.choices} == {s.value for s in ReturnStatus}
    assert {value for value, _ in Claim.Status.choices} == {s.value for s in ClaimStatus}


def test_every_status_is_reachable_from_requested() -> None:
    seen = {ReturnStatus.REQUESTED}
    frontier = [ReturnStatus.REQUESTED]
    while frontier:
        for target in TRANSITIONS[frontier.pop()]:
            if target not in seen:
                seen.add(target)
                frontier.append(target)
    assert seen == set(ReturnStatus)


def test_receiving_and_refunding_are_separate_steps() -> None:
    assert not can_transition("received", "refund_requested")
    assert not can_transition("approved", "refunded")
    assert can_transition("dispositioned", "refund_requested")
    assert can_transition("refund_requested", "dispositioned")  # a failed refund
    assert {ReturnStatus.REFUSED, ReturnStatus.CLOSED, ReturnStatus.CANCELLED} == FINAL
    assert {ReturnStatus.REQUESTED, ReturnStatus.APPROVED} == CANCELLABLE


def test_claims() -> None:
    assert claim_can_transition("open", "resolved")
    assert not claim_can_transition("resolved", "open")
