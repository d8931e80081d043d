"""What the replica holds: products, data packages and their files on disk.

Loaded from ``<data_dir>/catalogue.json`` (written by ``replica.data.sampledata``):
products as the real ``/products/{id}`` returns them minus the URLs the server
adds, each with ``downloads`` (fileName, area, format, subformat, path; and
``unverified``: listed without md5 and size, as some real listings are) and
``images``/``imagesLarge``; data packages with versions and files. Every file
is also a *blob*: the name the storage origin serves it under. Tests publish
new package versions and product versions at runtime (sync scenarios).
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import threading
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Tuple, Union

from .. import CATALOGUE_NAME
from .checksums import SIDECAR_NAME, Md5Cache

log = logging.getLogger("os_downloads.replica")

# Keys the server writes itself from the request's base URL.
SERVER_KEYS = ("url", "downloadsUrl", "imageTemplate")
_CONTENT_TYPES = {
    ".zip": "application/zip",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".json": "application/json",
    ".txt": "text/plain",
    ".csv": "text/csv",
    ".gz": "application/gzip",
}


@dataclass(frozen=True)
class StoredFile:
    """A file the storage origin serves, under its blob name."""

    file_name: str
    path: Path
    blob: str

    @property
    def content_type(self) -> str:
        return _CONTENT_TYPES.get(self.path.suffix.lower(), "application/octet-stream")


@dataclass(frozen=True)
class ProductFile:
    file_name: str
    area: str
    format: str
    subformat: Optional[str]
    stored: StoredFile
    unverified: bool = False  # listed without md5 and size, as some real listings are


@dataclass(frozen=True)
class ProductEntry:
    id: str
    details: Dict[str, Any]  # the product JSON without the server-made URLs
    downloads: Tuple[ProductFile, ...]
    images: Tuple[StoredFile, ...]
    images_large: Tuple[StoredFile, ...]

    @property
    def version(self) -> str:
        return str(self.details.get("version", ""))


@dataclass(frozen=True)
class PackageVersion:
    id: str
    created_on: str
    reason: str
    supply_type: str
    product_version: str
    format: str
    files: Tuple[StoredFile, ...]


@dataclass(frozen=True)
class PackageEntry:
    id: str
    name: str
    created_on: str
    product_id: str
    product_name: str
    versions: Tuple[PackageVersion, ...] = field(default_factory=tuple)

    def newest_first(self) -> List[PackageVersion]:
        """By creation date, then numeric id: ids grow over time."""
        return sorted(self.versions, key=_version_order, reverse=True)


def _version_order(version: PackageVersion) -> Tuple[str, int, str]:
    return (version.created_on, int(version.id) if version.id.isdigit() else -1, version.id)


def _area_folder(area: str) -> str:
    return "allGB" if area in ("GB", "UK") else "100kmSquares"


def _safe(segment: str) -> str:
    return segment.replace("/", "_").strip() or "_"


class Inventory:
    def __init__(self, data_dir: Path, scratch_dir: Optional[Path] = None) -> None:
        self.data_dir = Path(data_dir).resolve()
        self.catalogue: Dict[str, Any] = json.loads(
            (self.data_dir / CATALOGUE_NAME).read_text("utf-8")
        )
        self.scratch_dir = scratch_dir
        self.md5s = Md5Cache(self.data_dir / SIDECAR_NAME)
        self._lock = threading.RLock()
        self._blobs: Dict[str, StoredFile] = {}
        self._products: Dict[str, ProductEntry] = {}
        self._packages: Dict[str, PackageEntry] = {}
        for raw in self.catalogue.get("products", []):
            self._set_product(self._load_product(raw))
        for raw in self.catalogue.get("dataPackages", []):
            package = self._load_package(raw)
            self._packages[package.id] = package
        self._initial = (dict(self._products), dict(self._packages))

    # --- reading --------------------------------------------------------------

    def products(self) -> List[ProductEntry]:
        with self._lock:
            return list(self._products.values())

    def product(self, product_id: str) -> Optional[ProductEntry]:
        with self._lock:
            return self._products.get(product_id)

    def packages(self) -> List[PackageEntry]:
        with self._lock:
            return list(self._packages.values())

    def package(self, package_id: str) -> Optional[PackageEntry]:
        with self._lock:
            return self._packages.get(package_id)

    def blob(self, name: str) -> Optional[StoredFile]:
        with self._lock:
            return self._blobs.get(name)

    def size_and_md5(self, stored: StoredFile) -> Tuple[Optional[int], Optional[str]]:
        """Both from the file itself; (None, None) when it is missing."""
        try:
            return stored.path.stat().st_size, self.md5s.md5(stored.path)
        except OSError:
            return None, None

    def all_files(self) -> List[StoredFile]:
        with self._lock:
            return list(self._blobs.values())

    # --- publishing (tests of update checks and sync) ----------------------------

    def restore(self) -> None:
        """Forget everything published since loading."""
        with self._lock:
            self._products, self._packages = dict(self._initial[0]), dict(self._initial[1])

    def publish_product_version(self, product_id: str, version: str) -> ProductEntry:
        """A new release of an OpenData product: same files, new version string."""
        with self._lock:
            product = self._require_product(product_id)
            details = dict(product.details, version=version)
            downloads = tuple(
                replace(d, stored=self._product_blob(product_id, version, d))
                for d in product.downloads
            )
            updated = replace(product, details=details, downloads=downloads)
            self._set_product(updated)
            return updated

    def publish_package_version(
        self,
        package_id: str,
        reason: str = "UPDATE",
        supply_type: str = "COU",
        files: Optional[Iterable[Union[Path, Tuple[str, Path]]]] = None,
        product_version: Optional[str] = None,
    ) -> PackageVersion:
        """Add a newest version to a package; without ``files`` its newest
        version's first file is copied under a new name."""
        with self._lock:
            package = self._packages.get(package_id)
            if package is None:
                raise KeyError(f"No data package {package_id!r}")
            newest = package.newest_first()[0] if package.versions else None
            version_id = self._next_version_id(package)
            if files is None:
                chosen = self._copy_for_new_version(newest, version_id)
            else:
                chosen = [f if isinstance(f, tuple) else (Path(f).name, Path(f)) for f in files]
            stored = tuple(
                self._register(
                    StoredFile(
                        name, Path(path).resolve(), self._package_blob(package_id, version_id, name)
                    )
                )
                for name, path in chosen
            )
            today = date.today().isoformat()
            version = PackageVersion(
                id=version_id,
                created_on=max(today, newest.created_on) if newest else today,
                reason=reason,
                supply_type=supply_type,
                product_version=product_version or (newest.product_version if newest else ""),
                format=newest.format if newest else "",
                files=stored,
            )
            self._packages[package_id] = replace(package, versions=package.versions + (version,))
            return version

    # --- loading ----------------------------------------------------------------

    def _load_product(self, raw: Dict[str, Any]) -> ProductEntry:
        product_id = str(raw["id"])
        details = {
            k: v
            for k, v in raw.items()
            if k not in ("downloads", "images", "imagesLarge", *SERVER_KEYS)
        }
        images = tuple(
            self._stored(Path(p).name, p, f"downloads/{product_id}/images/{i}/{Path(p).name}")
            for i, p in enumerate(raw.get("images") or [])
        )
        large = tuple(
            self._stored(Path(p).name, p, f"downloads/{product_id}/images/large/{i}/{Path(p).name}")
            for i, p in enumerate(raw.get("imagesLarge") or [])
        )
        details.setdefault("imageCount", len(images))
        version = str(details.get("version", ""))
        downloads = []
        for d in raw.get("downloads") or []:
            stub = ProductFile(
                file_name=str(d["fileName"]),
                area=str(d.get("area") or "GB"),
                format=str(d["format"]),
                subformat=d.get("subformat") or None,
                stored=StoredFile(str(d["fileName"]), self._resolve(d["path"]), ""),
                unverified=bool(d.get("unverified", False)),
            )
            downloads.append(replace(stub, stored=self._product_blob(product_id, version, stub)))
        return ProductEntry(product_id, details, tuple(downloads), images, large)

    def _load_package(self, raw: Dict[str, Any]) -> PackageEntry:
        package_id = str(raw["id"])
        versions = []
        for v in raw.get("versions") or []:
            version_id = str(v["id"])
            files = tuple(
                self._stored(
                    str(f["fileName"]),
                    f["path"],
                    self._package_blob(package_id, version_id, str(f["fileName"])),
                )
                for f in v.get("files") or []
            )
            versions.append(
                PackageVersion(
                    id=version_id,
                    created_on=str(v.get("createdOn", "")),
                    reason=str(v.get("reason", "INITIAL")),
                    supply_type=str(v.get("supplyType", "FULL")),
                    product_version=str(v.get("productVersion", "")),
                    format=str(v.get("format", "")),
                    files=files,
                )
            )
        return PackageEntry(
            id=package_id,
            name=str(raw.get("name", package_id)),
            created_on=str(raw.get("createdOn", "")),
            product_id=str(raw.get("productId", "")),
            product_name=str(raw.get("productName", "")),
            versions=tuple(versions),
        )

    def _resolve(self, relative: str) -> Path:
        path = (self.data_dir / relative).resolve()
        if not path.is_file():
            log.warning("The catalogue lists %s but there is no such file", relative)
        return path

    def _stored(self, file_name: str, relative: str, blob: str) -> StoredFile:
        return self._register(StoredFile(file_name, self._resolve(relative), blob))

    def _register(self, stored: StoredFile) -> StoredFile:
        self._blobs[stored.blob] = stored
        return stored

    def _product_blob(self, product_id: str, version: str, download: ProductFile) -> StoredFile:
        folder = download.format + (f" {download.subformat}" if download.subformat else "")
        blob = "/".join(
            (
                "downloads",
                _safe(product_id),
                _safe(version),
                _area_folder(download.area),
                _safe(folder),
                _safe(download.file_name),
            )
        )
        return self._register(replace(download.stored, blob=blob))

    @staticmethod
    def _package_blob(package_id: str, version_id: str, file_name: str) -> str:
        return f"downloads/dataPackages/{_safe(package_id)}/{_safe(version_id)}/{_safe(file_name)}"

    def _set_product(self, product: ProductEntry) -> None:
        self._products[product.id] = product

    def _require_product(self, product_id: str) -> ProductEntry:
        product = self._products.get(product_id)
        if product is None:
            raise KeyError(f"No product {product_id!r}")
        return product

    @staticmethod
    def _next_version_id(package: PackageEntry) -> str:
        numeric = [int(v.id) for v in package.versions if v.id.isdigit()]
        return str(max(numeric) + 1) if numeric else str(len(package.versions) + 1)

    def _copy_for_new_version(
        self, newest: Optional[PackageVersion], version_id: str
    ) -> List[Tuple[str, Path]]:
        if newest is None or not newest.files:
            raise ValueError("The package has no file to copy; pass files=...")
        if self.scratch_dir is None:
            raise ValueError("No scratch folder to copy files into; pass files=...")
        source = newest.files[0]
        stem, suffix = os.path.splitext(source.file_name)
        base = re.sub(r"_v?\d+$", "", stem)
        name = f"{base}_{version_id}{suffix}"
        target = self.scratch_dir / "published" / version_id / name
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(source.path, target)
        except OSError:
            shutil.copyfile(source.path, target)
        return [(name, target)]
