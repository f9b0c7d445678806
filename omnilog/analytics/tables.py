"""Tables the dashboard shows and exports: columns with a kind, cells with a raw value, a
display text and, for figures that stand for orders, the drill-down parameters."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

# kind -> how a value is shown; CSV gets ``csv_value``.
KINDS = ("text", "int", "hours", "percent", "money", "decimal")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: str = "text"


@dataclass(frozen=True)
class Cell:
    value: Any
    display: str
    drill: tuple[tuple[str, str], ...] = ()  # (name, value) pairs, ``measure`` first


@dataclass(frozen=True)
class Table:
    key: str
    title: str
    columns: tuple[Column, ...]
    rows: tuple[tuple[Cell, ...], ...]
    note: str = ""
    chart: dict[str, Any] = field(default_factory=dict)


def display(value: Any, kind: str) -> str:
    if value is None:
        return "-"
    if kind == "hours":
        hours = float(value) / 3600
        return f"{hours:.1f} h" if hours < 48 else f"{hours / 24:.1f} d"
    if kind == "percent":
        return f"{float(value) * 100:.1f} %"
    if kind == "money":
        return f"{Decimal(value):,.2f}"
    if kind == "decimal":
        return f"{float(value):.2f}"
    if kind == "int":
        return f"{int(value):,}"
    return str(value)


def csv_value(value: Any, kind: str) -> str:
    """Machine-readable: hours as decimal hours, rates as fractions, money as is."""
    if value is None:
        return ""
    if kind == "hours":
        return f"{float(value) / 3600:.2f}"
    if kind == "percent":
        return f"{float(value):.4f}"
    text = str(value)
    # A spreadsheet would run a text starting like a formula (reasons are free text).
    return f"'{text}" if kind == "text" and text[:1] in FORMULA_STARTS else text


def cell(value: Any, kind: str = "text", drill: Iterable[tuple[str, Any]] = ()) -> Cell:
    return Cell(
        value=value,
        display=display(value, kind),
        drill=tuple((name, str(item)) for name, item in drill),
    )


def table(
    *,
    key: str,
    title: str,
    columns: Sequence[tuple[str, str, str]],
    rows: Iterable[Sequence[Any]],
    note: str = "",
    drills: Iterable[dict[str, Iterable[tuple[str, Any]]]] | None = None,
    chart: dict[str, Any] | None = None,
) -> Table:
    """Build a table from plain rows; ``drills`` gives, per row, the drill-down parameters
    of some of its columns (by column key)."""
    cols = tuple(Column(*spec) for spec in columns)
    built = []
    row_list = [list(row) for row in rows]
    drill_list = list(drills) if drills is not None else [{} for _ in row_list]
    for values, row_drills in zip(row_list, drill_list, strict=True):
        built.append(
            tuple(
                cell(value, column.kind, row_drills.get(column.key, ()))
                for column, value in zip(cols, values, strict=True)
            )
        )
    return Table(
        key=key, title=title, columns=cols, rows=tuple(built), note=note, chart=chart or {}
    )


def table_csv(source: Table) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([column.label for column in source.columns])
    for row in source.rows:
        writer.writerow(
            [
                csv_value(item.value, column.kind)
                for column, item in zip(source.columns, row, strict=True)
            ]
        )
    return buffer.getvalue()
