"""Raw limits measured with pgbench: L0 order transaction, L1 TPC-B, L2 one hot row.

Everything lives in the harness's scratch schema (L0, L2) or scratch database (L1), created
here and dropped afterwards; the project's tables are never touched.
"""

from __future__ import annotations

from psycopg import sql

from bench.context import BenchContext, progress
from bench.pgbench import pgbench_init, run_pgbench, scratch_database, scratch_schema
from bench.registry import Measurement, raw_limit

ORDER_CLIENTS = 8
TPCB_CLIENTS = 8
HOT_ROW_CLIENTS = 16
# Far more than any run can reserve, so that every reservation succeeds and every transaction
# does the same work (a real service would roll back a short line).
ON_HAND = 1_000_000_000

# Tables shaped like Omnilog's stock level, order, line, reservation and outbox tables, with the
# constraints that cost something at write time (primary keys, foreign keys, unique key, check).
ORDER_SCHEMA = """
CREATE TABLE {schema}.stock_level (
    id bigint PRIMARY KEY,
    sku text NOT NULL,
    location_id integer NOT NULL,
    on_hand integer NOT NULL,
    reserved integer NOT NULL DEFAULT 0 CHECK (reserved >= 0 AND reserved <= on_hand),
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (sku, location_id)
);
CREATE TABLE {schema}.sales_order (
    id bigserial PRIMARY KEY,
    idempotency_key uuid NOT NULL UNIQUE,
    channel text NOT NULL,
    status text NOT NULL,
    total_cents bigint NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE {schema}.order_line (
    id bigserial PRIMARY KEY,
    order_id bigint NOT NULL REFERENCES {schema}.sales_order (id),
    stock_level_id bigint NOT NULL REFERENCES {schema}.stock_level (id),
    quantity integer NOT NULL CHECK (quantity > 0),
    unit_price_cents bigint NOT NULL
);
CREATE INDEX ON {schema}.order_line (order_id);
CREATE TABLE {schema}.reservation (
    id bigserial PRIMARY KEY,
    order_id bigint NOT NULL REFERENCES {schema}.sales_order (id),
    stock_level_id bigint NOT NULL REFERENCES {schema}.stock_level (id),
    quantity integer NOT NULL CHECK (quantity > 0),
    status text NOT NULL DEFAULT 'active',
    expires_at timestamptz NOT NULL
);
CREATE INDEX ON {schema}.reservation (order_id);
CREATE INDEX ON {schema}.reservation (stock_level_id);
CREATE TABLE {schema}.outbox (
    id bigserial PRIMARY KEY,
    topic text NOT NULL,
    payload jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO {schema}.stock_level (id, sku, location_id, on_hand)
SELECT i, 'SKU-' || lpad((i / 50)::text, 6, '0'), i % 50, {on_hand}
FROM generate_series(1, {rows}) AS i;
ANALYZE {schema}.stock_level;
"""

# Three stock rows from three disjoint bands, so they are distinct and already in key order;
# the SELECT still says ORDER BY id, as the project's lock helper does.
ORDER_SCRIPT = """\\set s1 random(1, {band})
\\set s2 random({band} + 1, 2 * {band})
\\set s3 random(2 * {band} + 1, 3 * {band})
\\set q1 random(1, 3)
\\set q2 random(1, 3)
\\set q3 random(1, 3)
BEGIN;
SELECT id FROM {schema}.stock_level WHERE id IN (:s1, :s2, :s3) ORDER BY id FOR UPDATE;
UPDATE {schema}.stock_level AS s SET reserved = s.reserved + v.q, updated_at = now() \
FROM (VALUES (:s1::bigint, :q1::integer), (:s2::bigint, :q2::integer), \
(:s3::bigint, :q3::integer)) AS v (id, q) WHERE s.id = v.id AND s.on_hand - s.reserved >= v.q;
INSERT INTO {schema}.sales_order (idempotency_key, channel, status, total_cents) \
VALUES (gen_random_uuid(), 'web', 'placed', 4990) RETURNING id AS order_id \\gset
INSERT INTO {schema}.order_line (order_id, stock_level_id, quantity, unit_price_cents) \
VALUES (:order_id, :s1, :q1, 1000), (:order_id, :s2, :q2, 1500), (:order_id, :s3, :q3, 2490);
INSERT INTO {schema}.reservation (order_id, stock_level_id, quantity, expires_at) \
VALUES (:order_id, :s1, :q1, now() + interval '15 minutes'), \
(:order_id, :s2, :q2, now() + interval '15 minutes'), \
(:order_id, :s3, :q3, now() + interval '15 minutes');
INSERT INTO {schema}.outbox (topic, payload) \
VALUES ('order.placed', jsonb_build_object('order_id', :order_id::bigint));
COMMIT;
"""

HOT_ROW_SCRIPT = "UPDATE {schema}.hot_counter SET n = n + 1 WHERE id = 1;\n"


def _execute_script(context: BenchContext, template: str, **values: object) -> None:
    """Run a multi-statement DDL template with the schema name filled in (simple protocol)."""
    statement = template.format(schema=context.schema, **values)
    with context.database.connect(autocommit=True) as connection:
        # The template holds only constants and the validated schema name.
        connection.execute(sql.SQL(statement))


@raw_limit("L0", unit="tps", title="raw-SQL order transaction, 8 clients")
def order_transaction(context: BenchContext) -> Measurement:
    """Lock 3 stock rows in key order, reserve, write order, 3 lines, 3 reservations, 1 outbox."""
    rows = context.sizes.order_stock_rows
    with scratch_schema(context):
        progress(f"L0: creating order tables with {rows} stock rows")
        _execute_script(context, ORDER_SCHEMA, rows=rows, on_hand=ON_HAND)
        script = ORDER_SCRIPT.format(schema=context.schema, band=rows // 3)
        progress(f"L0: pgbench, {ORDER_CLIENTS} clients, {context.whole_seconds} s")
        result = run_pgbench(
            context.database, clients=ORDER_CLIENTS, seconds=context.whole_seconds, script=script
        )
        orders = _count(context, "sales_order")
    return Measurement(
        value=result.tps,
        details={
            "clients": ORDER_CLIENTS,
            "latency_avg_ms": result.latency_ms,
            "transactions": result.transactions,
            "failed": result.failed,
            "orders_written": orders,
            "stock_rows": rows,
        },
    )


@raw_limit("L1", unit="tps", title="pgbench TPC-B, 8 clients")
def tpcb(context: BenchContext) -> Measurement:
    """The built-in TPC-B-like script in a scratch database ``<database>_bench_raw``."""
    scale = context.sizes.tpcb_scale
    with scratch_database(context.database, f"{context.database.name}_bench_raw") as database:
        progress(f"L1: pgbench -i at scale {scale} into {database}")
        pgbench_init(context.database, database=database, scale=scale)
        progress(f"L1: pgbench TPC-B, {TPCB_CLIENTS} clients, {context.whole_seconds} s")
        result = run_pgbench(
            context.database,
            clients=TPCB_CLIENTS,
            seconds=context.whole_seconds,
            database=database,
        )
    return Measurement(
        value=result.tps,
        details={
            "clients": TPCB_CLIENTS,
            "scale": scale,
            "latency_avg_ms": result.latency_ms,
            "transactions": result.transactions,
            "failed": result.failed,
        },
    )


@raw_limit("L2", unit="updates/s", title="one hot row, 16 clients")
def hot_row(context: BenchContext) -> Measurement:
    """``UPDATE hot_counter SET n = n + 1 WHERE id = 1`` from 16 clients, autocommit."""
    with scratch_schema(context):
        _execute_script(
            context,
            "CREATE TABLE {schema}.hot_counter (id integer PRIMARY KEY, n bigint NOT NULL);"
            "INSERT INTO {schema}.hot_counter VALUES (1, 0);",
        )
        progress(f"L2: pgbench hot row, {HOT_ROW_CLIENTS} clients, {context.whole_seconds} s")
        result = run_pgbench(
            context.database,
            clients=HOT_ROW_CLIENTS,
            seconds=context.whole_seconds,
            script=HOT_ROW_SCRIPT.format(schema=context.schema),
        )
        with context.database.connect() as connection:
            row = connection.execute(
                sql.SQL("SELECT n FROM {}.hot_counter WHERE id = 1").format(
                    sql.Identifier(context.schema)
                )
            ).fetchone()
    return Measurement(
        value=result.tps,
        details={
            "clients": HOT_ROW_CLIENTS,
            "latency_avg_ms": result.latency_ms,
            "transactions": result.transactions,
            "failed": result.failed,
            "counter_final_value": int(row[0]) if row else 0,
        },
    )


def _count(context: BenchContext, table: str) -> int:
    with context.database.connect() as connection:
        row = connection.execute(
            sql.SQL("SELECT count(*) FROM {}.{}").format(
                sql.Identifier(context.schema), sql.Identifier(table)
            )
        ).fetchone()
    return int(row[0]) if row else 0
