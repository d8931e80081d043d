"""The expected holding after each version of a holding package, for tests.

``holdings_truth(package_id, version_id, data_dir=None) -> HoldingTruth`` reads
``<data_dir>/truth/<package>/<version>.json`` (written with the sample data) or,
when there is none, computes it from the generator's model. The truth is the
model's state, never a parser's output.

MasterMap: ``truth.features[feature_class][toid]`` is
``{"version", "version_date", "attributes", "geometry"}``; attributes use the
holding's column names (``feature_code``, ``theme``, ``descriptive_group``,
``descriptive_term``, ``make``, ``physical_level``, ``physical_presence``,
``change_history``, and per class ``calculated_area_value``, ``text_string``,
``anchor_position``, ``font``, ``height``, ``orientation``,
``reference_to_feature``, ``height_above_datum``). Multi-valued fields are
lists (empty when absent); absent single values are None; geometry is WKT in
EPSG:27700 with the coordinates the file carries.

AddressBase Premium: ``truth.records[table][key]`` is the full row as a dict of
OS's column names (splitter v3.7 headings) to typed values (None when empty),
including CHANGE_TYPE and PRO_ORDER of the record that made it. Tables and keys:
street (USRN, int), street_descriptor ((USRN, LANGUAGE)), blpu (UPRN, int),
xref (XREF_KEY), lpi (LPI_KEY), delivery_point (UDPRN, int), successor
(SUCC_KEY), organisation (ORG_KEY), classification (CLASS_KEY).
``truth.metadata`` is the newest applied supply's type 29 record. For a tile
supply (package 0040163538) every row is an insert (CHANGE_TYPE I) and
``truth.tiles[table][key]`` names the 5 km tile the record came in.

OS NGD (package 0040163546): ``truth.features[feature_type][key]`` is the row as
the newest applied file carries it (typed: ints, floats, booleans; dates as text;
``geometry`` as WKT in EPSG:27700), keyed by ``osid`` (``uprn`` as text for
``add_gb_builtaddress``).

``truth.changes[table]`` counts what the version did to the holding
(``inserted``, ``updated``, ``deleted`` keys, comparing the truth before and
after). ``apply_mastermap`` / ``apply_abp`` apply a model supply by OS's rules;
the tests use them to check that the truth follows from the supplies.

``publish_next_update(server, package_id)`` publishes a holding package's next
prepared COU on a running replica and returns it with its truth.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from .catalogue import HOLDING_NEXT_VERSIONS
from .sample_abp import TABLES, AbpSupply, AbpTileSupply, key_of
from .sample_build import DEFAULT_DATA_DIR
from .sample_holdings import NEXT_FOLDER, TRUTH_FOLDER, holding_package, package_versions
from .sample_mastermap import Feature, Supply

_INT_KEYS = {"street", "blpu", "delivery_point"}


@dataclass(frozen=True)
class HoldingTruth:
    package_id: str
    product_id: str
    version_id: str
    applied: Tuple[str, ...]  # version ids, oldest first
    features: Dict[str, Dict[str, Dict[str, Any]]]  # MasterMap: class -> toid -> feature
    records: Dict[str, Dict[Any, Dict[str, Any]]]  # ABP: table -> key -> row
    metadata: Optional[Dict[str, Any]]
    changes: Dict[str, Dict[str, int]]
    raw: Dict[str, Any]  # the JSON as written
    tiles: Dict[str, Dict[Any, str]]  # ABP tile supplies: table -> key -> the tile it came in

    def changed_since(self, before: HoldingTruth) -> Dict[str, Dict[str, List[Any]]]:
        """Per feature class or table: the keys ``inserted``, ``updated``, ``deleted`` and,
        for MasterMap, ``moved`` (geometry changed) between ``before`` and this truth."""
        mine, theirs = (
            (self.features, before.features)
            if self.features
            else (
                self.records,
                before.records,
            )
        )
        out: Dict[str, Dict[str, List[Any]]] = {}
        for table, rows in mine.items():
            old = theirs.get(table, {})
            entry = {
                "inserted": sorted(k for k in rows if k not in old),
                "updated": sorted(k for k in rows if k in old and old[k] != rows[k]),
                "deleted": sorted(k for k in old if k not in rows),
            }
            if self.features:
                entry["moved"] = sorted(
                    k for k in entry["updated"] if old[k]["geometry"] != rows[k]["geometry"]
                )
            out[table] = entry
        return out

    def count(self) -> int:
        """Features or records held."""
        tables = self.features or self.records
        return sum(len(rows) for rows in tables.values())


def truth_path(data_dir: Path, package_id: str, version_id: str) -> Path:
    return Path(data_dir) / TRUTH_FOLDER / package_id / f"{version_id}.json"


def _native_key(table: str, text: str) -> Any:
    if table == "street_descriptor":
        usrn, language = text.split("|")
        return (int(usrn), language)
    return int(text) if table in _INT_KEYS else text


def from_json(raw: Dict[str, Any]) -> HoldingTruth:
    records = {
        table: {_native_key(table, k): row for k, row in rows.items()}
        for table, rows in (raw.get("abp") or {}).items()
    }
    return HoldingTruth(
        package_id=raw["package_id"],
        product_id=raw["product_id"],
        version_id=raw["version_id"],
        applied=tuple(raw["applied"]),
        features=raw.get("mastermap") or raw.get("ngd") or {},
        records=records,
        metadata=raw.get("metadata"),
        changes=raw.get("changes") or {},
        raw=raw,
        tiles={
            table: {_native_key(table, k): tile for k, tile in keys.items()}
            for table, keys in (raw.get("tiles") or {}).items()
        },
    )


def compute_truth(package_id: str, version_id: str) -> Dict[str, Any]:
    """The truth straight from the model (what the JSON files hold)."""
    for data in package_versions(holding_package(package_id)):
        if data.spec.id == version_id:
            return data.truth
    raise KeyError(f"Package {package_id} has no version {version_id!r}")


def holdings_truth(
    package_id: str, version_id: str, data_dir: Optional[Path] = None
) -> HoldingTruth:
    """The holding expected after applying the package's FULL up to ``version_id``."""
    path = truth_path(Path(data_dir) if data_dir else DEFAULT_DATA_DIR, package_id, version_id)
    try:
        raw = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        raw = json.loads(json.dumps(compute_truth(package_id, version_id)))
    return from_json(raw)


# --- OS's rules, applied to the model's supplies (change-only-updates.md §2-3) ---------------


def apply_mastermap(held: Dict[str, Feature], supply: Supply) -> Dict[str, Feature]:
    """A feature replaces the held one only at a higher version; departures delete
    (a TOID never held is no error); a FULL supply starts from nothing."""
    result: Dict[str, Feature] = {} if supply.full else dict(held)
    for chunk in supply.chunks:
        for feature in chunk.features:
            mine = result.get(feature.toid)
            if mine is None or mine.version < feature.version:
                result[feature.toid] = feature
    for chunk in supply.chunks:
        for gone in chunk.departures:
            result.pop(gone.toid, None)
    return result


def apply_abp(held: Dict[int, Dict[Any, tuple]], supply: AbpSupply) -> Dict[int, Dict[Any, tuple]]:
    """Volumes in order; inside each, records in PRO_ORDER; I and U upsert, D deletes."""
    result = {t: ({} if supply.full else dict(held.get(t, {}))) for t in TABLES}
    for volume in supply.volumes:
        for change in sorted(volume, key=lambda c: c.pro_order):
            key = key_of(change.record_type, change.row)
            if change.change_type == "D":
                result[change.record_type].pop(key, None)
            else:
                result[change.record_type][key] = change.row
    return result


def apply_abp_tiles(
    held: Dict[Tuple[int, Any], Tuple[str, tuple]], supply: AbpTileSupply
) -> Dict[Tuple[int, Any], Tuple[str, tuple]]:
    """A tile supply: each supplied tile replaces everything held for that tile.
    ``held`` maps (record type, key) to (tile, row)."""
    result = {} if supply.full else dict(held)
    for tile, changes in supply.tiles.items():
        result = {k: v for k, v in result.items() if v[0] != tile}
        for change in sorted(changes, key=lambda c: c.pro_order):
            result[(change.record_type, key_of(change.record_type, change.row))] = (
                tile,
                change.row,
            )
    return result


# --- publishing at run time -----------------------------------------------------------------


@dataclass(frozen=True)
class PublishedUpdate:
    version: Any  # inventory.PackageVersion
    truth: Any  # holdings_truth.HoldingTruth


def publish_next_update(server: Any, package_id: str) -> PublishedUpdate:
    """Publish the next unlisted COU of a holding package on a running ``ReplicaServer``.

    The files were generated with the sample data; the truth after it is returned.
    Raises ``LookupError`` when every prepared update is already published.
    """
    package = holding_package(package_id)
    have = {v.id for v in server.inventory.package(package_id).versions}
    pending = [v for v in HOLDING_NEXT_VERSIONS.get(package_id, ()) if v.id not in have]
    if not pending:
        raise LookupError(f"Every prepared update of {package_id} is published already")
    version = pending[0]
    folder = Path(server.data_dir) / "files" / NEXT_FOLDER / package_id / version.id
    files = [(p.name, p) for p in sorted(folder.iterdir()) if p.is_file()]
    published = server.publish_package_version(
        package_id,
        reason=version.reason,
        supply_type=version.supply_type,
        files=files,
        product_version=version.product_version,
    )
    if published.id != version.id:
        raise LookupError(
            f"The replica gave the update id {published.id}, the truth is for {version.id}: "
            f"publish holding updates before any other version of {package.name}"
        )
    return PublishedUpdate(published, holdings_truth(package_id, version.id, server.data_dir))
