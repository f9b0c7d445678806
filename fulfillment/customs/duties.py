"""Import duties and import VAT estimates for a few destinations outside the EU, DDP vs DAP.

A simple documented table, not a tariff engine: one ad valorem duty rate per HS chapter (the
first two digits) with a default, the destination's import VAT by tax class, its de-minimis
thresholds, and the origins that enter duty-free under a trade agreement (with a valid origin
statement on the invoice). Thresholds are stored in EUR at the rounded exchange rates given
per table. Tables are as of 2025-01-01; callers may pass newer ones (``tables``).

DDP: the seller pays duties and import VAT (``seller_cost``); DAP: the customer pays them on
delivery (``to_collect``, plus the carrier's clearance fee when one is given). VAT charged at
checkout (the UK's low-value rule) is the same under both and shown apart.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum

from channels_app.pricing.money import ZERO, money, percent_of, prorate
from fulfillment.customs.declaration import line_problems, normalise_hs_code, to_eur
from fulfillment.customs.territory import EU_MEMBER_STATES, normalise_country
from fulfillment.customs.types import CustomsError, CustomsLine, CustomsProblem, Incoterm


class Valuation(StrEnum):
    CIF = "CIF"  # goods + transport + insurance to the border (GB, CH)
    FOB = "FOB"  # goods only (US)


@dataclass(frozen=True)
class DutyTable:
    country: str
    as_of: date
    valuation: Valuation
    vat_rates: Mapping[str, Decimal]  # import VAT by tax class ("standard" always present)
    duty_by_chapter: Mapping[str, Decimal]  # percent by 2-digit HS chapter
    default_duty_rate: Decimal
    # Goods value at or below which no duty is charged.
    duty_de_minimis_eur: Decimal | None = None
    # Goods value at or below which VAT is charged by the seller at checkout instead of at
    # import (UK: consignments up to GBP 135).
    vat_at_checkout_up_to_eur: Decimal | None = None
    # Duty or import VAT totals at or below these are not collected (CH: CHF 5).
    min_duty_collected_eur: Decimal | None = None
    min_vat_collected_eur: Decimal | None = None
    preferential_origins: frozenset[str] = frozenset()
    notes: tuple[str, ...] = ()

    def duty_rate(self, hs_code: str) -> Decimal:
        return self.duty_by_chapter.get(normalise_hs_code(hs_code)[:2], self.default_duty_rate)

    def vat_rate(self, tax_class: str) -> Decimal:
        return self.vat_rates.get(tax_class, self.vat_rates["standard"])


def _chapters(table: str) -> dict[str, Decimal]:
    """``"61:12 64:8"`` -> ``{"61": Decimal("12"), "64": Decimal("8")}``."""
    return {chapter: Decimal(rate) for chapter, rate in (pair.split(":") for pair in table.split())}


def _percent(table: Mapping[str, str]) -> dict[str, Decimal]:
    return {key: Decimal(value) for key, value in table.items()}


DUTY_TABLES: dict[str, DutyTable] = {
    # UK Global Tariff (MFN, rounded); GBP 1 = EUR 1.19.
    "GB": DutyTable(
        country="GB",
        as_of=date(2025, 1, 1),
        valuation=Valuation.CIF,
        vat_rates=_percent({"standard": "20", "intermediate": "5", "reduced": "5", "zero": "0"}),
        duty_by_chapter=_chapters(
            "33:0 42:4 49:0 61:12 62:12 64:8 71:2.5 85:2 90:2 91:4.5 94:0 95:0"
        ),
        default_duty_rate=Decimal(4),
        duty_de_minimis_eur=Decimal("160.00"),  # GBP 135
        vat_at_checkout_up_to_eur=Decimal("160.00"),  # GBP 135: VAT charged at checkout
        preferential_origins=EU_MEMBER_STATES,  # EU-UK TCA, with a statement on origin
        notes=(
            "Up to GBP 135 the seller charges UK VAT at checkout and must be UK VAT-registered.",
            "EU-origin goods enter duty-free under the EU-UK TCA with a statement on origin.",
        ),
    ),
    # Swiss tariff: industrial goods (chapters 25-97) duty-free since 2024-01-01; agricultural
    # chapters are taxed by gross weight, estimated here as a flat 10 %. CHF 1 = EUR 1.06.
    "CH": DutyTable(
        country="CH",
        as_of=date(2025, 1, 1),
        valuation=Valuation.CIF,
        vat_rates=_percent(
            {"standard": "8.1", "reduced": "2.6", "super_reduced": "2.6", "zero": "0"}
        ),
        duty_by_chapter={f"{chapter:02d}": Decimal(10) for chapter in range(1, 25)},
        default_duty_rate=Decimal(0),
        min_duty_collected_eur=Decimal("5.30"),  # CHF 5
        min_vat_collected_eur=Decimal("5.30"),  # CHF 5
        notes=("Agricultural duties are weight-based in Switzerland; 10 % is an estimate.",),
    ),
    # US HTS general (MFN) rates, rounded per chapter; no import VAT (sales tax is not levied
    # at the border). USD 1 = EUR 0.96. As of 2025-01-01: the Section 321 de minimis (USD 800)
    # was suspended for all countries on 2025-08-29 and additional tariffs on EU goods apply
    # since 2025; update this table (or pass one) before relying on US estimates.
    "US": DutyTable(
        country="US",
        as_of=date(2025, 1, 1),
        valuation=Valuation.FOB,
        vat_rates=_percent({"standard": "0"}),
        duty_by_chapter=_chapters(
            "33:3 42:8 49:0 61:16 62:12 64:10 71:5.5 85:2 90:2 91:4 94:0 95:0"
        ),
        default_duty_rate=Decimal(4),
        duty_de_minimis_eur=Decimal("770.00"),  # USD 800, Section 321
        notes=("Table as of 2025-01-01: see the module notes on 2025 US tariff changes.",),
    ),
}


@dataclass(frozen=True)
class DutyLine:
    line_index: int
    hs_code: str
    origin_country: str
    customs_value: Decimal
    duty_rate: Decimal
    duty: Decimal
    vat_rate: Decimal
    import_vat: Decimal
    is_preferential: bool


@dataclass(frozen=True)
class DutiesEstimate:
    """``total_import_taxes == duty + import_vat``; under DDP ``seller_cost`` is that total and
    ``to_collect`` is 0, under DAP ``to_collect`` is that total plus the clearance fee."""

    destination_country: str
    incoterm: Incoterm
    currency: str
    goods_value: Decimal
    customs_value: Decimal
    duty: Decimal
    import_vat: Decimal
    vat_at_checkout: Decimal
    total_import_taxes: Decimal
    clearance_fee: Decimal
    seller_cost: Decimal
    to_collect: Decimal
    is_below_duty_de_minimis: bool
    lines: tuple[DutyLine, ...]
    table_as_of: date
    notes: tuple[str, ...] = field(default_factory=tuple)


def duties_estimate(
    *,
    lines: Sequence[CustomsLine],
    destination_country: str,
    incoterm: Incoterm,
    currency: str = "EUR",
    shipping: Decimal = ZERO,
    insurance: Decimal = ZERO,
    eur_rate: Decimal | None = None,
    clearance_fee: Decimal = ZERO,
    tables: Mapping[str, DutyTable] = DUTY_TABLES,
) -> DutiesEstimate:
    """Duties and import VAT of ``lines`` (values in ``currency``) entering
    ``destination_country``. Raises ``CustomsError`` for a destination without a table or for
    lines that cannot be declared (every problem listed)."""
    destination = normalise_country(destination_country)
    table = tables.get(destination)
    if table is None:
        raise CustomsError(
            "no_duty_table",
            (
                CustomsProblem(
                    "no_duty_table",
                    "destination_country",
                    f"no duty table for {destination!r}; known: {', '.join(sorted(tables))}",
                ),
            ),
        )
    problems = line_problems(lines)
    if problems:
        raise CustomsError("declaration_invalid", tuple(problems))

    def threshold(amount_eur: Decimal | None) -> Decimal | None:
        if amount_eur is None:
            return None
        if currency.upper() == "EUR":
            return amount_eur
        to_eur(Decimal(1), currency=currency, eur_rate=eur_rate)  # raises without a rate
        assert eur_rate is not None
        return money(amount_eur / eur_rate)

    values = [money(line.value) for line in lines]
    goods_value = sum(values, ZERO)
    transport = money(shipping + insurance) if table.valuation == Valuation.CIF else ZERO
    transport_shares = (
        prorate(transport, values) if goods_value > 0 else tuple(ZERO for _ in values)
    )
    if goods_value == 0 and transport and values:
        transport_shares = (transport, *(ZERO for _ in values[1:]))
    duty_limit = threshold(table.duty_de_minimis_eur)
    is_below_de_minimis = duty_limit is not None and goods_value <= duty_limit
    checkout_limit = threshold(table.vat_at_checkout_up_to_eur)
    is_vat_at_checkout = checkout_limit is not None and goods_value <= checkout_limit

    duty_lines: list[DutyLine] = []
    vat_at_checkout = ZERO
    for index, (line, value, transport_share) in enumerate(
        zip(lines, values, transport_shares, strict=True)
    ):
        origin = normalise_country(line.origin_country)
        customs_value = value + transport_share
        is_preferential = origin in table.preferential_origins
        rate = ZERO if is_below_de_minimis or is_preferential else table.duty_rate(line.hs_code)
        duty = percent_of(customs_value, rate)
        vat_rate = table.vat_rate(line.tax_class)
        if is_vat_at_checkout:
            vat_at_checkout += percent_of(customs_value, vat_rate)
            import_vat = ZERO
        else:
            import_vat = percent_of(customs_value + duty, vat_rate)
        duty_lines.append(
            DutyLine(
                line_index=index,
                hs_code=normalise_hs_code(line.hs_code),
                origin_country=origin,
                customs_value=customs_value,
                duty_rate=rate,
                duty=duty,
                vat_rate=vat_rate,
                import_vat=import_vat,
                is_preferential=is_preferential,
            )
        )
    duty = sum((line.duty for line in duty_lines), ZERO)
    import_vat = sum((line.import_vat for line in duty_lines), ZERO)
    notes = list(table.notes)
    min_duty = threshold(table.min_duty_collected_eur)
    if min_duty is not None and 0 < duty <= min_duty:
        notes.append(f"duty {duty} {currency} is under the collection minimum: not charged")
        duty_lines = [_without(line, duty=True) for line in duty_lines]
        duty = ZERO
    min_vat = threshold(table.min_vat_collected_eur)
    if min_vat is not None and 0 < import_vat <= min_vat:
        notes.append(f"import VAT {import_vat} {currency} is under the collection minimum")
        duty_lines = [_without(line, duty=False) for line in duty_lines]
        import_vat = ZERO
    total = duty + import_vat
    fee = money(clearance_fee) if incoterm == Incoterm.DAP and total > 0 else ZERO
    return DutiesEstimate(
        destination_country=destination,
        incoterm=incoterm,
        currency=currency.upper(),
        goods_value=goods_value,
        customs_value=goods_value + transport,
        duty=duty,
        import_vat=import_vat,
        vat_at_checkout=vat_at_checkout,
        total_import_taxes=total,
        clearance_fee=fee,
        seller_cost=total if incoterm == Incoterm.DDP else ZERO,
        to_collect=total + fee if incoterm == Incoterm.DAP else ZERO,
        is_below_duty_de_minimis=is_below_de_minimis,
        lines=tuple(duty_lines),
        table_as_of=table.as_of,
        notes=tuple(notes),
    )


def _without(line: DutyLine, *, duty: bool) -> DutyLine:
    """``line`` with its duty (or its import VAT) waived."""
    if duty:
        return DutyLine(
            line.line_index, line.hs_code, line.origin_country, line.customs_value,
            line.duty_rate, ZERO, line.vat_rate, line.import_vat, line.is_preferential,
        )  # fmt: skip
    return DutyLine(
        line.line_index, line.hs_code, line.origin_country, line.customs_value,
        line.duty_rate, line.duty, line.vat_rate, ZERO, line.is_preferential,
    )  # fmt: skip
