"""``manage.py seed_demo_store``: store screen access for the demo users.

Deterministic and idempotent (runs after ``seed_demo``): the demo ``store`` user (password
``store``) becomes an associate of the first ``--stores`` active click-and-collect stores (by
code), and a ``store-manager`` user (password ``store-manager``, created once, never reset) their
manager. Rows are keyed (user, store) and never duplicated; nothing else changes.
"""

from __future__ import annotations

import sys
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from tqdm import tqdm

from fulfillment.models_store import StoreStaff
from inventory.models import Location

ASSOCIATE = "store"
MANAGER = "store-manager"


class Command(BaseCommand):
    help = "Make the demo store users members of a few click-and-collect stores (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--stores", type=int, default=3, help="how many stores (default 3)")

    def handle(self, *args: Any, **options: Any) -> None:
        count = max(1, int(options["stores"]))
        stores = list(
            Location.objects.filter(
                kind=Location.Kind.STORE, is_click_and_collect=True, is_active=True
            ).order_by("code")[:count]
        )
        if not stores:
            self.stdout.write("seed_demo_store: no click-and-collect store; run seed_demo first")
            return
        user_model = get_user_model()
        created = 0
        with transaction.atomic():
            associate = user_model.objects.filter(username=ASSOCIATE).first()
            if associate is None:
                associate = user_model.objects.create_user(
                    username=ASSOCIATE, email=f"{ASSOCIATE}@omnilog.local", password=ASSOCIATE
                )
            manager = user_model.objects.filter(username=MANAGER).first()
            if manager is None:
                manager = user_model.objects.create_user(
                    username=MANAGER, email=f"{MANAGER}@omnilog.local", password=MANAGER
                )
            bar = tqdm(stores, desc="store staff", unit="store", disable=not sys.stderr.isatty())
            for store in bar:
                for user, role in (
                    (associate, StoreStaff.Role.ASSOCIATE),
                    (manager, StoreStaff.Role.MANAGER),
                ):
                    _, is_new = StoreStaff.objects.get_or_create(
                        user=user, location=store, defaults={"role": role}
                    )
                    created += int(is_new)
        codes = ", ".join(store.code for store in stores)
        self.stdout.write(
            f"seed_demo_store: {created} membership(s) created; {ASSOCIATE} and {MANAGER} work "
            f"at {codes} (/store/)"
        )
