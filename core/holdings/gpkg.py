"""A GeoPackage written with ``sqlite3``: tables, geometry blobs, the R-tree index.

Why not GDAL: every change of a version must land in one SQLite transaction
that we open and commit ourselves, and a blob writer is a few lines. The
file is a standard GeoPackage 1.2 (application id ``GPKG``), readable by GDAL,
QGIS and anything else; its spatial indexes follow the GeoPackage R-tree
extension, whose triggers call ``ST_MinX`` & co., registered here for our own
connection (GDAL registers its own when it opens the file).

Geometries are 2D, EPSG:27700, given as ("Point", (x, y)),
("LineString", [(x, y), ...]) or ("Polygon", [[(x, y), ...], ...]).
"""

from __future__ import annotations

import sqlite3
from itertools import chain, islice
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from .gpkg_blobs import (  # noqa: F401 - the blob writers, used as gpkg.<name> by the appliers
    SRS_ID,
    Geometry,
    _envelope_part,
    _is_empty,
    blob_envelope,
    decode_blob,
    geometry_blob,
    point_blob,
    point_blobs,
    wkb_blob,
)
from .gpkg_rtree import pack_rtree
from .store import Column, quote  # noqa: F401 - gpkg.Column, gpkg.quote for the callers

GPKG_APPLICATION_ID = 0x47504B47  # "GPKG"
GPKG_USER_VERSION = 10200
BNG_WKT = (
    'PROJCS["OSGB 1936 / British National Grid",GEOGCS["OSGB 1936",DATUM["OSGB_1936",'
    'SPHEROID["Airy 1830",6377563.396,299.3249646,AUTHORITY["EPSG","7001"]],'
    'TOWGS84[446.448,-125.157,542.06,0.15,0.247,0.842,-20.489],AUTHORITY["EPSG","6277"]],'
    'PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,'
    'AUTHORITY["EPSG","9122"]],AUTHORITY["EPSG","4277"]],PROJECTION["Transverse_Mercator"],'
    'PARAMETER["latitude_of_origin",49],PARAMETER["central_meridian",-2],'
    'PARAMETER["scale_factor",0.9996012717],PARAMETER["false_easting",400000],'
    'PARAMETER["false_northing",-100000],UNIT["metre",1,AUTHORITY["EPSG","9001"]],'
    'AXIS["Easting",EAST],AXIS["Northing",NORTH],AUTHORITY["EPSG","27700"]]'
)
WGS84_WKT = (
    'GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563]],'
    'PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433],AUTHORITY["EPSG","4326"]]'
)


# --- geometry blobs -------------------------------------------------------------------


def register_functions(conn: sqlite3.Connection) -> None:
    """The GeoPackage functions its R-tree triggers use, for a plain sqlite3 connection."""
    for name, index in (("ST_MinX", 0), ("ST_MaxX", 1), ("ST_MinY", 2), ("ST_MaxY", 3)):
        conn.create_function(name, 1, _envelope_part(index), deterministic=True)
    conn.create_function("ST_IsEmpty", 1, _is_empty, deterministic=True)


# --- tables -----------------------------------------------------------------------------


def connect(path: Path) -> sqlite3.Connection:
    """A connection in autocommit mode (we BEGIN and COMMIT ourselves), functions registered."""
    conn = sqlite3.connect(str(path), isolation_level=None, timeout=10.0)
    register_functions(conn)
    conn.execute("PRAGMA foreign_keys = OFF")
    conn.execute("PRAGMA cache_size = -65536")  # 64 MB: the R-tree and key indexes stay in memory
    return conn


def is_geopackage(conn: sqlite3.Connection) -> bool:
    return table_exists(conn, "gpkg_contents")


def table_exists(conn: sqlite3.Connection, name: str) -> bool:
    row = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type IN ('table', 'view') AND name = ?", (name,)
    ).fetchone()
    return row is not None


def init_geopackage(conn: sqlite3.Connection) -> None:
    """The GeoPackage's own tables (inside the caller's transaction)."""
    conn.execute(f"PRAGMA application_id = {GPKG_APPLICATION_ID}")
    conn.execute(f"PRAGMA user_version = {GPKG_USER_VERSION}")
    conn.execute(
        "CREATE TABLE IF NOT EXISTS gpkg_spatial_ref_sys (srs_name TEXT NOT NULL, "
        "srs_id INTEGER PRIMARY KEY, organization TEXT NOT NULL, "
        "organization_coordsys_id INTEGER NOT NULL, definition TEXT NOT NULL, description TEXT)"
    )
    conn.executemany(
        "INSERT OR IGNORE INTO gpkg_spatial_ref_sys VALUES (?, ?, ?, ?, ?, ?)",
        [
            ("Undefined cartesian SRS", -1, "NONE", -1, "undefined", "undefined cartesian"),
            ("Undefined geographic SRS", 0, "NONE", 0, "undefined", "undefined geographic"),
            ("WGS 84 geodetic", 4326, "EPSG", 4326, WGS84_WKT, "longitude/latitude WGS 84"),
            ("OSGB36 / British National Grid", SRS_ID, "EPSG", SRS_ID, BNG_WKT, None),
        ],
    )
    conn.execute(
        "CREATE TABLE IF NOT EXISTS gpkg_contents (table_name TEXT NOT NULL PRIMARY KEY, "
        "data_type TEXT NOT NULL, identifier TEXT UNIQUE, description TEXT DEFAULT '', "
        "last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')), "
        "min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER, "
        "CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id))"
    )
    conn.execute(
        "CREATE TABLE IF NOT EXISTS gpkg_geometry_columns (table_name TEXT NOT NULL, "
        "column_name TEXT NOT NULL, geometry_type_name TEXT NOT NULL, srs_id INTEGER NOT NULL, "
        "z TINYINT NOT NULL, m TINYINT NOT NULL, "
        "CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name), "
        "CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name), "
        "CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id))"
    )
    conn.execute(
        "CREATE TABLE IF NOT EXISTS gpkg_extensions (table_name TEXT, column_name TEXT, "
        "extension_name TEXT NOT NULL, definition TEXT NOT NULL, scope TEXT NOT NULL, "
        "CONSTRAINT ge_tce UNIQUE (table_name, column_name, extension_name))"
    )


def create_table(
    conn: sqlite3.Connection,
    name: str,
    columns: Sequence[Column],
    *,
    geometry: Optional[str] = None,
    description: str = "",
    spatial_index: bool = True,
) -> None:
    """A feature table (``geometry``: POINT, LINESTRING, POLYGON) or an attribute table,
    registered in ``gpkg_contents``; feature tables get an R-tree index and its triggers
    (``spatial_index=False``: later, with ``build_spatial_index``, after a bulk load)."""
    parts = ["fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL"]
    if geometry:
        parts.append(f"geom {geometry}")
    parts += [f"{quote(c.name)} {c.type}" for c in columns]
    conn.execute(f"CREATE TABLE {quote(name)} ({', '.join(parts)})")
    conn.execute(
        "INSERT INTO gpkg_contents (table_name, data_type, identifier, description, srs_id) "
        "VALUES (?, ?, ?, ?, ?)",
        (name, "features" if geometry else "attributes", name, description, SRS_ID),
    )
    if geometry:
        conn.execute(
            "INSERT INTO gpkg_geometry_columns VALUES (?, 'geom', ?, ?, 0, 0)",
            (name, geometry, SRS_ID),
        )
        if spatial_index:
            build_spatial_index(conn, name)


def add_column(conn: sqlite3.Connection, table: str, column: Column) -> None:
    conn.execute(f"ALTER TABLE {quote(table)} ADD COLUMN {quote(column.name)} {column.type}")


def table_columns(conn: sqlite3.Connection, table: str) -> Tuple[str, ...]:
    return tuple(row[1] for row in conn.execute(f"PRAGMA table_info({quote(table)})"))


def build_spatial_index(
    conn: sqlite3.Connection,
    table: str,
    points: Optional[Tuple[str, str]] = None,
    boxes: Optional[Iterable[Tuple]] = None,
) -> None:
    """The table's R-tree, filled from the rows it has, and the triggers that keep it.

    ``points``: the x and y columns a point geometry was made from (the boxes come
    from them in SQL, without decoding a blob per row); ``boxes``: (fid, minx, maxx,
    miny, maxy) the loader already knows."""
    rtree = f"rtree_{table}_geom"
    t, r = quote(table), quote(rtree)
    conn.execute(f"CREATE VIRTUAL TABLE {r} USING rtree(id, minx, maxx, miny, maxy)")
    if boxes is not None:
        conn.executemany(f"INSERT INTO {r} VALUES (?, ?, ?, ?, ?)", boxes)
    elif points:
        x, y = (f"CAST({quote(c)} AS REAL)" for c in points)
        rows = conn.execute(f"SELECT max(fid) FROM {t}").fetchone()[0] or 0
        if rows <= FILL_AT_ONCE_MAX:
            found = conn.execute(f"SELECT fid, {x}, {y} FROM {t} WHERE geom NOT NULL").fetchall()
            if found:
                ids, xs, ys = zip(*found)
                _fill_rtree(conn, rtree, ids, xs, xs, ys, ys)
        else:  # more points than memory should hold at once: SQLite's inserts, streamed
            conn.execute(
                f"INSERT INTO {r} SELECT fid, {x}, {x}, {y}, {y} FROM {t} WHERE geom NOT NULL"
            )
    else:
        conn.execute(
            f"INSERT INTO {r} SELECT fid, ST_MinX(geom), ST_MaxX(geom), ST_MinY(geom), "
            f"ST_MaxY(geom) FROM {t} WHERE geom NOT NULL AND NOT ST_IsEmpty(geom)"
        )
    bbox = "ST_MinX(NEW.geom), ST_MaxX(NEW.geom), ST_MinY(NEW.geom), ST_MaxY(NEW.geom)"
    has = "NEW.geom NOT NULL AND NOT ST_IsEmpty(NEW.geom)"
    hasnt = "NEW.geom ISNULL OR ST_IsEmpty(NEW.geom)"
    triggers = {
        "insert": f"AFTER INSERT ON {t} WHEN ({has}) BEGIN "
        f"INSERT OR REPLACE INTO {r} VALUES (NEW.fid, {bbox}); END",
        "update1": f"AFTER UPDATE OF geom ON {t} WHEN OLD.fid = NEW.fid AND ({has}) BEGIN "
        f"INSERT OR REPLACE INTO {r} VALUES (NEW.fid, {bbox}); END",
        "update2": f"AFTER UPDATE OF geom ON {t} WHEN OLD.fid = NEW.fid AND ({hasnt}) BEGIN "
        f"DELETE FROM {r} WHERE id = OLD.fid; END",
        "update3": f"AFTER UPDATE ON {t} WHEN OLD.fid != NEW.fid AND ({has}) BEGIN "
        f"DELETE FROM {r} WHERE id = OLD.fid; "
        f"INSERT OR REPLACE INTO {r} VALUES (NEW.fid, {bbox}); END",
        "update4": f"AFTER UPDATE ON {t} WHEN OLD.fid != NEW.fid AND ({hasnt}) BEGIN "
        f"DELETE FROM {r} WHERE id IN (OLD.fid, NEW.fid); END",
        "delete": f"AFTER DELETE ON {t} WHEN OLD.geom NOT NULL BEGIN "
        f"DELETE FROM {r} WHERE id = OLD.fid; END",
    }
    for suffix, body in triggers.items():
        conn.execute(f"CREATE TRIGGER {quote(f'{rtree}_{suffix}')} {body}")
    conn.execute(
        "INSERT INTO gpkg_extensions VALUES (?, 'geom', 'gpkg_rtree_index', "
        "'http://www.geopackage.org/spec120/#extension_rtree', 'write-only')",
        (table,),
    )


# Points an R-tree is filled with at once (~500 bytes of memory each while it is packed,
# so at most ~100 MB: a build's memory stays flat); a larger table's R-tree is filled by
# SQLite's own inserts.
FILL_AT_ONCE_MAX = 200_000


def fill_rtree(conn: sqlite3.Connection, rtree: str, boxes: List[Tuple]) -> None:
    """Fill a new, empty R-tree with ``boxes`` (id, minx, maxx, miny, maxy) at once:
    packed (``gpkg_rtree.pack_rtree``) and written into SQLite's own R-tree tables,
    which is what its ``rtreecheck()`` checks. The tree answers exactly as one filled
    by INSERTs, and later INSERTs, UPDATEs and DELETEs (the GeoPackage triggers) keep it."""
    if boxes:
        _fill_rtree(conn, rtree, *zip(*boxes))


def _fill_rtree(conn: sqlite3.Connection, rtree: str, *columns: Sequence) -> None:
    """``fill_rtree`` from the boxes' columns: ids, minx, maxx, miny, maxy."""
    node_size = conn.execute(
        f"SELECT length(data) FROM {quote(rtree + '_node')} WHERE nodeno = 1"
    ).fetchone()[0]
    nodes, leaf_of, parents = pack_rtree(*columns, node_size=node_size)
    conn.executemany(f"INSERT OR REPLACE INTO {quote(rtree + '_node')} VALUES (?, ?)", nodes)
    _insert_pairs(conn, rtree + "_rowid", leaf_of)
    _insert_pairs(conn, rtree + "_parent", parents)


def _insert_pairs(conn: sqlite3.Connection, table: str, pairs: List[Tuple[int, int]]) -> None:
    """Rows of two integers, 400 a statement (SQLite's cost per statement paid less often)."""
    per = 400
    flat = chain.from_iterable(pairs)
    full, rest = divmod(len(pairs), per)
    many = f"INSERT INTO {quote(table)} VALUES " + ", ".join(["(?, ?)"] * per)
    conn.executemany(many, (list(islice(flat, 2 * per)) for _ in range(full)))
    conn.executemany(
        f"INSERT INTO {quote(table)} VALUES (?, ?)", (list(islice(flat, 2)) for _ in range(rest))
    )


def update_extents(conn: sqlite3.Connection, tables: Iterable[str]) -> None:
    """gpkg_contents' extent and last_change from each feature table's R-tree (a full
    build; after a change-only update ``extend_extents`` costs less)."""
    for table in tables:
        rtree = quote(f"rtree_{table}_geom")
        if not table_exists(conn, f"rtree_{table}_geom"):
            conn.execute(
                "UPDATE gpkg_contents SET last_change = strftime('%Y-%m-%dT%H:%M:%fZ','now') "
                "WHERE table_name = ?",
                (table,),
            )
            continue
        row = conn.execute(f"SELECT min(minx), min(miny), max(maxx), max(maxy) FROM {rtree}")
        conn.execute(
            "UPDATE gpkg_contents SET min_x = ?, min_y = ?, max_x = ?, max_y = ?, "
            "last_change = strftime('%Y-%m-%dT%H:%M:%fZ','now') WHERE table_name = ?",
            (*row.fetchone(), table),
        )


def extend_extents(conn: sqlite3.Connection, changed: Dict[str, Tuple[int, Iterable[int]]]) -> None:
    """After a change-only update: grow each table's extent by the rows it wrote.

    ``changed[table] = (largest fid before, fids updated in place)``: new rows have
    larger fids. Costs what the update wrote, not what the table holds (a full scan
    of a national R-tree per update would not); a deleted row leaves the extent as
    it was, which still contains everything.
    """
    for table, (since, updated) in changed.items():
        rtree = f"rtree_{table}_geom"
        if not table_exists(conn, rtree):
            conn.execute(
                "UPDATE gpkg_contents SET last_change = strftime('%Y-%m-%dT%H:%M:%fZ','now') "
                "WHERE table_name = ?",
                (table,),
            )
            continue
        boxes = [
            conn.execute(
                # id = per new row: an R-tree has no range search on id (id > ? scans it).
                f"SELECT min(minx), min(miny), max(maxx), max(maxy) FROM {quote(rtree)} "
                f"WHERE id IN (SELECT fid FROM {quote(table)} WHERE fid > ?)",
                (since,),
            ).fetchone()
        ]
        fids = sorted(set(updated))
        for start in range(0, len(fids), 500):
            part = fids[start : start + 500]
            boxes.append(
                conn.execute(
                    f"SELECT min(minx), min(miny), max(maxx), max(maxy) FROM {quote(rtree)} "
                    f"WHERE id IN ({', '.join('?' for _ in part)})",
                    part,
                ).fetchone()
            )
        boxes.append(
            conn.execute(
                "SELECT min_x, min_y, max_x, max_y FROM gpkg_contents WHERE table_name = ?",
                (table,),
            ).fetchone()
        )
        boxes = [b for b in boxes if b and b[0] is not None]
        extent = (
            (
                min(b[0] for b in boxes),
                min(b[1] for b in boxes),
                max(b[2] for b in boxes),
                max(b[3] for b in boxes),
            )
            if boxes
            else (None, None, None, None)
        )
        conn.execute(
            "UPDATE gpkg_contents SET min_x = ?, min_y = ?, max_x = ?, max_y = ?, "
            "last_change = strftime('%Y-%m-%dT%H:%M:%fZ','now') WHERE table_name = ?",
            (*extent, table),
        )
