"""The fleet store's tables (SQLAlchemy Core, one definition for SQLite and PostgreSQL) and their migrations.

Why a migrations table and not alembic: the schema is a handful of tables owned by this tool alone,
and a store must upgrade itself in place when a newer snp-triage opens it, with no separate command
and no migration scripts shipped beside the package.  ``schema_migrations`` records each step
applied; :func:`migrate` applies the missing ones in order, each in its own transaction, and
refuses a store written by a newer version.
"""
from __future__ import annotations

import time
from collections.abc import Callable

from sqlalchemy import (Boolean, Column, Float, Index, Integer, MetaData, String, Table, Text, inspect, select)
from sqlalchemy.engine import Connection, Engine

from ..errors import InputError

__all__ = ["METADATA", "captures", "scans", "archives", "bucket_map", "migrations", "SCHEMA_STEPS",
           "STORE_SCHEMA", "migrate"]

METADATA = MetaData()

migrations = Table(
    "schema_migrations", METADATA,
    Column("version", Integer, primary_key=True),
    Column("description", Text, nullable=False),
    Column("applied_at", Float, nullable=False),
)

scans = Table(
    "scans", METADATA,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("started_at", Float, nullable=False),
    Column("finished_at", Float),
    Column("status", String(16), nullable=False),  # running | done | interrupted
    Column("pack_hash", String(64), nullable=False),
    Column("fp_version", Integer, nullable=False),
    Column("paths", Text, nullable=False),
    Column("found", Integer, default=0),
    Column("diagnosed", Integer, default=0),
    Column("failed", Integer, default=0),
    Column("skipped", Integer, default=0),
)

captures = Table(
    "captures", METADATA,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("content_hash", String(64), nullable=False, unique=True),
    Column("origin", Text, nullable=False),
    Column("host", Text),
    Column("host_from", String(32)),
    Column("layout", String(32)),
    Column("seen_at", Float),
    Column("scanned_at", Float, nullable=False),
    Column("status", String(8), nullable=False),  # pending | done | failed
    Column("reason", Text),
    Column("transient", Boolean, nullable=False, default=False),  # a failure worth retrying (a dead worker)
    Column("scan_id", Integer),
    Column("pack_hash", String(64), nullable=False),
    Column("fp_version", Integer, nullable=False),
    Column("bucket", String(32)),
    Column("bucket_title", Text),
    Column("bucket_basis", String(16)),
    Column("diagnosis", Text),
    Column("rule_id", Text),
    Column("boot_role", String(16)),
    Column("confidence", String(16)),
    Column("severity", String(16)),
    Column("release", Text),
    Column("fix_status", String(16)),
    Column("finding_count", Integer),
    Column("report_count", Integer),
    Column("crash_title", Text),
    Column("detail", Text),  # compact JSON: fingerprint, root cause with evidence lines, findings, quality
)
Index("captures_bucket", captures.c.bucket)
Index("captures_seen", captures.c.seen_at)

archives = Table(
    "archives", METADATA,
    Column("content_hash", String(64), primary_key=True),
    Column("path", Text, nullable=False),
    Column("pack_hash", String(64), nullable=False),
    Column("fp_version", Integer, nullable=False),
    Column("members", Text, nullable=False),  # JSON list of the member captures' content hashes
    Column("scanned_at", Float, nullable=False),
)

bucket_map = Table(
    "bucket_map", METADATA,
    Column("old_version", Integer, primary_key=True),
    Column("old_bucket", String(32), primary_key=True),
    Column("new_version", Integer, primary_key=True),
    Column("new_bucket", String(32), primary_key=True),
    Column("captures", Integer, nullable=False, default=0),
)


def _step1(conn: Connection) -> None:
    METADATA.create_all(conn, tables=[scans, captures, archives, bucket_map])


#: (version, description, apply): appended to, never edited; STORE_SCHEMA is the last version
SCHEMA_STEPS: tuple[tuple[int, str, Callable[[Connection], None]], ...] = (
    (1, "captures, scans, archives, bucket_map", _step1),
)
STORE_SCHEMA = SCHEMA_STEPS[-1][0]


def migrate(engine: Engine, where: str) -> int:
    """Bring a store to STORE_SCHEMA; returns the version it had (0 for a new store)."""
    with engine.begin() as conn:
        migrations.create(conn, checkfirst=True)
        have = conn.execute(select(migrations.c.version)).scalars().all()
    current = max(have, default=0)
    if current == 0 and _has_foreign_tables(engine):
        raise InputError(f"{where}: holds tables but no snp-triage schema_migrations record: not a fleet store")
    if current > STORE_SCHEMA:
        raise InputError(f"{where}: store schema {current} is newer than this snp-triage knows ({STORE_SCHEMA}); "
                         "upgrade snp-triage")
    for version, description, apply in SCHEMA_STEPS:
        if version <= current:
            continue
        with engine.begin() as conn:
            apply(conn)
            conn.execute(migrations.insert().values(version=version, description=description,
                                                    applied_at=time.time()))
    return current


def _has_foreign_tables(engine: Engine) -> bool:
    names = set(inspect(engine).get_table_names()) - {"schema_migrations"}
    return bool(names - {t.name for t in METADATA.sorted_tables})

