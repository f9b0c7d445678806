"""International shipping: EU customs territory, CN22/CN23 data, commercial invoice data, VAT
by destination (OSS) and duties estimates (DDP vs DAP).

A pure core (no Django, DRF or Celery; import-linter checks it). Rate tables are dated and
documented in their modules; the PDF renderers live elsewhere and take these dataclasses.
"""

from fulfillment.customs.declaration import (
    CN22_MAX_VALUE_EUR,
    CN22_MAX_WEIGHT_GRAMS,
    CustomsDeclaration,
    DeclarationLine,
    customs_declaration,
    normalise_hs_code,
)
from fulfillment.customs.duties import (
    DUTY_TABLES,
    DutiesEstimate,
    DutyLine,
    DutyTable,
    Valuation,
    duties_estimate,
)
from fulfillment.customs.invoice import CommercialInvoice, InvoiceLine, commercial_invoice
from fulfillment.customs.territory import (
    EU_MEMBER_STATES,
    SPECIAL_TERRITORIES,
    SpecialTerritory,
    crosses_customs_border,
    is_in_eu_customs_territory,
    is_in_eu_vat_territory,
    special_territory,
)
from fulfillment.customs.types import (
    CustomsError,
    CustomsLine,
    CustomsProblem,
    DeclarationForm,
    Incoterm,
    ItemCategory,
    Party,
)
from fulfillment.customs.vat import (
    EU_VAT_RATES,
    RATES_AS_OF,
    VAT_CHANGES,
    VatDetermination,
    VatRates,
    VatRegime,
    vat_for_destination,
    vat_rates_on,
)

__all__ = [
    "CN22_MAX_VALUE_EUR",
    "CN22_MAX_WEIGHT_GRAMS",
    "DUTY_TABLES",
    "EU_MEMBER_STATES",
    "EU_VAT_RATES",
    "RATES_AS_OF",
    "SPECIAL_TERRITORIES",
    "VAT_CHANGES",
    "CommercialInvoice",
    "CustomsDeclaration",
    "CustomsError",
    "CustomsLine",
    "CustomsProblem",
    "DeclarationForm",
    "DeclarationLine",
    "DutiesEstimate",
    "DutyLine",
    "DutyTable",
    "Incoterm",
    "InvoiceLine",
    "ItemCategory",
    "Party",
    "SpecialTerritory",
    "Valuation",
    "VatDetermination",
    "VatRates",
    "VatRegime",
    "commercial_invoice",
    "crosses_customs_border",
    "customs_declaration",
    "duties_estimate",
    "is_in_eu_customs_territory",
    "is_in_eu_vat_territory",
    "normalise_hs_code",
    "special_territory",
    "vat_for_destination",
    "vat_rates_on",
]
