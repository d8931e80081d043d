"""The holding packages (issue 13): MasterMap Topography and AddressBase Premium, with truths.

For each package in ``catalogue.HOLDING_PACKAGES`` one model (``sample_mastermap``
or ``sample_abp``) makes the FULL supply, then moves on one update per COU
version. Every version gets its files (as OS names them) and a *truth*: the
holding expected after applying FULL..that version, taken from the model's own
state, written to ``<data_dir>/truth/<package>/<version>.json`` (read it with
``holdings_truth.holdings_truth``).

Layout per version, under ``files/packages/<package>/<version>/``:
- MasterMap: ``<order>-<tile>.gz`` (one gzipped GML chunk per tile the update
  touches; the FULL's last chunk is GML 3.2, all others GML 2.1.2) and
  ``<order>-Order_Details.txt``. The research records no zip around OSMM chunks,
  so, as the existing package does, each chunk is its own download [I].
- AddressBase Premium: ``AddressBasePremium_<FULL|COU>_<date>_<vvv>_csv.zip``
  holding ``AddressBasePremium_<FULL|COU>_<date>_<vvv>.csv`` (one per volume;
  the FULL has two, the last COU two) and ``<order>-Order_Details.txt``.

Further COUs (``catalogue.HOLDING_NEXT_VERSIONS``) are generated under
``files/holdings-next/`` but not listed; ``holdings_truth.publish_next_update(server,
package)`` publishes the next one at run time and returns its truth.

Bench data: ``python -m os_downloads.replica.data.sample_holdings --bench`` writes
≥ 200,000 MasterMap features and ≥ 200,000 ABP records per FULL (and three 1 %
COUs) into ``.build/holdings-bench`` (kept until the generator changes).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple

from .catalogue import (
    HOLDING_NEXT_VERSIONS,
    HOLDING_PACKAGES,
    HOLDING_TILE_SUPPLIES,
    PackageSpec,
    PackageVersionSpec,
)
from .sample_abp import (
    TABLES,
    AbpSpec,
    AbpSupply,
    AbpWorld,
    TileMap,
    as_dict,
    metadata_row,
    tile_bytes,
    tile_supply,
    volume_bytes,
)
from .sample_build import SampleBuild
from .sample_mastermap import (
    FEATURE_CLASSES,
    Feature,
    MastermapSpec,
    MastermapWorld,
    Supply,
    chunk_bytes,
)
from .sample_ngd import NgdSpec, NgdSupply, NgdWorld, ngd_state, supply_files
from .sample_texts import order_details
from .sample_zip import ZipMember, gzip_bytes, zip_bytes

TRUTH_FOLDER = "truth"
NEXT_FOLDER = "holdings-next"
BENCH_DIR = Path(__file__).resolve().parents[2] / ".build" / "holdings-bench"


@dataclass(frozen=True)
class Scale:
    """How big the worlds are and how much each update changes."""

    mastermap: MastermapSpec = MastermapSpec()
    abp: AbpSpec = AbpSpec()
    mastermap_rate: float = 0.04
    abp_rate: float = 0.05
    ngd: NgdSpec = NgdSpec()
    ngd_rate: float = 0.1


SMALL = Scale()


# An ABP update writes ~1.73 records for each 1 % of the BLPUs picked (moves, renames
# with their DPAs changed twice, demolitions with their children, new addresses),
# measured on the bench supply: 3,686 records for 1 % of 212,534.
_ABP_RECORDS_PER_RATE = 1.73


def scale_for(features: int, records: int, rate: float = 0.01) -> Scale:
    """A scale whose FULL supplies hold at least about ``features`` MasterMap features
    and ``records`` ABP records (measured: ~39 features a street of 6 houses, ~6.4
    records an address); each update touches about ``rate`` of them (for ABP: its
    change file holds about ``rate`` of the full supply's records)."""
    chunks = 6
    streets = -(-max(1, features) // 37)
    addresses = -(-max(1, records) // 6)
    return Scale(
        MastermapSpec(chunks_across=chunks, streets_per_chunk=-(-streets // chunks**2)),
        AbpSpec(streets=-(-addresses // 30), addresses_per_street=30, volumes_full=4),
        rate,
        rate / _ABP_RECORDS_PER_RATE,
        NgdSpec(*(-(-features * share // 100) for share in (43, 14, 22, 22))),
        rate,
    )


@dataclass
class VersionData:
    """One version: its spec, the files (name -> bytes) and the truth as JSON-ready data.

    The truth is made when first asked for (from snapshots of the model taken at
    this version), so bench-sized generation without truths stays quick.
    """

    spec: PackageVersionSpec
    files: List[Tuple[str, bytes]]
    make_truth: Callable[[], Dict[str, Any]]
    counts: Dict[str, int] = field(default_factory=dict)
    supply: Any = None  # the model's supply (sample_mastermap.Supply or sample_abp.AbpSupply)
    _truth: Optional[Dict[str, Any]] = field(default=None, repr=False)

    @property
    def truth(self) -> Dict[str, Any]:
        if self._truth is None:
            self._truth = self.make_truth()
        return self._truth


# ≥ 200,000 features and records in the FULL supply; updates touch about 1 %.
BENCH = scale_for(200_000, 200_000)


def is_full(version: PackageVersionSpec) -> bool:
    return version.supply_type.strip().lower() in ("full", "full supply")


def all_versions(package: PackageSpec) -> Tuple[PackageVersionSpec, ...]:
    """The listed versions, then the unlisted ones tests publish at run time."""
    return package.versions + HOLDING_NEXT_VERSIONS.get(package.id, ())


def holding_package(package_id: str) -> PackageSpec:
    for package in HOLDING_PACKAGES:
        if package.id == package_id:
            return package
    raise KeyError(f"No holding package {package_id!r}")


# --- truths -----------------------------------------------------------------------------


def mastermap_state(features: Dict[str, Feature]) -> Dict[str, Dict[str, Any]]:
    """Per feature class: TOID -> {version, version_date, attributes, geometry (WKT)}."""
    out: Dict[str, Dict[str, Any]] = {name: {} for name in FEATURE_CLASSES}
    for toid in sorted(features):
        feature = features[toid]
        out[feature.feature_class][toid] = feature.truth()
    return out


def abp_key_text(key: Any) -> str:
    """A row key as a JSON object key: ``"14000023"``, ``"6815L000000042"``, ``"14000023|CYM"``."""
    return "|".join(str(k) for k in key) if isinstance(key, tuple) else str(key)


def abp_state(current: Dict[int, Dict[Any, Tuple]]) -> Dict[str, Dict[str, Any]]:
    """Per table: key -> the full row (OS's column names, typed values, None if empty)."""
    out: Dict[str, Dict[str, Any]] = {}
    for record_type, (table, _) in TABLES.items():
        rows = current[record_type]
        out[table] = {abp_key_text(k): as_dict(record_type, rows[k]) for k in sorted(rows)}
    return out


def _changes(before: Dict[str, Dict[str, Any]], after: Dict[str, Dict[str, Any]]) -> Dict:
    """What the version did to the holding, per table: inserted, updated, deleted keys."""
    out = {}
    for table, rows in after.items():
        old = before.get(table, {})
        out[table] = {
            "inserted": sum(1 for k in rows if k not in old),
            "updated": sum(1 for k, v in rows.items() if k in old and old[k] != v),
            "deleted": sum(1 for k in old if k not in rows),
        }
    return out


def _truth(
    package: PackageSpec,
    version: PackageVersionSpec,
    applied: List[PackageVersionSpec],
    kind: str,
    state: Dict[str, Dict[str, Any]],
    before: Dict[str, Dict[str, Any]],
    extra: Optional[Dict[str, Any]] = None,
) -> Dict[str, Any]:
    truth = {
        "package_id": package.id,
        "product_id": package.product_id,
        "version_id": version.id,
        "supply_type": version.supply_type,
        "product_version": version.product_version,
        "applied": [v.id for v in applied],
        "changes": _changes(before, state),
        kind: state,
    }
    truth.update(extra or {})
    return truth


def _mastermap_truth(
    package: PackageSpec,
    applied: Tuple[PackageVersionSpec, ...],
    snapshot: Dict[str, Feature],
    before: Dict[str, Feature],
) -> Dict[str, Any]:
    state, old = mastermap_state(snapshot), mastermap_state(before)
    return _truth(package, applied[-1], list(applied), "mastermap", state, old)


def _abp_truth(
    package: PackageSpec,
    applied: Tuple[PackageVersionSpec, ...],
    snapshot: Dict[int, Dict[Any, Tuple]],
    before: Dict[int, Dict[Any, Tuple]],
    date: str,
) -> Dict[str, Any]:
    metadata = {"metadata": as_dict(29, metadata_row(date))}
    state, old = abp_state(snapshot), (abp_state(before) if before else {})
    return _truth(package, applied[-1], list(applied), "abp", state, old, metadata)


# --- the two generators -------------------------------------------------------------------


def mastermap_versions(package: PackageSpec, scale: Scale = SMALL) -> Iterator[VersionData]:
    versions = all_versions(package)
    world = MastermapWorld(scale.mastermap)
    world.build_initial(versions[0].created_on)
    before: Dict[str, Feature] = {}
    for number, version in enumerate(versions):
        if number == 0:
            last_tile = world.tiles[-1][0]
            supply: Supply = world.full_supply({last_tile: "gml32"})
        else:
            supply = world.advance(version.created_on, scale.mastermap_rate)
        files = []
        for index, chunk in enumerate(supply.chunks):
            if not chunk.features and not chunk.departures:
                continue  # an update sends only the chunks it changes
            gml = chunk_bytes(chunk, f"GDS-{version.order}-{index + 1}", f"{supply.date}T09:00:00")
            files.append((f"{version.order}-{chunk.tile}.gz", gzip_bytes(gml)))
        counts = {
            "features": sum(len(c.features) for c in supply.chunks),
            "departures": sum(len(c.departures) for c in supply.chunks),
            "held": len(world.current),
        }
        snapshot = dict(world.current)  # features are immutable: a shallow copy is a snapshot

        applied = tuple(versions[: number + 1])
        truth = partial(_mastermap_truth, package, applied, snapshot, before)
        yield VersionData(version, files, truth, counts, supply)
        before = snapshot


def abp_versions(package: PackageSpec, scale: Scale = SMALL) -> Iterator[VersionData]:
    versions = all_versions(package)
    world = AbpWorld(scale.abp)
    world.build_initial(versions[0].created_on)
    before: Dict[int, Dict[Any, Tuple]] = {}
    for number, version in enumerate(versions):
        if number == 0:
            supply: AbpSupply = world.full_supply()
        else:
            # The third update comes in two volumes, so file (volume) order matters too.
            supply = world.advance(
                version.created_on, scale.abp_rate, volumes=2 if number == 3 else 1
            )
        kind = "FULL" if supply.full else "COU"
        files = []
        for index in range(len(supply.volumes)):
            stem = f"AddressBasePremium_{kind}_{supply.date}_{index + 1:03d}"
            member = ZipMember(f"{stem}.csv", volume_bytes(supply, index))
            files.append((f"{stem}_csv.zip", zip_bytes([member], folder_entries=False)))
        counts = {
            "records": sum(len(v) for v in supply.volumes),
            "held": sum(len(rows) for rows in world.current.values()),
        }
        snapshot = {t: dict(rows) for t, rows in world.current.items()}

        applied = tuple(versions[: number + 1])
        truth = partial(_abp_truth, package, applied, snapshot, before, supply.date)
        yield VersionData(version, files, truth, counts, supply)
        before = snapshot


def _abp_tiles_truth(
    package: PackageSpec, applied: Tuple[PackageVersionSpec, ...], now: TileMap, before: TileMap
) -> Dict[str, Any]:
    def state(tiles: TileMap) -> Dict[str, Dict[str, Any]]:
        current: Dict[int, Dict[Any, Tuple]] = {t: {} for t in TABLES}
        for (record_type, key), (_, row) in tiles.items():
            current[record_type][key] = (record_type, "I", *row[2:])  # every row an insert
        return abp_state(current)

    where: Dict[str, Dict[str, str]] = {table: {} for table, _ in TABLES.values()}
    for (record_type, key), (tile, _) in sorted(now.items(), key=lambda item: str(item[0])):
        where[TABLES[record_type][0]][abp_key_text(key)] = tile
    extra = {
        "metadata": as_dict(29, metadata_row(applied[-1].created_on)),
        "tiles": {table: dict(sorted(keys.items())) for table, keys in where.items()},
    }
    old = state(before) if before else {}
    return _truth(package, applied[-1], list(applied), "abp", state(now), old, extra)


def abp_tile_versions(package: PackageSpec, scale: Scale = SMALL) -> Iterator[VersionData]:
    """A tile supply: FULL = every tile, each COU = the changed tiles, all records inserts."""
    versions = all_versions(package)
    world = AbpWorld(scale.abp)
    world.build_initial(versions[0].created_on)
    before: Optional[TileMap] = None
    for number, version in enumerate(versions):
        if number > 0:
            world.advance(version.created_on, scale.abp_rate)
        supply, now = tile_supply(world, before)
        kind = "FULL" if supply.full else "COU"
        files = []
        for tile in supply.tiles:
            member = ZipMember(f"{tile}.csv", tile_bytes(supply, tile))
            name = f"AddressBasePremium_{kind}_{supply.date}_{tile}_csv.zip"
            files.append((name, zip_bytes([member], folder_entries=False)))
        counts = {
            "records": sum(len(rows) for rows in supply.tiles.values()),
            "tiles": len(supply.tiles),
            "held": len(now),
        }
        applied = tuple(versions[: number + 1])
        truth = partial(_abp_tiles_truth, package, applied, now, before or {})
        yield VersionData(version, files, truth, counts, supply)
        before = now


def _ngd_truth(
    package: PackageSpec,
    applied: Tuple[PackageVersionSpec, ...],
    snapshot: Dict[str, Dict[Any, Dict[str, Any]]],
    before: Dict[str, Dict[Any, Dict[str, Any]]],
) -> Dict[str, Any]:
    state, old = ngd_state(snapshot), (ngd_state(before) if before else {})
    return _truth(package, applied[-1], list(applied), "ngd", state, old)


def ngd_versions(package: PackageSpec, scale: Scale = SMALL) -> Iterator[VersionData]:
    """NGD: a FULL, then COUs with every change type; the third COU's road links are a
    blank file (no changes that month)."""
    versions = all_versions(package)
    world = NgdWorld(scale.ngd)
    world.build_initial(versions[0].created_on)
    before: Dict[str, Dict[Any, Dict[str, Any]]] = {}
    for number, version in enumerate(versions):
        if number == 0:
            supply: NgdSupply = world.full_supply(version.created_on)
        else:
            blank = ("trn_ntwk_roadlink",) if number == 3 else ()
            supply = world.advance(version.created_on, scale.ngd_rate, blank=blank)
        counts = {
            "features": sum(len(rows) for rows in supply.rows.values()),
            "held": sum(len(rows) for rows in world.current.values()),
        }
        snapshot = {name: dict(rows) for name, rows in world.current.items()}
        applied = tuple(versions[: number + 1])
        truth = partial(_ngd_truth, package, applied, snapshot, before)
        yield VersionData(version, supply_files(supply), truth, counts, supply)
        before = snapshot


def package_versions(package: PackageSpec, scale: Scale = SMALL) -> Iterator[VersionData]:
    if package.product_id == "OSNGD":
        return ngd_versions(package, scale)
    if package.product_id == "MMTOPO":
        return mastermap_versions(package, scale)
    if package.id in HOLDING_TILE_SUPPLIES:
        return abp_tile_versions(package, scale)
    return abp_versions(package, scale)


def with_order_details(package: PackageSpec, data: VersionData) -> List[Tuple[str, bytes]]:
    version = data.spec
    summary = order_details(
        package.name, version.order, version.id, version.created_on, [n for n, _ in data.files]
    )
    return data.files + [(f"{version.order}-Order_Details.txt", summary)]


def truth_json(truth: Dict[str, Any]) -> bytes:
    return (json.dumps(truth, indent=None, sort_keys=False, ensure_ascii=False) + "\n").encode()


# --- the replica's catalogue ------------------------------------------------------------


def build_holding_packages(build: SampleBuild) -> List[Dict[str, Any]]:
    """Write every holding package's files and truths; their catalogue entries."""
    shutil.rmtree(build.data_dir / TRUTH_FOLDER, ignore_errors=True)  # no truth of a gone version
    entries = []
    for package in HOLDING_PACKAGES:
        listed = {v.id for v in package.versions}
        versions = []
        for data in package_versions(package):
            version = data.spec
            folder = "packages" if version.id in listed else NEXT_FOLDER
            files = []
            for name, content in with_order_details(package, data):
                path = build.write_bytes(f"{folder}/{package.id}/{version.id}/{name}", content)
                files.append({"fileName": name, "path": path})
            truth_file = build.data_dir / TRUTH_FOLDER / package.id / f"{version.id}.json"
            truth_file.parent.mkdir(parents=True, exist_ok=True)
            truth_file.write_bytes(truth_json(data.truth))
            if version.id in listed:
                versions.append(
                    {
                        "id": version.id,
                        "createdOn": version.created_on,
                        "reason": version.reason,
                        "supplyType": version.supply_type,
                        "productVersion": version.product_version,
                        "format": package.format,
                        "files": files,
                    }
                )
        entries.append(
            {
                "id": package.id,
                "name": package.name,
                "createdOn": package.created_on,
                "productId": package.product_id,
                "productName": package.product_name,
                "versions": versions,
            }
        )
    return entries


# --- bench data -----------------------------------------------------------------------------


def _bench_stamp(scale: Scale, truth: bool) -> str:
    digest = hashlib.sha256(repr((scale, truth)).encode())
    here = Path(__file__).parent
    for name in (
        "sample_holdings.py",
        "sample_mastermap.py",
        "sample_abp.py",
        "sample_ngd.py",
        "catalogue.py",
        "catalogue_packages.json",
    ):
        digest.update((here / name).read_bytes())
    return digest.hexdigest()


def ensure_bench_data(out: Path = BENCH_DIR, *, truth: bool = False, scale: Scale = BENCH) -> Path:
    """The bench supplies in ``out`` (made once; remade when the generator changes).

    ``out/<package>/<version>/<files>``, ``out/truth/<package>/<version>.json`` with
    ``truth``, and ``out/manifest.json``: per package its versions (oldest first),
    supply type, files and counts.
    """
    out = Path(out).resolve()
    stamp = _bench_stamp(scale, truth)
    manifest_path = out / "manifest.json"
    try:
        if json.loads(manifest_path.read_text("utf-8")).get("stamp") == stamp:
            return out
    except (OSError, ValueError):
        pass
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    manifest: Dict[str, Any] = {"stamp": stamp, "packages": []}
    for package in HOLDING_PACKAGES:
        if package.id in HOLDING_TILE_SUPPLIES:
            continue  # scattered changes touch every tile: its updates would be full supplies
        entry: Dict[str, Any] = {"id": package.id, "product": package.product_id, "versions": []}
        for data in package_versions(package, scale):
            if data.spec.id not in {v.id for v in package.versions}:
                continue  # the bench uses the listed chain only
            folder = out / package.id / data.spec.id
            folder.mkdir(parents=True)
            names = []
            for name, content in with_order_details(package, data):
                (folder / name).write_bytes(content)
                names.append(name)
            if truth:
                target = out / TRUTH_FOLDER / package.id / f"{data.spec.id}.json"
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(truth_json(data.truth))
            entry["versions"].append(
                {
                    "id": data.spec.id,
                    "supplyType": data.spec.supply_type,
                    "folder": folder.relative_to(out).as_posix(),
                    "files": names,
                    "counts": data.counts,
                }
            )
        manifest["packages"].append(entry)
    manifest_path.write_text(json.dumps(manifest, indent=1) + "\n", "utf-8")
    return out


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description="Generate the holding packages' bench data.")
    parser.add_argument("--bench", action="store_true", help="≥ 200,000 features and records")
    parser.add_argument("--out", type=Path, default=BENCH_DIR)
    parser.add_argument("--features", type=int, help="MasterMap features in the FULL supply")
    parser.add_argument("--records", type=int, help="ABP records in the FULL supply")
    parser.add_argument("--truth", action="store_true", help="also write the truths (large)")
    args = parser.parse_args(argv)
    scale = BENCH if args.bench else SMALL
    if args.features or args.records:
        scale = scale_for(args.features or 200_000, args.records or 200_000)
    print(ensure_bench_data(args.out, truth=args.truth, scale=scale))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
