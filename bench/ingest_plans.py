"""The duplicate check's plans on PostgreSQL: the generic plan psycopg's prepared statement may
keep, against the custom plan ingest now asks for (SET LOCAL plan_cache_mode), on a fresh
schema, with 20,000 alerts whose statistics are still those of the empty table (autovacuum off
for the table), and after ANALYZE. Also the SQLite plan of the same query.

Usage: PYTHONPATH=src .venv/bin/python bench/ingest_plans.py
"""

from __future__ import annotations

import os
import tempfile
import uuid

import psycopg
from sqlalchemy import text
from sqlalchemy.engine import make_url

from sentineliq.storage import Database, upgrade_to_head

PG_URL = os.environ.get(
    "SENTINELIQ_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
SQL = (
    "SELECT alerts.id FROM alerts WHERE alerts.workspace_id = {a} "
    "AND alerts.fingerprint IN ({b}) ORDER BY alerts.fingerprint FOR UPDATE"
)
LOAD = """INSERT INTO alerts (id, workspace_id, fingerprint, module, title, severity, status,
  source, detected_at, description, affected_assets, tags, payload, created_at)
  SELECT 'a' || g, 'w1', 'fp-' || g, 'aegis', 't', 'high', 'new', 's', now(), '', '[]', '[]',
  '{}', now() FROM generate_series(1, 20000) g"""


def plans(connection: psycopg.Connection[tuple[str]], title: str) -> None:
    print(f"== {title}")
    connection.execute("SET plan_cache_mode = force_generic_plan")
    connection.execute("DEALLOCATE ALL")
    connection.execute("PREPARE dedup(text, text) AS " + SQL.format(a="$1", b="$2"))
    rows = connection.execute("EXPLAIN EXECUTE dedup('w1', 'fp-1')").fetchall()
    print("  generic: " + " | ".join(r[0].strip() for r in rows))
    connection.execute("SET plan_cache_mode = force_custom_plan")
    rows = connection.execute("EXPLAIN EXECUTE dedup('w1', 'fp-1')").fetchall()
    print("  custom:  " + " | ".join(r[0].strip() for r in rows))


def main() -> None:
    admin = make_url(PG_URL).set(drivername="postgresql").render_as_string(hide_password=False)
    schema = f"bench_plans_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    try:
        url = make_url(PG_URL).update_query_dict({"options": f"-csearch_path={schema}"})
        upgrade_to_head(url)
        with psycopg.connect(admin, autocommit=True, options=f"-csearch_path={schema}") as c:
            c.execute("ALTER TABLE alerts SET (autovacuum_enabled = false)")
            plans(c, "PostgreSQL, fresh schema")
            c.execute("INSERT INTO workspaces (id, name, created_at) VALUES ('w1', 'w1', now())")
            c.execute(LOAD)
            plans(c, "PostgreSQL, 20,000 alerts, statistics of the empty table")
            c.execute("ANALYZE alerts")
            plans(c, "PostgreSQL, 20,000 alerts after ANALYZE")
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA "{schema}" CASCADE')
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/plans.db"
        upgrade_to_head(url)
        with Database(url) as db, db.read() as session:
            rows = session.execute(
                text(
                    "EXPLAIN QUERY PLAN "
                    + SQL.format(a="'w1'", b="'fp-1'").removesuffix(" FOR UPDATE")
                )
            ).all()
            print("== SQLite: " + " | ".join(str(r[-1]) for r in rows))


if __name__ == "__main__":
    main()
