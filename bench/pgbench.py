"""Find and drive ``pgbench``; create and drop the harness's scratch schema and database."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from psycopg import sql

from bench.context import BenchContext, DatabaseTarget, progress

DEBIAN_PGBENCH = Path("/usr/lib/postgresql/15/bin/pgbench")
# pgbench stops by itself after -T seconds; this margin covers connecting and vacuuming only.
TIMEOUT_MARGIN_SECONDS = 120


def find_pgbench() -> Path:
    """The pgbench binary: the one shipped in the pgserver wheel, else Debian's, else PATH.

    Raises ``FileNotFoundError`` when none exists.
    """
    candidates: list[Path] = []
    try:
        # pgserver's import warns about XDG_RUNTIME_DIR on servers; only its path matters here.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import pgserver

        candidates.append(Path(pgserver.__file__).parent / "pginstall" / "bin" / "pgbench")
    except ImportError:  # the wheel is a project dependency; tolerate its absence anyway
        pass
    candidates.append(DEBIAN_PGBENCH)
    on_path = shutil.which("pgbench")
    if on_path:
        candidates.append(Path(on_path))
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    raise FileNotFoundError("pgbench not found (pgserver wheel, Debian postgresql, PATH)")


def pgbench_version() -> str:
    """``pgbench --version`` output, e.g. ``pgbench (PostgreSQL) 16.2``."""
    result = subprocess.run(
        [str(find_pgbench()), "--version"], capture_output=True, text=True, check=True, timeout=30
    )
    return result.stdout.strip()


@dataclass(frozen=True)
class PgbenchResult:
    """What one pgbench run reported."""

    tps: float
    latency_ms: float
    transactions: int
    failed: int


_TPS = re.compile(r"^tps = ([0-9.]+) \(without initial connection time\)", re.MULTILINE)
_LATENCY = re.compile(r"^latency average = ([0-9.]+) ms", re.MULTILINE)
_PROCESSED = re.compile(r"^number of transactions actually processed: (\d+)", re.MULTILINE)
_FAILED = re.compile(r"^number of failed transactions: (\d+)", re.MULTILINE)


def parse_pgbench_output(output: str) -> PgbenchResult:
    """Read tps, average latency and counts from pgbench's summary; ``ValueError`` if absent."""
    tps = _TPS.search(output)
    latency = _LATENCY.search(output)
    processed = _PROCESSED.search(output)
    if not (tps and latency and processed):
        raise ValueError(f"unexpected pgbench output:\n{output}")
    failed = _FAILED.search(output)
    return PgbenchResult(
        tps=float(tps.group(1)),
        latency_ms=float(latency.group(1)),
        transactions=int(processed.group(1)),
        failed=int(failed.group(1)) if failed else 0,
    )


def run_pgbench(
    target: DatabaseTarget,
    *,
    clients: int,
    seconds: int,
    script: str | None = None,
    database: str | None = None,
) -> PgbenchResult:
    """Run pgbench for ``seconds`` with ``clients`` connections in prepared mode.

    ``script`` is a custom pgbench script (run with ``-n``: no vacuum of pgbench_* tables);
    without one the built-in TPC-B-like script runs on tables made by :func:`pgbench_init`.
    Raises ``RuntimeError`` when pgbench fails or any client aborts.
    """
    threads = max(1, min(clients, os.cpu_count() or 1))
    command = [
        str(find_pgbench()),
        "--client",
        str(clients),
        "--jobs",
        str(threads),
        "--time",
        str(seconds),
        "--protocol",
        "prepared",
    ]
    with tempfile.TemporaryDirectory(prefix="omnilog-bench-") as scratch:
        if script is not None:
            script_path = Path(scratch) / "script.sql"
            script_path.write_text(script)
            command += ["--no-vacuum", "--file", str(script_path)]
        command += target.libpq_args(database=database)
        result = subprocess.run(
            command,
            capture_output=True,
            text=True,
            env=target.libpq_env(),
            timeout=seconds + TIMEOUT_MARGIN_SECONDS,
            check=False,
        )
    if result.returncode != 0:
        raise RuntimeError(_failure("pgbench", result))
    return parse_pgbench_output(result.stdout)


def pgbench_init(target: DatabaseTarget, *, database: str, scale: int) -> None:
    """Create and fill the pgbench_* tables at ``scale`` in ``database`` (``pgbench -i``)."""
    command = [str(find_pgbench()), "--initialize", "--quiet", "--scale", str(scale)]
    result = subprocess.run(
        [*command, *target.libpq_args(database=database)],
        capture_output=True,
        text=True,
        env=target.libpq_env(),
        timeout=600,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(_failure("pgbench -i", result))


def _failure(what: str, result: subprocess.CompletedProcess[str]) -> str:
    """An error message whose first line is pgbench's first error, then the whole output."""
    errors = [line for line in result.stderr.splitlines() if "error" in line.lower()]
    headline = errors[0] if errors else "no error message"
    return f"{what} exited {result.returncode}: {headline}\n{result.stderr}{result.stdout}"


@contextmanager
def scratch_schema(context: BenchContext) -> Iterator[None]:
    """Create the harness schema empty (dropping a stale one) and drop it on the way out."""
    statement = sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(context.schema))
    with context.database.connect(autocommit=True) as connection:
        connection.execute(statement)
        connection.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(context.schema)))
    try:
        yield
    finally:
        with context.database.connect(autocommit=True) as connection:
            connection.execute(statement)


@contextmanager
def scratch_database(target: DatabaseTarget, name: str) -> Iterator[str]:
    """Create database ``name`` on the target's server (dropping a stale one); drop it after."""
    drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
    with target.connect(database="postgres", autocommit=True) as connection:
        connection.execute(drop)
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield name
    finally:
        progress(f"dropping database {name}")
        with target.connect(database="postgres", autocommit=True) as connection:
            connection.execute(drop)
