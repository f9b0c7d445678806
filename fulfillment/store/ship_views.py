"""Ship-from-store screens: the store's carrier orders (home, express, same-day, relay point)
to pick, pack, label and hand to the carrier.

- ``store:ship-list`` lists them, most urgent first (acceptance deadline, then promise);
- ``store:ship-order`` is one order's page, one step at a time: pick by scanning
  (``ship_pick_scan``), pack by scanning into a parcel and close it with its weight
  (``pack_scan``, ``pack_close``), buy the label (``shipment_create``), print it, and mark the
  order shipped when the carrier takes it (``fulfillment_order_ship``);
- ``store:ship-label`` serves the label PDF.

Every view is scoped by ``StoreRequiredMixin`` and ``fulfillment_order_for_staff``: another
store's order is a 404, and so is a pickup order (it is prepared from the queue). A POST
renders the page again, as the pick screen does (the scan field keeps the focus): with what
was done, or with the refusal's reason and status (nothing was written).
"""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views import View

from fulfillment.models import FulfillmentOrder
from fulfillment.models_shipping import Carrier
from fulfillment.picking.boxes import BOX_CATALOGUE
from fulfillment.services.lifecycle import fulfillment_order_ship
from fulfillment.services.packing import pack_close, pack_scan, parcel_box_suggestion
from fulfillment.services.shipping import shipment_create
from fulfillment.store.access import StoreRequiredMixin, fulfillment_order_for_staff
from fulfillment.store.forms import int_field
from fulfillment.store.ship_selectors import live_shipment, ship_list, ship_sheet
from fulfillment.store.ship_services import SHIP_MODES, ship_pick_scan
from omnilog.core.errors import ApplicationError, FieldError, ValidationFailed

# The carrier service a delivery mode ships with by default.
SERVICE_OF_MODE = {
    "home_standard": "standard",
    "home_express": "express",
    "same_day": "same_day",
    "relay_point": "relay",
}
SERVICES = ("standard", "express", "same_day", "relay")


def _actor(request: HttpRequest) -> str:
    return f"store:{request.user.get_username()}"


class ShipListView(StoreRequiredMixin, View):
    def get(self, request: HttpRequest, store: str) -> HttpResponse:
        orders = list(ship_list(location=request.store))  # type: ignore[attr-defined]
        return render(request, "store/ship/list.html", {"orders": orders, "nav": "ship"})


class ShipOrderView(StoreRequiredMixin, View):
    """One carrier order: GET shows the current step; POST ``action`` = pick, pack, close,
    label or ship."""

    def fulfillment_order(self, request: HttpRequest, pk: int) -> FulfillmentOrder:
        found = fulfillment_order_for_staff(request.user, request.store, pk)  # type: ignore[attr-defined]
        if found.delivery_mode not in SHIP_MODES:
            raise Http404("No such carrier order here.")
        return found

    def get(self, request: HttpRequest, store: str, pk: int) -> HttpResponse:
        return self.page(request, self.fulfillment_order(request, pk))

    def post(self, request: HttpRequest, store: str, pk: int) -> HttpResponse:
        fulfillment_order = self.fulfillment_order(request, pk)
        action = request.POST.get("action", "")
        handler = {
            "pick": self.pick,
            "pack": self.pack,
            "close": self.close,
            "label": self.label,
            "ship": self.ship,
        }.get(action)
        try:
            if handler is None:
                raise ValidationFailed(
                    "Unknown action.",
                    field_errors=[FieldError("action", "Unknown action.", "invalid_choice")],
                )
            text = handler(request, fulfillment_order)
        except ApplicationError as error:
            fulfillment_order.refresh_from_db()
            return self.page(
                request,
                fulfillment_order,
                status=error.status,
                error=error.message,
                field_errors={item.field: item.message for item in error.field_errors},
            )
        fulfillment_order.refresh_from_db()
        return self.page(request, fulfillment_order, feedback=text)

    def pick(self, request: HttpRequest, fulfillment_order: FulfillmentOrder) -> str:
        result = ship_pick_scan(
            fulfillment_order_id=fulfillment_order.pk,
            code=request.POST.get("code", "")[:64],
            actor=_actor(request),
        )
        done = " Everything is picked: pack it." if result.units_left == 0 else ""
        return f"Picked {result.sku}: {result.line_picked} of {result.line_quantity}.{done}"

    def pack(self, request: HttpRequest, fulfillment_order: FulfillmentOrder) -> str:
        code = request.POST.get("code", "").strip()[:64]
        if not code:
            raise ValidationFailed(
                "Scan an item.", field_errors=[FieldError("code", "Required.", "required")]
            )
        result = pack_scan(
            fulfillment_order_id=fulfillment_order.pk, ean=code, actor=_actor(request)
        )
        return f"Packed {result.sku} in parcel {result.parcel_number}; {result.units_left} left."

    def close(self, request: HttpRequest, fulfillment_order: FulfillmentOrder) -> str:
        weight = int_field(request.POST, "weight_grams")
        box = request.POST.get("box_code", "").strip()[:16]
        parcel = pack_close(
            fulfillment_order_id=fulfillment_order.pk,
            weight_grams=weight,
            box_code=box,
            actor=_actor(request),
        )
        return f"Parcel {parcel.number} closed ({weight} g)."

    def label(self, request: HttpRequest, fulfillment_order: FulfillmentOrder) -> str:
        carrier = request.POST.get("carrier", "").strip()[:32]
        service = request.POST.get("service", "").strip()[:16]
        errors = []
        if not carrier:
            errors.append(FieldError("carrier", "Choose a carrier.", "required"))
        if service not in SERVICES:
            errors.append(FieldError("service", "Choose a service.", "invalid_choice"))
        if errors:
            raise ValidationFailed("Choose the carrier and the service.", field_errors=errors)
        shipment = shipment_create(
            fulfillment_order_id=fulfillment_order.pk,
            carrier_code=carrier,
            service=service,
            actor=_actor(request),
        )
        return f"Label bought: {shipment.carrier.name} {shipment.tracking_number}. Print it."

    def ship(self, request: HttpRequest, fulfillment_order: FulfillmentOrder) -> str:
        if live_shipment(fulfillment_order_id=fulfillment_order.pk) is None:
            raise ValidationFailed(
                "Buy and print the label first.",
                field_errors=[FieldError("carrier", "No label yet.", "required")],
            )
        fulfillment_order_ship(fulfillment_order_id=fulfillment_order.pk, actor=_actor(request))
        return f"Order {fulfillment_order.order.number} handed to the carrier."

    def page(
        self,
        request: HttpRequest,
        fulfillment_order: FulfillmentOrder,
        *,
        status: int = 200,
        **extra: Any,
    ) -> HttpResponse:
        sheet = ship_sheet(fulfillment_order=fulfillment_order)
        context: dict[str, Any] = {
            "fo": fulfillment_order,
            "order": fulfillment_order.order,
            "sheet": sheet,
            "nav": "ship",
            "carriers": list(Carrier.objects.filter(is_active=True).order_by("name")),
            "services": SERVICES,
            "default_service": SERVICE_OF_MODE.get(fulfillment_order.delivery_mode, "standard"),
            "boxes": BOX_CATALOGUE,
            "field_errors": {},
            **extra,
        }
        if sheet.open_parcel is not None:
            suggestion = parcel_box_suggestion(fulfillment_order_id=fulfillment_order.pk)
            context["suggested_box"] = suggestion.code if suggestion is not None else ""
        return render(request, "store/ship/order.html", context, status=status)


class ShipLabelView(StoreRequiredMixin, View):
    """GET: the label PDF of the order's live shipment (this store's carrier orders only)."""

    def get(self, request: HttpRequest, store: str, pk: int) -> HttpResponse:
        found = fulfillment_order_for_staff(request.user, request.store, pk)  # type: ignore[attr-defined]
        shipment = live_shipment(fulfillment_order_id=found.pk)
        if found.delivery_mode not in SHIP_MODES or shipment is None or not shipment.label_pdf:
            raise Http404("No label for this order.")
        response = HttpResponse(bytes(shipment.label_pdf), content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="label-{shipment.tracking_number}.pdf"'
        response["Cache-Control"] = "private, no-store"
        return response
