"""The registry of figures: raw limits (L0, L1, ...) and project benchmarks (B1, B2, ...).

A figure is a function that takes a :class:`bench.context.BenchContext` and returns a
:class:`Measurement`. It is registered with :func:`raw_limit` or :func:`benchmark` in a module
listed in ``LIMIT_MODULES`` or ``BENCHMARK_MODULES``; :func:`load_figures` imports those modules
so that their decorators run. Raw limits always run before benchmarks, so that a benchmark's
ratio compares it with a limit measured on the same database in the same run.
"""

from __future__ import annotations

import importlib
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bench.context import BenchContext

# Modules whose import registers the raw limits, in the order they run.
LIMIT_MODULES: tuple[str, ...] = (
    "bench.limits_sql",
    "bench.limit_copy",
    "bench.limit_http",
)
# Modules whose import registers the project benchmarks; add yours, e.g. "bench.b2_flash_sale".
BENCHMARK_MODULES: tuple[str, ...] = (
    "bench.b1_order_capture",
    "bench.b2_flash_sale",
    "bench.b3_snapshot",
    "bench.b5_availability",
    "bench.b6_routing",
    "bench.b7_pipeline",
    "bench.b8_picking",
    "bench.b9_promise",
    "bench.b10_store_queue",
)

Detail = float | int | str

_OPERATORS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
}


@dataclass(frozen=True)
class Measurement:
    """What a figure function returns: one headline value and optional supporting details.

    ``value`` is in the unit declared at registration (higher is better unless the goal says
    otherwise). ``details`` hold secondary numbers (latency percentiles, request counts, sizes)
    that are reported but not compared.
    """

    value: float
    details: Mapping[str, Detail] = field(default_factory=dict)


@dataclass(frozen=True)
class Goal:
    """A comparison such as ``>= 0.5``; it applies to the ratio when the figure has a limit."""

    operator: str
    threshold: float

    @classmethod
    def parse(cls, text: str) -> Goal:
        """Parse ``"<op> <number>"`` with op one of ``>= > <= <``; raise ``ValueError`` else."""
        parts = text.split()
        if len(parts) != 2 or parts[0] not in _OPERATORS:
            raise ValueError(f"a goal reads like '>= 0.5', not {text!r}")
        return cls(operator=parts[0], threshold=float(parts[1]))

    def is_met(self, observed: float) -> bool:
        return bool(_OPERATORS[self.operator](observed, self.threshold))

    def __str__(self) -> str:
        return f"{self.operator} {self.threshold:g}"


FigureFunction = Callable[["BenchContext"], Measurement]


@dataclass(frozen=True)
class FigureSpec:
    """A registered figure: its name, unit, the limit it is compared with and its goal."""

    name: str
    title: str
    unit: str
    function: FigureFunction
    limit: str | None = None
    goal: Goal | None = None
    # Compare with this detail of the limit (e.g. L4's "p95_ms") instead of its value.
    limit_detail: str | None = None

    @property
    def is_limit(self) -> bool:
        return self.name.startswith("L")


_REGISTRY: dict[str, FigureSpec] = {}


def _register(spec: FigureSpec) -> None:
    existing = _REGISTRY.get(spec.name)
    # Re-importing a module (pytest, reload) registers the same function again: harmless.
    if existing is not None and existing.function.__qualname__ != spec.function.__qualname__:
        raise ValueError(f"figure {spec.name} is registered twice")
    _REGISTRY[spec.name] = spec


def raw_limit(name: str, *, unit: str, title: str) -> Callable[[FigureFunction], FigureFunction]:
    """Register a raw limit (``L<n>``): what PostgreSQL or the web stack does without Omnilog."""
    if not name.startswith("L"):
        raise ValueError(f"raw limits are named L<n>, not {name!r}")

    def decorate(function: FigureFunction) -> FigureFunction:
        _register(FigureSpec(name=name, title=title, unit=unit, function=function))
        return function

    return decorate


def benchmark(
    name: str,
    *,
    limit: str | None,
    goal: str | None,
    unit: str,
    title: str = "",
    limit_detail: str | None = None,
) -> Callable[[FigureFunction], FigureFunction]:
    """Register a project benchmark (``B<n>``), compared with raw limit ``limit``.

    With a limit, ``goal`` applies to ``value / limit value`` and the limit must be in the same
    unit family (the harness does not convert). Without one, ``goal`` applies to the value.
    ``limit_detail`` compares with one of the limit's details instead of its value (a latency
    benchmark against L4's ``p95_ms``, whose value is a rate).
    """
    if not name.startswith("B"):
        raise ValueError(f"benchmarks are named B<n>, not {name!r}")
    parsed_goal = Goal.parse(goal) if goal else None

    def decorate(function: FigureFunction) -> FigureFunction:
        spec = FigureSpec(
            name=name,
            title=title or (function.__doc__ or name).strip().splitlines()[0],
            unit=unit,
            function=function,
            limit=limit,
            goal=parsed_goal,
            limit_detail=limit_detail,
        )
        _register(spec)
        return function

    return decorate


def unregister(name: str) -> None:
    """Forget a figure (tests register throw-away figures and remove them afterwards)."""
    _REGISTRY.pop(name, None)


def load_figures() -> dict[str, FigureSpec]:
    """Import every registered module; return all figures, limits first, each group by name.

    Raises ``ValueError`` when a benchmark names a limit that is not registered.
    """
    for module in (*LIMIT_MODULES, *BENCHMARK_MODULES):
        importlib.import_module(module)
    for spec in _REGISTRY.values():
        if spec.limit is not None and spec.limit not in _REGISTRY:
            raise ValueError(f"{spec.name} is compared with {spec.limit}, which is not registered")
    return dict(sorted(_REGISTRY.items(), key=lambda item: (not item[1].is_limit, _key(item[0]))))


def _key(name: str) -> tuple[int, str]:
    digits = "".join(character for character in name[1:] if character.isdigit())
    return (int(digits) if digits else 0, name)


def select(figures: Mapping[str, FigureSpec], only: list[str] | None) -> list[FigureSpec]:
    """The figures to run: ``only`` (names) plus the limit of every selected benchmark.

    Raises ``KeyError`` naming the unknown figures when ``only`` lists one that does not exist.
    """
    if not only:
        return list(figures.values())
    unknown = [name for name in only if name not in figures]
    if unknown:
        raise KeyError(f"unknown figures: {', '.join(unknown)} (known: {', '.join(figures)})")
    wanted = set(only)
    for name in only:
        limit = figures[name].limit
        if limit is not None:
            wanted.add(limit)
    return [spec for name, spec in figures.items() if name in wanted]
