"""Results: what was measured, on what machine, rendered as JSON and as a Markdown table."""

from __future__ import annotations

import json
import os
import platform
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.context import BenchContext
from bench.registry import Detail, FigureSpec, Measurement

SCHEMA_VERSION = 1
BASE_DIR = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class FigureResult:
    """One figure as reported: its value, and for a benchmark its ratio to its limit and verdict.

    ``value`` is ``None`` and ``error`` says why when the figure could not be measured.
    ``passed`` is ``None`` when there is no goal or nothing to compare.
    """

    name: str
    title: str
    unit: str
    value: float | None
    limit: str | None = None
    limit_value: float | None = None
    ratio: float | None = None
    goal: str | None = None
    passed: bool | None = None
    seconds: float = 0.0
    details: Mapping[str, Detail] = field(default_factory=dict)
    error: str | None = None


def evaluate(
    spec: FigureSpec,
    measurement: Measurement | None,
    *,
    limits: Mapping[str, FigureResult],
    seconds: float,
    error: str | None = None,
) -> FigureResult:
    """Turn a measurement into a result: ratio to the already measured limit, goal verdict."""
    value = measurement.value if measurement else None
    limit_result = limits.get(spec.limit) if spec.limit else None
    limit_value = limit_result.value if limit_result else None
    if limit_result and spec.limit_detail:
        detail = limit_result.details.get(spec.limit_detail)
        limit_value = float(detail) if isinstance(detail, int | float) else None
    ratio = value / limit_value if value is not None and limit_value else None
    compared = ratio if spec.limit else value
    passed = spec.goal.is_met(compared) if spec.goal and compared is not None else None
    return FigureResult(
        name=spec.name,
        title=spec.title,
        unit=spec.unit,
        value=value,
        limit=spec.limit,
        limit_value=limit_value,
        ratio=ratio,
        goal=str(spec.goal) if spec.goal else None,
        passed=passed,
        seconds=round(seconds, 2),
        details=dict(measurement.details) if measurement else {},
        error=error,
    )


def _git(*args: str) -> str:
    try:
        result = subprocess.run(
            ["git", *args], cwd=BASE_DIR, capture_output=True, text=True, timeout=10, check=True
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    return result.stdout.strip()


def machine_info(context: BenchContext, *, pgbench: str) -> dict[str, Any]:
    """CPU count and load, OS, Python, PostgreSQL server version, pgbench, date, git commit."""
    with context.database.connect() as connection:
        row = connection.execute("SELECT current_setting('server_version'), version()").fetchone()
    # server_version may carry a packager's suffix: "15.20 (Debian 15.20-0+deb12u1)".
    server_version, server_banner = (str(row[0]).split()[0], str(row[1])) if row else ("", "")
    return {
        "cpu_count": os.cpu_count(),
        # Other work on the machine skews every figure; this says how busy it was at the start.
        "load_average_1m": round(os.getloadavg()[0], 2),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "postgresql": server_version,
        "postgresql_banner": server_banner,
        "database_transport": context.database.transport,
        "pgbench": pgbench,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "git_commit": _git("rev-parse", "HEAD"),
        "git_dirty": bool(_git("status", "--porcelain", "--untracked-files=no")),
    }


def build_document(
    *,
    machine: Mapping[str, Any],
    settings: Mapping[str, Any],
    results: Sequence[FigureResult],
) -> dict[str, Any]:
    """The JSON document written to ``latest.json`` (``schema_version`` bumps on changes)."""
    return {
        "schema_version": SCHEMA_VERSION,
        "machine": dict(machine),
        "settings": dict(settings),
        "figures": [asdict(result) for result in results],
    }


def _number(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:,.0f}" if abs(value) >= 10_000 else f"{value:,.1f}"


def _verdict(result: FigureResult) -> str:
    if result.error:
        return "ERROR"
    if result.passed is None:
        return ""
    return "pass" if result.passed else "FAIL"


def render_markdown(document: Mapping[str, Any], results: Sequence[FigureResult]) -> str:
    """A Markdown page: machine line, the figure table, then each figure's details."""
    machine = document["machine"]
    lines = [
        "# Omnilog benchmark results",
        "",
        f"{machine['date']}, commit {str(machine['git_commit'])[:12]}"
        f"{' (dirty tree)' if machine['git_dirty'] else ''}, {machine['cpu_count']} CPUs "
        f"(load {machine['load_average_1m']} at start), "
        f"PostgreSQL {machine['postgresql']} over {machine['database_transport']}, "
        f"duration {document['settings']['duration']:g} s"
        f"{' (quick)' if document['settings']['quick'] else ''}.",
        "",
        "| figure | value | limit | ratio | goal | result |",
        "|---|---:|---|---:|---|---|",
    ]
    for result in results:
        value = f"{_number(result.value)} {result.unit}" if result.value is not None else "-"
        limit = f"{result.limit} ({_number(result.limit_value)})" if result.limit else "-"
        ratio = f"{result.ratio:.2f}" if result.ratio is not None else "-"
        lines.append(
            f"| {result.name} {result.title} | {value} | {limit} | {ratio} | "
            f"{result.goal or '-'} | {_verdict(result)} |"
        )
    lines += ["", "Details:", ""]
    for result in results:
        if result.error:
            lines.append(f"- {result.name}: error: {result.error.splitlines()[0]}")
            continue
        details = ", ".join(f"{key} {value}" for key, value in result.details.items())
        lines.append(f"- {result.name} ({result.seconds:g} s): {details}")
    return "\n".join(lines) + "\n"


def write_results(output_dir: Path, document: Mapping[str, Any], markdown: str) -> None:
    """Write ``latest.json`` and ``latest.md`` into ``output_dir`` (created if missing)."""
    output_dir.mkdir(parents=True, exist_ok=True)
    (output_dir / "latest.json").write_text(json.dumps(document, indent=2) + "\n")
    (output_dir / "latest.md").write_text(markdown)
