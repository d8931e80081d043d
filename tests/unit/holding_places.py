"""Where a test's holding lives: a GeoPackage file or a PostGIS database, read alike.

``HoldingPlace`` is what the truth tests are parametrized over (the fixture
``holding_place`` in test_holdings_replica.py): ``into`` for ``--into``,
``args`` for the command line (a PostgreSQL holding needs ``--downloads``),
``rows(table)`` the table's rows as dicts in the GeoPackage's shape (``geom`` a
GeoPackage blob, dates as ISO text, datetimes as ``YYYY-MM-DDTHH:MM:SSZ``) and
``snapshot()`` everything the holding holds (to check "untouched").
"""

from __future__ import annotations

import datetime
import sqlite3
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional

_HEADER_NO_ENVELOPE = b"GP\x00\x01" + struct.pack("<i", 27700)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime.datetime):
        return value.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, memoryview):
        return bytes(value)
    return value


@dataclass
class HoldingPlace:
    kind: str  # "gpkg" | "postgis"
    into: str
    downloads: Optional[Path] = None
    schema: str = ""
    extra: List[str] = field(default_factory=list)

    @property
    def args(self) -> List[str]:
        out = ["--downloads", str(self.downloads)] if self.downloads else []
        return out + (["--schema", self.schema] if self.schema else [])

    @property
    def status_args(self) -> List[str]:
        return [self.into] + (["--schema", self.schema] if self.schema else [])

    def tables(self) -> List[str]:
        if self.kind == "gpkg":
            conn = sqlite3.connect(self.into)
            try:
                rows = conn.execute("SELECT table_name FROM gpkg_contents ORDER BY 1").fetchall()
            finally:
                conn.close()
            return [r[0] for r in rows]
        return [
            r["relname"]
            for r in self.query(
                "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = %s AND c.relkind = 'r' AND c.relname NOT LIKE 'os\\_holding%%' "
                "AND NOT EXISTS (SELECT 1 FROM pg_depend d "
                "WHERE d.objid = c.oid AND d.deptype = 'e') "
                "ORDER BY 1",
                (self.schema or "public",),
            )
        ]

    def rows(self, table: str, order: str = "fid") -> List[Dict[str, Any]]:
        if self.kind == "gpkg":
            conn = sqlite3.connect(self.into)
            conn.row_factory = sqlite3.Row
            try:
                return [dict(r) for r in conn.execute(f"SELECT * FROM {table} ORDER BY {order}")]
            finally:
                conn.close()
        schema = self.schema or "public"
        columns = [
            r["attname"]
            for r in self.query(
                "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0 "
                "AND NOT attisdropped ORDER BY attnum",
                (f'"{schema}"."{table}"',),
            )
        ]
        select = ", ".join(
            "ST_AsBinary(geom) AS geom" if c == "geom" else f'"{c}"' for c in columns
        )
        out = []
        for row in self.query(f'SELECT {select} FROM "{schema}"."{table}" ORDER BY {order}'):
            plain = {k: _plain(v) for k, v in row.items()}
            if plain.get("geom") is not None:
                plain["geom"] = _HEADER_NO_ENVELOPE + plain["geom"]
            out.append(plain)
        return out

    def query(self, sql: str, params: Any = None) -> List[Dict[str, Any]]:
        import psycopg2
        import psycopg2.extras

        conn = psycopg2.connect(self.into, connect_timeout=10)
        try:
            with conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cursor:
                cursor.execute(sql, params)
                return [dict(r) for r in cursor.fetchall()]
        finally:
            conn.close()

    def snapshot(self) -> Any:
        """Everything held: bytes of the file, or every table's rows and the versions."""
        if self.kind == "gpkg":
            return Path(self.into).read_bytes()
        schema = self.schema or "public"
        out = {t: self.rows(t) for t in self.tables()}
        out["os_holding_versions"] = self.query(
            f'SELECT * FROM "{schema}".os_holding_versions ORDER BY sequence'
        )
        return out


def gpkg_place(tmp_path: Path, name: str = "holding.gpkg") -> HoldingPlace:
    return HoldingPlace("gpkg", str(tmp_path / name))


def postgis_place(url: str, tmp_path: Path, schema: str = "") -> HoldingPlace:
    return HoldingPlace("postgis", url, downloads=tmp_path / "downloads", schema=schema)
