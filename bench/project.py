"""Django for project benchmarks: a migrated scratch database of their own, made once per run.

A project benchmark calls :func:`django_ready` first. The first call creates the database
``<database>_bench_project`` on the server under test (dropping a stale one), points Django at
it, runs ``django.setup()`` and ``migrate``; later calls return at once. ``run.py`` calls
:func:`teardown` at the end of the run, which drops that database. The project's own database
is never written by a benchmark.
"""

from __future__ import annotations

import os

from psycopg import sql

from bench.context import BenchContext, progress

_state: dict[str, str] = {}


def project_database_name(context: BenchContext) -> str:
    return f"{context.database.name}_bench_project"


def django_ready(context: BenchContext) -> None:
    """Make Django usable on the benchmarks' migrated scratch database (idempotent).

    Must run before anything imports Django models in this process. Benchmarks that need a
    Celery worker start it themselves against ``os.environ["DATABASE_URL"]`` (set here).
    """
    if _state:
        return
    name = project_database_name(context)
    drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
    with context.database.connect(database="postgres", autocommit=True) as connection:
        connection.execute(drop)
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    _state["database"] = name
    os.environ["DATABASE_URL"] = context.database.url(database=name)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "omnilog.settings.local")
    # Benchmarks measure the production code path: no debug SQL capture.
    os.environ["DEBUG"] = "0"
    import django
    from django.core.management import call_command

    progress(f"project benchmarks: migrating {name}")
    django.setup()
    call_command("migrate", "--no-input", verbosity=0)


def teardown(context: BenchContext) -> None:
    """Close Django's connections and drop the scratch database, if :func:`django_ready` ran."""
    name = _state.pop("database", None)
    if name is None:
        return
    from django.db import connections

    connections.close_all()
    progress(f"dropping database {name}")
    drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
    with context.database.connect(database="postgres", autocommit=True) as connection:
        connection.execute(drop)
