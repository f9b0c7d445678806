"""What every figure function receives: where the database is, how long to run, how big."""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from urllib.parse import quote

import dj_database_url
import psycopg
from psycopg.conninfo import make_conninfo

SCHEMA_ALPHABET = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_")


@dataclass(frozen=True)
class DatabaseTarget:
    """Connection parameters of the database under test, parsed from ``DATABASE_URL``.

    ``host`` is a TCP host name or, for the embedded server, the Unix socket directory.
    """

    host: str
    port: str
    user: str
    password: str
    name: str

    @classmethod
    def from_url(cls, url: str) -> DatabaseTarget:
        config = dj_database_url.parse(url)
        return cls(
            host=str(config.get("HOST") or ""),
            port=str(config.get("PORT") or ""),
            user=str(config.get("USER") or "postgres"),
            password=str(config.get("PASSWORD") or ""),
            name=str(config["NAME"]),
        )

    def connect(
        self, *, database: str | None = None, autocommit: bool = False
    ) -> psycopg.Connection:
        """Open a psycopg connection to ``database`` (default: the target database)."""
        conninfo = make_conninfo(
            host=self.host or None,
            port=self.port or None,
            user=self.user,
            password=self.password or None,
            dbname=database or self.name,
        )
        return psycopg.connect(conninfo, autocommit=autocommit)

    def url(self, *, database: str | None = None) -> str:
        """A libpq URL for ``database`` on the same server (for child processes)."""
        credentials = quote(self.user, safe="")
        if self.password:
            credentials += ":" + quote(self.password, safe="")
        port = f":{self.port}" if self.port else ""
        return f"postgres://{credentials}@{quote(self.host, safe='')}{port}/{database or self.name}"

    def libpq_args(self, *, database: str | None = None) -> list[str]:
        """Command-line arguments for libpq tools (pgbench): ``-h -p -U`` and the database."""
        args = []
        if self.host:
            args += ["-h", self.host]
        if self.port:
            args += ["-p", self.port]
        return [*args, "-U", self.user, database or self.name]

    def libpq_env(self) -> dict[str, str]:
        """The environment for libpq tools: the password travels here, never on a command line."""
        env = dict(os.environ)
        if self.password:
            env["PGPASSWORD"] = self.password
        return env

    @property
    def transport(self) -> str:
        return (
            "unix socket" if self.host.startswith("/") else f"tcp {self.host}:{self.port or 5432}"
        )


@dataclass(frozen=True)
class Sizes:
    """How big each raw-limit workload is; ``--quick`` and the tests shrink them."""

    copy_rows: int = 1_000_000
    tpcb_scale: int = 8
    order_stock_rows: int = 30_000
    http_warmup_seconds: float = 2.0
    http_processes: int = 2
    http_connections_per_process: int = 4


QUICK_SIZES = Sizes(
    copy_rows=100_000,
    tpcb_scale=1,
    order_stock_rows=3_000,
    http_warmup_seconds=0.5,
)


@dataclass(frozen=True)
class BenchContext:
    """Everything a figure needs. ``schema`` is the harness's scratch schema (created and dropped
    by each figure that uses it); figures never touch the project's tables unless they are
    project benchmarks that go through Omnilog's services.
    """

    database: DatabaseTarget
    database_url: str
    redis_url: str
    duration: float
    sizes: Sizes
    schema: str = "bench_raw"

    def __post_init__(self) -> None:
        # The schema name is interpolated into SQL and pgbench scripts: keep it a plain word.
        if not self.schema or not set(self.schema) <= SCHEMA_ALPHABET or self.schema[0].isdigit():
            raise ValueError(f"schema must be a lower-case identifier, not {self.schema!r}")

    @property
    def whole_seconds(self) -> int:
        """The duration for tools that take whole seconds (pgbench ``-T``): at least 1."""
        return max(1, round(self.duration))


_started = time.monotonic()


def progress(message: str) -> None:
    """Report progress on stderr (stdout carries the result table only)."""
    print(f"[bench {time.monotonic() - _started:6.1f}s] {message}", file=sys.stderr, flush=True)
