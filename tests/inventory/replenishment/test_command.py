"""``manage.py replenishment_propose`` and the beat task call the same service."""

from __future__ import annotations

from io import StringIO

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from inventory.models import ReplenishmentProposal
from inventory.tasks import replenishment_propose_task
from tests.inventory.replenishment.support import network

pytestmark = pytest.mark.django_db


def test_dry_run_prints_the_explained_lines_and_writes_nothing() -> None:
    network()
    out = StringIO()
    call_command("replenishment_propose", "--dry-run", "--location", "st", stdout=out)
    assert out.getvalue().splitlines() == [
        "transfer wh -> st: 1 line(s)",
        "  TEA x 12: avg 0.00/day (0 in 28 days); position 3 (free 3) <= min 5 -> max 20 -"
        " position 3 = 17 -> pack of 4 -> 20 -> source has 12 free -> 12: order 12",
        "dry run: 1 rule(s) reviewed, 1 product(s) evaluated, 1 proposal(s); nothing written.",
    ]
    assert ReplenishmentProposal.objects.count() == 0


def test_command_writes_and_the_task_replaces() -> None:
    network()
    out = StringIO()
    call_command("replenishment_propose", stdout=out)
    assert out.getvalue().splitlines()[-1] == (
        "2 rule(s) reviewed, 2 product(s) evaluated, 2 proposal(s) written, 0 open one(s) replaced."
    )
    assert replenishment_propose_task() == {
        "rules": 2,  # reviewed today already: a same-day re-run recomputes
        "products": 2,
        "proposals": 2,
        "replaced": 2,
    }
    assert ReplenishmentProposal.objects.filter(status="open").count() == 2
    with pytest.raises(CommandError, match="Unknown location"):
        call_command("replenishment_propose", "--location", "nowhere", stdout=StringIO())


def test_beat_runs_it_daily_off_the_stock_queue() -> None:
    entry = settings.CELERY_BEAT_SCHEDULE["replenishment-propose-daily"]
    assert entry["task"] == "inventory.tasks.replenishment_propose_task"
    assert settings.CELERY_TASK_ROUTES["inventory.tasks.replenishment_propose_task"] == {
        "queue": "default"
    }
