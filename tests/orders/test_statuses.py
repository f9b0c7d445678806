"""The declared status table: the model's choices and the transition table agree."""

from orders.models import Order
from orders.statuses import CANCELLABLE, FINAL, TRANSITIONS, OrderStatus, can_transition


def test_model_choices_are_exactly_the_declared_statuses() -> None:
    assert [value for value, _ in Order.Status.choices] == [status.value for status in OrderStatus]


def test_every_status_has_a_row_and_targets_are_statuses() -> None:
    assert set(TRANSITIONS) == set(OrderStatus)
    assert all(target in OrderStatus for targets in TRANSITIONS.values() for target in targets)


def test_final_and_cancellable_sets() -> None:
    assert {OrderStatus.COMPLETED, OrderStatus.CANCELLED} == FINAL
    assert OrderStatus.SHIPPED not in CANCELLABLE
    assert OrderStatus.READY_FOR_PICKUP in CANCELLABLE  # a no-show is cancelled and restocked
    assert can_transition("placed", "routed")
    assert not can_transition("delivered", "placed")
