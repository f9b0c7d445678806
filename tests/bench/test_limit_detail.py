"""A latency benchmark compares with a detail of its limit (L4's p95), not the limit's rate."""

from __future__ import annotations

from bench.registry import FigureSpec, Goal, Measurement
from bench.report import FigureResult, evaluate


def test_ratio_uses_the_named_detail_of_the_limit() -> None:
    spec = FigureSpec(
        name="B99",
        title="pages",
        unit="ms p95",
        function=lambda context: Measurement(value=0.0),
        limit="L4",
        goal=Goal.parse("<= 2"),
        limit_detail="p95_ms",
    )
    limit = FigureResult(
        name="L4", title="ping", unit="req/s", value=1500.0, details={"p95_ms": 10.0}
    )

    passing = evaluate(spec, Measurement(value=15.0), limits={"L4": limit}, seconds=1)
    failing = evaluate(spec, Measurement(value=25.0), limits={"L4": limit}, seconds=1)
    missing = evaluate(
        spec,
        Measurement(value=15.0),
        limits={"L4": FigureResult(name="L4", title="ping", unit="req/s", value=1500.0)},
        seconds=1,
    )

    assert (passing.limit_value, passing.ratio, passing.passed) == (10.0, 1.5, True)
    assert (failing.ratio, failing.passed) == (2.5, False)
    assert (missing.limit_value, missing.ratio, missing.passed) == (None, None, None)
