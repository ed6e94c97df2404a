"""The manifest database (SQLite, stdlib; chosen by measurement, see bench.py `db`): one row
per finished subject (covariates, seed, measured volumes, timings) and one per file (path,
size, sha256). A subject's files and its row are recorded in one transaction after the files
are on disk: a subject is done exactly when its row exists.

Queries are filters `column op value` joined by AND (`sex = female`, `age > 70`,
`lesion_ml > 10`): columns are checked against the table's own columns and values are bound
parameters, so a filter string never becomes SQL.
"""

from __future__ import annotations

import json
import re
import sqlite3
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCHEMA_VERSION = 1
FIXED_COLUMNS = {
    "idx": "INTEGER PRIMARY KEY",
    "participant_id": "TEXT NOT NULL UNIQUE",
    "seed": "INTEGER NOT NULL",
    "age": "REAL NOT NULL",
    "sex": "TEXT NOT NULL",
    "pathology": "TEXT NOT NULL",
    "conditions": "TEXT NOT NULL",
    "pathology_details": "TEXT NOT NULL",
    "icv_ml": "REAL",
    "lesion_ml": "REAL",
    "bytes": "INTEGER NOT NULL",
    "generate_s": "REAL",
    "compress_s": "REAL",
    "write_s": "REAL",
    "worker": "TEXT",
    "done_at": "REAL NOT NULL",
}
OPS = {"=": "=", "==": "=", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
FILTER = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(==|!=|<=|>=|=|<|>)\s*(.+?)\s*$")


class QueryError(ValueError):
    pass


@dataclass(frozen=True)
class Filter:
    column: str
    op: str
    value: str | float


def parse_filter(text: str) -> Filter:
    m = FILTER.match(text)
    if not m:
        raise QueryError(f"filter {text!r}: expected 'column op value' (op one of {list(OPS)})")
    column, op, value = m.groups()
    value = value.strip().strip("'\"")
    try:
        number = float(value)
    except ValueError:
        return Filter(column, OPS[op], value)
    if number != number or number in (float("inf"), float("-inf")):
        raise QueryError(f"filter {text!r}: {value} is not a finite number")
    return Filter(column, OPS[op], number)


class Manifest:
    def __init__(self, path: Path, volume_columns: Iterable[str] = ()) -> None:
        self.path = path
        self.db = sqlite3.connect(str(path), isolation_level=None, timeout=30)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")  # a recorded subject survives power loss
        columns = {**FIXED_COLUMNS, **{c: "REAL" for c in volume_columns}}
        cols = ", ".join(f'"{k}" {v}' for k, v in columns.items())
        with self.tx() as db:
            db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
            db.execute(f"CREATE TABLE IF NOT EXISTS subjects ({cols})")
            db.execute(
                "CREATE TABLE IF NOT EXISTS files (path TEXT PRIMARY KEY, idx INTEGER NOT NULL "
                "REFERENCES subjects(idx), kind TEXT NOT NULL, contrast TEXT, "
                "bytes INTEGER NOT NULL, sha256 TEXT NOT NULL)"
            )
            db.execute("CREATE INDEX IF NOT EXISTS files_idx ON files (idx)")
            db.execute("CREATE INDEX IF NOT EXISTS subjects_cov ON subjects (sex, age)")
            have = {r[1] for r in db.execute("PRAGMA table_info(subjects)")}
            for c in columns:
                if c not in have:
                    db.execute(f'ALTER TABLE subjects ADD COLUMN "{c}" {columns[c]}')
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def tx(self) -> _Tx:
        return _Tx(self.db)

    def close(self) -> None:
        self.db.close()

    # meta
    def get_meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, **values: Any) -> None:
        with self.tx() as db:
            db.executemany(
                "INSERT INTO meta (key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                [(k, v if isinstance(v, str) else json.dumps(v)) for k, v in values.items()],
            )

    # subjects
    def columns(self) -> list[str]:
        return [str(r[1]) for r in self.db.execute("PRAGMA table_info(subjects)")]

    def done(self) -> set[int]:
        return {int(r[0]) for r in self.db.execute("SELECT idx FROM subjects")}

    def count(self) -> int:
        return int(self.db.execute("SELECT COUNT(*) FROM subjects").fetchone()[0])

    def record(self, rec: dict[str, Any]) -> bool:
        """One subject and its files, atomically. False when it was already recorded."""
        have = set(self.columns())
        row = {k: v for k, v in rec["row"].items() if k in have}
        row["done_at"] = time.time()
        names = ", ".join(f'"{k}"' for k in row)
        marks = ", ".join("?" for _ in row)
        with self.tx() as db:
            if db.execute("SELECT 1 FROM subjects WHERE idx = ?", (row["idx"],)).fetchone():
                return False
            db.execute(f"INSERT INTO subjects ({names}) VALUES ({marks})", list(row.values()))
            db.executemany(
                "INSERT INTO files (path, idx, kind, contrast, bytes, sha256) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (f["path"], row["idx"], f["kind"], f.get("contrast"), f["bytes"], f["sha256"])
                    for f in rec["files"]
                ],
            )
        return True

    def files(self) -> list[dict[str, Any]]:
        rows = self.db.execute(
            "SELECT path, idx, kind, contrast, bytes, sha256 FROM files ORDER BY path"
        ).fetchall()
        keys = ("path", "idx", "kind", "contrast", "bytes", "sha256")
        return [dict(zip(keys, r, strict=True)) for r in rows]

    def subjects(
        self, filters: Iterable[Filter] = (), limit: int | None = None, offset: int = 0
    ) -> list[dict[str, Any]]:
        where, args = self._where(filters)
        sql = f"SELECT * FROM subjects{where} ORDER BY idx"
        if limit is not None:
            sql += " LIMIT ? OFFSET ?"
            args += [limit, offset]
        cur = self.db.execute(sql, args)
        names = [d[0] for d in cur.description]
        out = []
        for r in cur.fetchall():
            row = dict(zip(names, r, strict=True))
            for k in ("conditions", "pathology_details"):
                row[k] = json.loads(row[k])
            out.append(row)
        return out

    def count_where(self, filters: Iterable[Filter] = ()) -> int:
        where, args = self._where(filters)
        return int(self.db.execute(f"SELECT COUNT(*) FROM subjects{where}", args).fetchone()[0])

    def _where(self, filters: Iterable[Filter]) -> tuple[str, list[Any]]:
        have = self.columns()
        parts, args = [], []
        for f in filters:
            if f.column not in have:
                raise QueryError(f"unknown column {f.column!r} (columns: {', '.join(have)})")
            parts.append(f'"{f.column}" {f.op} ?')
            args.append(f.value)
        return (" WHERE " + " AND ".join(parts) if parts else ""), args


class _Tx:
    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> sqlite3.Connection:
        self.db.execute("BEGIN IMMEDIATE")
        return self.db

    def __exit__(self, exc_type: Any, *_: Any) -> None:
        self.db.execute("ROLLBACK" if exc_type else "COMMIT")
