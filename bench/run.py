"""``python -m bench.run``: measure the raw limits, run the project benchmarks, write the results.

Usually started by ``make bench`` (``python -m omnilog.launcher bench [args]``), which starts
the embedded PostgreSQL and Redis when ``DATABASE_URL`` / ``REDIS_URL`` are unset. Run directly,
it does the same. Progress goes to stderr; the Markdown table to stdout and, with the JSON, to
``bench/results/latest.{md,json}`` (or ``--output-dir``).

Exit status: 0 when every selected figure was measured, 1 when one failed to run, 2 on bad
arguments, 3 with ``--fail-on-goal`` when a benchmark missed its goal.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import traceback
from collections.abc import Sequence
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from bench import project
from bench.context import QUICK_SIZES, BenchContext, DatabaseTarget, Sizes, progress
from bench.pgbench import pgbench_version
from bench.registry import FigureSpec, load_figures, select
from bench.report import (
    FigureResult,
    build_document,
    evaluate,
    machine_info,
    render_markdown,
    write_results,
)

DEFAULT_OUTPUT = Path(__file__).resolve().parent / "results"
DEFAULT_DURATION = 10.0
QUICK_DURATION = 2.0


def parse_arguments(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="make bench ARGS=...", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--only", help="comma-separated figures, e.g. L0,L2 (a benchmark brings its limit)"
    )
    parser.add_argument(
        "--duration", type=float, help="seconds per timed run (default 10, quick 2)"
    )
    parser.add_argument(
        "--quick", action="store_true", help="short runs and small sizes: a smoke run"
    )
    parser.add_argument("--copy-rows", type=int, help="rows copied by L3 (default 1,000,000)")
    parser.add_argument("--tpcb-scale", type=int, help="pgbench -i scale for L1 (default 8)")
    parser.add_argument("--output-dir", type=Path, default=DEFAULT_OUTPUT, help="where latest.* go")
    parser.add_argument("--schema", default="bench_raw", help="scratch schema (created, dropped)")
    parser.add_argument("--fail-on-goal", action="store_true", help="exit 3 when a goal is missed")
    parser.add_argument("--list", action="store_true", help="list the registered figures and exit")
    arguments = parser.parse_args(argv)
    if arguments.duration is not None and arguments.duration <= 0:
        parser.error("--duration must be positive")
    for name in ("copy_rows", "tpcb_scale"):
        value = getattr(arguments, name)
        if value is not None and value < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    return arguments


def build_context(arguments: argparse.Namespace) -> BenchContext:
    """The context from the (already exported) URLs and the command-line sizes."""
    sizes = QUICK_SIZES if arguments.quick else Sizes()
    if arguments.copy_rows is not None:
        sizes = replace(sizes, copy_rows=arguments.copy_rows)
    if arguments.tpcb_scale is not None:
        sizes = replace(sizes, tpcb_scale=arguments.tpcb_scale)
    duration = arguments.duration or (QUICK_DURATION if arguments.quick else DEFAULT_DURATION)
    database_url = os.environ["DATABASE_URL"]
    return BenchContext(
        database=DatabaseTarget.from_url(database_url),
        database_url=database_url,
        redis_url=os.environ["REDIS_URL"],
        duration=duration,
        sizes=sizes,
        schema=arguments.schema,
    )


def run_figures(context: BenchContext, specs: Sequence[FigureSpec]) -> list[FigureResult]:
    """Run each figure in order (limits first); a failure is recorded and the run goes on."""
    results: dict[str, FigureResult] = {}
    for spec in specs:
        progress(f"{spec.name}: {spec.title}")
        started = time.monotonic()
        try:
            measurement = spec.function(context)
        except Exception as error:  # one broken figure must not hide the others
            progress(f"{spec.name} failed:\n{traceback.format_exc()}")
            results[spec.name] = evaluate(
                spec,
                None,
                limits=results,
                seconds=time.monotonic() - started,
                error=f"{type(error).__name__}: {error}",
            )
            continue
        result = evaluate(spec, measurement, limits=results, seconds=time.monotonic() - started)
        results[spec.name] = result
        progress(f"{spec.name}: {result.value:,.1f} {spec.unit}")
    return list(results.values())


def measure(
    arguments: argparse.Namespace, specs: Sequence[FigureSpec], only: list[str] | None
) -> tuple[dict[str, Any], list[FigureResult]]:
    """Start embedded servers if needed, run ``specs``, clean up; return the JSON document."""
    from omnilog.core.embedded import ensure_services, stop_services

    # The launcher exports both URLs; without them (run directly) start embedded servers here,
    # and stop only what was started here. With them, this creates a missing database.
    started_here = not (os.environ.get("DATABASE_URL") and os.environ.get("REDIS_URL"))
    ensure_services()
    try:
        context = build_context(arguments)
        machine = machine_info(context, pgbench=pgbench_version())
        progress(
            f"PostgreSQL {machine['postgresql']} over {machine['database_transport']}, "
            f"{machine['cpu_count']} CPUs; figures: {', '.join(spec.name for spec in specs)}"
        )
        try:
            results = run_figures(context, specs)
        finally:
            project.teardown(context)
    finally:
        if started_here:
            stop_services()
    settings = {
        "duration": context.duration,
        "quick": arguments.quick,
        "only": only,
        "sizes": asdict(context.sizes),
    }
    return build_document(machine=machine, settings=settings, results=results), results


def main(argv: Sequence[str] | None = None) -> int:
    arguments = parse_arguments(sys.argv[1:] if argv is None else argv)
    figures = load_figures()
    if arguments.list:
        for spec in figures.values():
            against = f" vs {spec.limit}, goal: ratio {spec.goal}" if spec.limit else ""
            against = f", goal: value {spec.goal}" if spec.goal and not spec.limit else against
            print(f"{spec.name}  {spec.title} [{spec.unit}]{against}")
        return 0
    only = (
        [name.strip() for name in arguments.only.split(",") if name.strip()]
        if arguments.only
        else None
    )
    try:
        specs = select(figures, only)
    except KeyError as error:
        print(error.args[0], file=sys.stderr)
        return 2
    document, results = measure(arguments, specs, only)
    markdown = render_markdown(document, results)
    write_results(arguments.output_dir, document, markdown)
    print(markdown)
    progress(f"wrote {arguments.output_dir / 'latest.json'} and latest.md")
    if any(result.error for result in results):
        return 1
    if arguments.fail_on_goal and any(result.passed is False for result in results):
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
