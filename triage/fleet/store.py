"""The fleet store: every capture a scan found, its status and its fingerprint, in SQLite or PostgreSQL.

One SQL layer (SQLAlchemy Core) for both: SQLite by default (one file, WAL journal so a report can
read while a scan writes, one writer: the scan's coordinator), PostgreSQL for a shared server
(``postgresql://`` URLs, through psycopg 3).  Writes are batched, each batch one transaction, so a
killed scan leaves whole batches and never half a capture; the next scan finds what is stored and
goes on with the rest.
"""
from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable, Sequence
from typing import Any

from ..errors import InputError
from .schema import archives, bucket_map, captures, migrate, scans
from .units import Outcome, Unit

__all__ = ["Store", "open_store", "DEFAULT_STORE", "store_url"]

#: the store a scan or report uses without --db: a file in the current directory
DEFAULT_STORE = "snp-triage-fleet.db"
_TRANSIENT_PREFIX = "worker "


def store_url(where: str) -> str:
    """A --db value as a SQLAlchemy URL: postgresql:// URLs go through psycopg 3, anything else is a file."""
    if where.startswith(("postgresql://", "postgres://", "postgresql+psycopg://")):
        rest = where.split("://", 1)[1]
        return "postgresql+psycopg://" + rest
    if "://" in where:
        raise InputError(f"--db {where}: not a file path or a postgresql:// URL")
    return "sqlite:///" + os.path.abspath(where)


def open_store(where: str | None = None, create: bool = True) -> "Store":
    """Open (and create or migrate) the store at a path or URL; one line naming it when it cannot be."""
    where = where or DEFAULT_STORE
    try:
        from sqlalchemy import create_engine, event
        from sqlalchemy.exc import SQLAlchemyError
    except ImportError:
        raise InputError("fleet commands need SQLAlchemy: pip install 'snp-triage[fleet]'") from None
    url = store_url(where)
    if url.startswith("sqlite"):
        path = url[len("sqlite:///"):]
        if not create and not os.path.exists(path):
            raise InputError(f"--db {where}: no such store (run 'snp-triage fleet scan' first)")
        parent = os.path.dirname(path) or "."
        if not os.path.isdir(parent):
            raise InputError(f"--db {where}: directory {parent} does not exist")
    try:
        engine = create_engine(url, future=True, pool_pre_ping=not url.startswith("sqlite"))
        if url.startswith("sqlite"):
            @event.listens_for(engine, "connect")
            def _pragmas(dbapi_conn, _record):  # noqa: ANN001 - DB-API connection
                cursor = dbapi_conn.cursor()
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute("PRAGMA synchronous=NORMAL")
                cursor.execute("PRAGMA busy_timeout=30000")
                cursor.close()
        migrate(engine, f"--db {where}")
    except ImportError as exc:
        raise InputError(f"--db {where}: {exc} (pip install 'snp-triage[postgres]' for PostgreSQL)") from None
    except SQLAlchemyError as exc:
        raise InputError(f"--db {where}: cannot open the store: {_first_line(exc)}") from None
    return Store(engine, where)


def _first_line(exc: Exception) -> str:
    text = str(getattr(exc, "orig", None) or exc)
    return " ".join(text.split("\n")[0].split())


class Store:
    """Reads and writes of the fleet store; the scan coordinator is its only writer."""

    def __init__(self, engine, where: str) -> None:
        self.engine = engine
        self.where = where
        self.dialect = engine.dialect.name

    def close(self) -> None:
        self.engine.dispose()

    # -- scans ------------------------------------------------------------------------------------
    def begin_scan(self, pack_hash: str, fp_version: int, paths: Sequence[str]) -> int:
        with self.engine.begin() as conn:
            result = conn.execute(scans.insert().values(started_at=time.time(), status="running",
                                                        pack_hash=pack_hash, fp_version=fp_version,
                                                        paths=json.dumps(list(paths))))
            return int(result.inserted_primary_key[0])

    def finish_scan(self, scan_id: int, status: str, counts: dict[str, int]) -> None:
        with self.engine.begin() as conn:
            conn.execute(scans.update().where(scans.c.id == scan_id).values(
                finished_at=time.time(), status=status, **{k: counts.get(k, 0) for k in
                                                          ("found", "diagnosed", "failed", "skipped")}))

    # -- what is stored -----------------------------------------------------------------------------
    def current(self, pack_hash: str, fp_version: int) -> set[str]:
        """Content hashes stored as done or failed by this rule pack and fingerprint version (skipped by a scan)."""
        from sqlalchemy import and_, select

        query = select(captures.c.content_hash).where(and_(
            captures.c.status.in_(("done", "failed")), captures.c.pack_hash == pack_hash,
            captures.c.fp_version == fp_version, captures.c.transient.is_(False)))
        with self.engine.connect() as conn:
            return set(conn.execute(query).scalars())

    def archive_current(self, content_hash: str, pack_hash: str, fp_version: int, known: set[str]) -> bool:
        """An archive scanned before with these versions, every member capture of it still stored."""
        from sqlalchemy import select

        with self.engine.connect() as conn:
            row = conn.execute(select(archives).where(archives.c.content_hash == content_hash)).mappings().first()
        if row is None or row["pack_hash"] != pack_hash or row["fp_version"] != fp_version:
            return False
        return all(h in known for h in json.loads(row["members"]))

    def archive_members_known(self, known: set[str]) -> frozenset[str]:
        """Archive members are only hashed by workers: they are handed what is stored to pass it over."""
        return frozenset(known)

    # -- writes -------------------------------------------------------------------------------------
    def mark_pending(self, units: Iterable[Unit], scan_id: int, pack_hash: str, fp_version: int) -> None:
        """Record captures found on disk before they are diagnosed: a killed scan leaves them pending."""
        now = time.time()
        rows = [{"content_hash": u.content_hash, "origin": u.origin, "host": u.host, "host_from": u.host_from,
                 "layout": u.layout, "seen_at": u.seen_at, "scanned_at": now, "status": "pending", "transient": False,
                 "scan_id": scan_id, "pack_hash": pack_hash, "fp_version": fp_version}
                for u in units if u.content_hash]
        if rows:
            with self.engine.begin() as conn:
                conn.execute(self._insert().on_conflict_do_nothing(index_elements=["content_hash"]), rows)

    def write(self, outcomes: Sequence[Outcome], scan_id: int, pack_hash: str) -> None:
        """Store a batch of outcomes in one transaction; a re-bucketed capture adds to bucket_map."""
        from sqlalchemy import select

        rows = {}
        for o in outcomes:
            if o.skipped:
                continue
            record = dict(o.record)
            detail = record.pop("detail", None)
            rows[o.content_hash] = {
                "content_hash": o.content_hash, "origin": o.origin, "host": o.host, "host_from": o.host_from,
                "layout": o.layout, "seen_at": o.seen_at, "scanned_at": time.time(),
                "status": o.status, "reason": o.reason,
                "transient": bool(o.reason and o.reason.startswith(_TRANSIENT_PREFIX)), "scan_id": scan_id,
                "pack_hash": pack_hash, "fp_version": record.pop("fp_version", None) or _fp_version(),
                "detail": json.dumps(detail, separators=(",", ":"), ensure_ascii=False) if detail else None,
                **{c: record.get(c) for c in _RECORD_COLUMNS},
            }
        if not rows:
            return
        with self.engine.begin() as conn:
            old = {r["content_hash"]: r for r in conn.execute(
                select(captures.c.content_hash, captures.c.bucket, captures.c.fp_version, captures.c.status)
                .where(captures.c.content_hash.in_(list(rows)))).mappings()}
            moves: dict[tuple[int, str, int, str], int] = {}
            for key, row in rows.items():
                before = old.get(key)
                if (before is not None and before["status"] == "done" and row["status"] == "done"
                        and before["fp_version"] != row["fp_version"] and before["bucket"]):
                    move = (before["fp_version"], before["bucket"], row["fp_version"], row["bucket"])
                    moves[move] = moves.get(move, 0) + 1
            statement = self._insert()
            columns = [c for c in next(iter(rows.values())) if c != "content_hash"]
            conn.execute(statement.on_conflict_do_update(
                index_elements=["content_hash"], set_={c: statement.excluded[c] for c in columns}), list(rows.values()))
            for (ov, ob, nv, nb), count in moves.items():
                self._add_move(conn, ov, ob, nv, nb, count)

    def write_archive(self, content_hash: str, path: str, pack_hash: str, fp_version: int,
                      members: Sequence[str]) -> None:
        statement = self._insert(archives)
        values = {"content_hash": content_hash, "path": path, "pack_hash": pack_hash, "fp_version": fp_version,
                  "members": json.dumps(sorted(set(members))), "scanned_at": time.time()}
        with self.engine.begin() as conn:
            conn.execute(statement.on_conflict_do_update(
                index_elements=["content_hash"], set_={k: v for k, v in values.items() if k != "content_hash"}),
                [values])

    def _add_move(self, conn, ov: int, ob: str, nv: int, nb: str, count: int) -> None:
        statement = self._insert(bucket_map).values(old_version=ov, old_bucket=ob, new_version=nv, new_bucket=nb,
                                                    captures=count)
        conn.execute(statement.on_conflict_do_update(
            index_elements=["old_version", "old_bucket", "new_version", "new_bucket"],
            set_={"captures": bucket_map.c.captures + count}))

    def _insert(self, table=captures):
        if self.dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        return insert(table)

    # -- reads for reports -------------------------------------------------------------------------------
    def rows(self, statuses: Sequence[str] = ("done",)) -> list[dict[str, Any]]:
        from sqlalchemy import select

        with self.engine.connect() as conn:
            result = conn.execute(select(captures).where(captures.c.status.in_(list(statuses)))
                                  .order_by(captures.c.id))
            return [dict(r) for r in result.mappings()]

    def status_counts(self) -> dict[str, int]:
        from sqlalchemy import func, select

        with self.engine.connect() as conn:
            return {s: n for s, n in conn.execute(select(captures.c.status, func.count()).group_by(captures.c.status))}

    def failures(self) -> list[dict[str, Any]]:
        return self.rows(("failed", "pending"))

    def bucket_moves(self) -> list[dict[str, Any]]:
        from sqlalchemy import select

        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(select(bucket_map)).mappings()]

    def last_scan(self) -> dict[str, Any] | None:
        from sqlalchemy import select

        with self.engine.connect() as conn:
            row = conn.execute(select(scans).order_by(scans.c.id.desc()).limit(1)).mappings().first()
            return dict(row) if row else None


_RECORD_COLUMNS = ("bucket", "bucket_title", "bucket_basis", "diagnosis", "rule_id", "boot_role", "confidence",
                   "severity", "release", "fix_status", "finding_count", "report_count", "crash_title")


def _fp_version() -> int:
    from .fingerprint import FINGERPRINT_VERSION

    return FINGERPRINT_VERSION
