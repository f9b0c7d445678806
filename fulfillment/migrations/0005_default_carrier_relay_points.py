"""The built-in carrier ``omnilog-rates`` (rate table, no network) and a few relay points in
French cities (deterministic ids and coordinates) so that the demo and the API work at once.

The webhook secret is drawn at migration time: it is never the same on two installations.
``create`` is also called by tests whose committing neighbours flushed the tables.
"""

from __future__ import annotations

import base64
import secrets
from typing import Any

from django.db import migrations

CARRIER_CODE = "omnilog-rates"

_ALWAYS = [["00:00", "24:00"]]
_SHOP = [["09:00", "19:00"]]
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
LOCKER_HOURS = dict.fromkeys(_DAYS, _ALWAYS)
SHOP_HOURS = {**dict.fromkeys(_DAYS[:6], _SHOP), "sun": []}

# point id, name, address, postcode, city, latitude, longitude, is locker.
RELAY_POINTS: tuple[tuple[str, str, str, str, str, float, float, bool], ...] = (
    ("PAR-001", "Tabac de la Bourse", "12 rue Vivienne", "75002", "Paris", 48.8686, 2.3412, False),
    ("PAR-002", "Locker Gare de Lyon", "Place Louis-Armand", "75012", "Paris", 48.8443, 2.3744, True),
    ("PAR-003", "Librairie Oberkampf", "80 rue Oberkampf", "75011", "Paris", 48.8656, 2.3775, False),
    ("LYS-001", "Locker Part-Dieu", "5 place Charles Béraudier", "69003", "Lyon", 45.7606, 4.8597, True),
    ("LYS-002", "Presse Bellecour", "2 place Bellecour", "69002", "Lyon", 45.7578, 4.8320, False),
    ("MRS-001", "Locker Saint-Charles", "Square Narvik", "13001", "Marseille", 43.3027, 5.3806, True),
    ("BOD-001", "Épicerie des Chartrons", "41 rue Notre-Dame", "33000", "Bordeaux", 44.8527, -0.5700, False),
    ("LIL-001", "Locker Lille-Flandres", "Place des Buisses", "59800", "Lille", 50.6366, 3.0707, True),
)  # fmt: skip

# Lockers take the relay service's box (600 x 400 x 400 mm, 20 kg); shops 30 kg, no box.
LOCKER_LIMITS = {
    "max_weight_grams": 20_000,
    "max_length_mm": 600,
    "max_width_mm": 400,
    "max_height_mm": 400,
}
SHOP_LIMITS = {
    "max_weight_grams": 30_000,
    "max_length_mm": 1_000,
    "max_width_mm": 600,
    "max_height_mm": 600,
}


def create(apps: Any, schema_editor: Any) -> None:
    carrier_model = apps.get_model("fulfillment", "Carrier")
    relay_point_model = apps.get_model("fulfillment", "RelayPoint")
    carrier, _ = carrier_model.objects.get_or_create(
        code=CARRIER_CODE,
        defaults={
            "name": "Omnilog Rate Table",
            "adapter_code": CARRIER_CODE,
            "webhook_secret": "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode(),
        },
    )
    for point_id, name, address, postcode, city, latitude, longitude, is_locker in RELAY_POINTS:
        relay_point_model.objects.get_or_create(
            carrier=carrier,
            point_id=point_id,
            defaults={
                "name": name,
                "address_line": address,
                "postcode": postcode,
                "city": city,
                "country": "FR",
                "latitude": latitude,
                "longitude": longitude,
                "is_locker": is_locker,
                "opening_hours": LOCKER_HOURS if is_locker else SHOP_HOURS,
                **(LOCKER_LIMITS if is_locker else SHOP_LIMITS),
            },
        )


def remove(apps: Any, schema_editor: Any) -> None:
    carrier_model = apps.get_model("fulfillment", "Carrier")
    relay_point_model = apps.get_model("fulfillment", "RelayPoint")
    relay_point_model.objects.filter(
        carrier__code=CARRIER_CODE, point_id__in=[point[0] for point in RELAY_POINTS]
    ).delete()
    carrier_model.objects.filter(code=CARRIER_CODE, shipments__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("fulfillment", "0004_shipping_transfers")]

    operations = [migrations.RunPython(create, remove)]
