"""One call per user action: list, download, extract, discover, write the manifest.

The dock's background task, the Processing algorithms, the command line and
sync all call these, so a product fetched from any of them lands in the same
folder with the same manifest:

    <dest_root>/<product_id>/<version>/<format[-subformat]>/<area>/   OpenData
    <dest_root>/packages/<package_id>/<version_id>/                   data packages

Folder names are made safe for every platform (``safe_folder_name``). Each
archive is extracted into ``extracted/<archive name without .zip>/`` beside
it. ``progress`` receives the engine's ``Progress`` for the download (phases
"verify", "download"), then the extraction ("extract") and the search for
datasets ("discover"), always from the calling or a worker thread.
"""

from __future__ import annotations

import re
import threading
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, List, Optional, Sequence, Tuple

from ..api.models import LATEST, ProductDownload, RemoteFile
from ..errors import BadRequestError, Cancelled, ConfigurationError
from ..redact import get_logger
from ..safe_text import safe_line
from .download import (
    DEFAULT_WORKERS,
    PHASE_DISCOVER,
    PHASE_EXTRACT,
    DownloadResult,
    FileResult,
    Progress,
    ProgressCallback,
    download_files,
)
from .manifest import (
    SOURCE_OPENDATA,
    SOURCE_PACKAGE,
    Manifest,
    ManifestFile,
    manifest_path,
    write_manifest,
)

log = get_logger(__name__)

EXTRACTED_FOLDER = "extracted"
PACKAGES_FOLDER = "packages"
_WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL"} | {
    f"{p}{i}" for p in ("COM", "LPT") for i in range(1, 10)
}
_UNSAFE = re.compile(r"[^A-Za-z0-9 ._()+,=@&'-]+")


@dataclass(frozen=True)
class JobResult:
    """What a job left on disk.

    ``files``: the downloaded files' paths; ``datasets``: what ``find_datasets``
    found (``core.discover.Dataset``); ``version``: the product version, or the
    package version id.
    """

    folder: Path
    manifest_path: Path
    manifest: Manifest
    download: DownloadResult
    files: Tuple[Path, ...]
    datasets: Tuple[Any, ...] = ()
    extracted_folder: Optional[Path] = None
    version: str = ""
    problems: Tuple[str, ...] = ()  # what went wrong after a good download (worded)

    @property
    def downloaded_count(self) -> int:
        return self.download.downloaded_count

    @property
    def skipped_count(self) -> int:
        return self.download.skipped_count

    @property
    def unverified(self) -> List[FileResult]:
        return self.download.unverified


# --- OpenData products --------------------------------------------------------------


def fetch_product(
    client: Any,
    product_id: str,
    format: str,
    *,
    area: str = "GB",
    subformat: Optional[str] = None,
    dest_root: Path,
    extract: bool = True,
    workers: int = DEFAULT_WORKERS,
    progress: Optional[ProgressCallback] = None,
    cancel: Optional[threading.Event] = None,
) -> JobResult:
    """Download an OpenData product's files for one format/subformat/area, then extract."""
    product = client.product(product_id)
    downloads = select_product_downloads(client, product.id or product_id, format, subformat, area)
    chosen = downloads[0]
    folder = product_folder(
        Path(dest_root),
        product.id or product_id,
        product.version,
        chosen.format,
        chosen.subformat,
        chosen.area,
    )
    manifest = Manifest(
        source=SOURCE_OPENDATA,
        id=product.id or product_id,
        name=product.name,
        version=product.version,
        format=chosen.format,
        subformat=chosen.subformat,
        area=chosen.area,
    )
    return _run(
        client,
        [d.remote_file() for d in downloads],
        folder,
        manifest,
        extract,
        workers,
        progress,
        cancel,
    )


def select_product_downloads(
    client: Any, product_id: str, format: str, subformat: Optional[str], area: Optional[str]
) -> List[ProductDownload]:
    """The product's downloads for the filters; a clear error listing what exists if none.

    Asks the API with the filters first; when that finds nothing (or the API
    rejects a filter), matches the full list without regard to case
    ("geopackage", "gb"). Several subformats matching (GeoTIFF Backdrop and
    Full Colour) is an error asking for one.
    """
    try:
        found = client.product_downloads(product_id, format=format, subformat=subformat, area=area)
    except BadRequestError:  # e.g. "gb": the API only knows its own spelling of an area
        found = []
    if not found:
        everything = client.product_downloads(product_id)
        found = [d for d in everything if _matches(d, format, subformat, area)]
        if not found:
            raise ConfigurationError(
                f"{product_id} has no download for format {format!r}"
                + (f", subformat {subformat!r}" if subformat else "")
                + (f", area {area!r}" if area else "")
                + ".",
                hint="Available: " + describe_downloads(everything) if everything else "",
            )
    subformats = sorted({d.subformat or "" for d in found})
    if len(subformats) > 1:
        raise ConfigurationError(
            f"{product_id} in {format!r} comes in several subformats: "
            + ", ".join(repr(s) for s in subformats if s)
            + ".",
            hint="Choose one with the subformat option.",
        )
    return found


def describe_downloads(downloads: Sequence[ProductDownload]) -> str:
    """ "GeoPackage (GB); GML 3 (GB, TQ)": each format/subformat with its areas."""
    areas: dict = {}
    for d in downloads:
        label = f"{d.format} {d.subformat}" if d.subformat else d.format
        areas.setdefault(label, [])
        if d.area not in areas[label]:
            areas[label].append(d.area)
    return "; ".join(f"{label} ({', '.join(found)})" for label, found in areas.items())


def _matches(
    d: ProductDownload, format: str, subformat: Optional[str], area: Optional[str]
) -> bool:
    def same(a: Optional[str], b: Optional[str]) -> bool:
        return (a or "").strip().casefold() == (b or "").strip().casefold()

    return (
        same(d.format, format)
        and (subformat is None or same(d.subformat, subformat))
        and (area is None or same(d.area, area))
    )


def product_folder(
    dest_root: Path,
    product_id: str,
    version: str,
    format: str,
    subformat: Optional[str],
    area: str,
) -> Path:
    kind = f"{format}-{subformat}" if subformat else format
    return (
        Path(dest_root)
        / safe_folder_name(product_id)
        / safe_folder_name(version or "unversioned")
        / safe_folder_name(kind)
        / safe_folder_name(area or "all")
    )


# --- data packages --------------------------------------------------------------------


def fetch_package_version(
    client: Any,
    package_id: str,
    version_id: str = LATEST,
    *,
    dest_root: Path,
    extract: bool = True,
    workers: int = DEFAULT_WORKERS,
    progress: Optional[ProgressCallback] = None,
    cancel: Optional[threading.Event] = None,
) -> JobResult:
    """Download one version of a premium data package (default: the newest), then extract."""
    package = client.data_package(package_id)
    version = client.data_package_version(package_id, version_id or LATEST)
    folder = package_folder(Path(dest_root), package.id or package_id, version.id)
    manifest = Manifest(
        source=SOURCE_PACKAGE,
        id=package.id or package_id,
        name=package.name,
        version=version.id,
        format=version.format or None,
        reason=version.reason or None,
        supply_type=version.supply_type or None,
        product_id=package.product_id or None,
        product_version=version.product_version or None,
        extra={"created_on": version.created_on, "product_name": package.product_name},
    )
    files = [d.remote_file() for d in version.downloads]
    if not files:
        raise ConfigurationError(f"Version {version.id} of data package {package_id} has no files.")
    return _run(client, files, folder, manifest, extract, workers, progress, cancel)


def package_folder(dest_root: Path, package_id: str, version_id: str) -> Path:
    return (
        Path(dest_root)
        / PACKAGES_FOLDER
        / safe_folder_name(package_id)
        / safe_folder_name(version_id)
    )


# --- shared steps ---------------------------------------------------------------------


def _run(
    client: Any,
    files: List[RemoteFile],
    folder: Path,
    manifest: Manifest,
    extract: bool,
    workers: int,
    progress: Optional[ProgressCallback],
    cancel: Optional[threading.Event],
) -> JobResult:
    result = download_files(
        files,
        folder,
        resolve=lambda f: client.resolve_download(f.url),
        session=client.storage_session,
        workers=workers,
        progress=progress,
        cancel=cancel,
    )
    return finish_job(result, manifest, extract=extract, progress=progress, cancel=cancel)


def finish_job(
    result: DownloadResult,
    manifest: Manifest,
    *,
    extract: bool = True,
    progress: Optional[ProgressCallback] = None,
    cancel: Optional[threading.Event] = None,
) -> JobResult:
    """After a download: extract the archives, find datasets, write the manifest.

    Public so other sources (TRUD) finish their jobs the same way.
    """
    folder = result.dest
    extracted: Optional[Path] = None
    if extract:
        extracted = extract_downloads(result, progress=progress, cancel=cancel)
    datasets, problems = _discover_keeping_the_download(
        extracted or folder, manifest, progress=progress, cancel=cancel
    )
    if extracted is not None:
        datasets = bare_datasets(result) + datasets
    manifest.files = [manifest_file(f) for f in result.files]
    manifest.extracted_folder = extracted.relative_to(folder).as_posix() if extracted else None
    manifest.record_datasets(
        (dataset_ref(d, folder), getattr(d, "problem", None)) for d in datasets
    )
    path = write_manifest(folder, manifest)
    return JobResult(
        folder=folder,
        manifest_path=path,
        manifest=manifest,
        download=result,
        files=tuple(f.path for f in result.files),
        datasets=tuple(datasets),
        extracted_folder=extracted,
        version=manifest.version,
        problems=tuple(problems),
    )


def _discover_keeping_the_download(
    folder: Path,
    manifest: Manifest,
    *,
    progress: Optional[ProgressCallback],
    cancel: Optional[threading.Event],
) -> Tuple[List[Any], List[str]]:
    """(datasets, problems): a failure while looking for datasets never costs a
    verified download its manifest; it is recorded as a problem instead."""
    try:
        found = discover(folder, product_name=manifest.name, progress=progress, cancel=cancel)
        return found, []
    except Cancelled:
        raise
    except Exception as err:  # noqa: BLE001 - e.g. a broken file in the data; the files stay
        log.debug("Looking for datasets in %s failed", folder, exc_info=True)
        problem = (
            f"The files were downloaded and kept, but looking for datasets in them failed "
            f"({type(err).__name__}: {safe_line(err)}); load them by hand."
        )
        log.warning("%s", problem)  # the command line shows it as a warning: line
        manifest.extra["problems"] = [*manifest.extra.get("problems", []), problem]
        return [], [problem]


def manifest_file(f: FileResult) -> ManifestFile:
    algorithm = f.checksum.algorithm
    return ManifestFile(
        name=f.name,
        size=f.size,
        md5=f.checksum.hexdigest if algorithm == "md5" else None,
        sha256=f.checksum.hexdigest if algorithm == "sha256" else None,
        verified=f.verified,
    )


def extract_downloads(
    result: DownloadResult,
    *,
    progress: Optional[ProgressCallback] = None,
    cancel: Optional[threading.Event] = None,
) -> Path:
    """Extract every archive of ``result`` into ``extracted/<name>/``; return ``extracted``.

    A finished extraction is not redone (``core/extract.py`` keeps a marker).
    """
    from .extract import default_dest, extract_archive, is_archive

    target = result.dest / EXTRACTED_FOLDER
    target.mkdir(parents=True, exist_ok=True)
    archives = [f for f in result.files if is_archive(f.path)]
    started = time.monotonic()
    written_before = 0
    for index, archive in enumerate(archives):
        _check_cancel(cancel)

        def relay(
            done: int,
            expected: int,
            _index: int = index,
            _name: str = archive.name,
            _before: int = written_before,
        ) -> None:
            elapsed = time.monotonic() - started
            written = _before + done
            _report(
                progress,
                Progress(
                    written,
                    _before + max(expected, done),
                    _index,
                    len(archives),
                    _name,
                    written / elapsed if elapsed > 0 else 0.0,
                    PHASE_EXTRACT,
                ),
            )

        relay(0, 0)
        extracted = extract_archive(
            archive.path, default_dest(archive.path, target), cancel=cancel, progress=relay
        )
        written_before += extracted.bytes_written
    _report(
        progress,
        Progress(
            written_before, written_before, len(archives), len(archives), "", 0.0, PHASE_EXTRACT
        ),
    )
    return target


def discover(
    folder: Path,
    *,
    product_name: Optional[str] = None,
    progress: Optional[ProgressCallback] = None,
    cancel: Optional[threading.Event] = None,
) -> List[Any]:
    """The loadable datasets under ``folder`` (``core.discover.Dataset``)."""
    from .discover import find_datasets

    _check_cancel(cancel)
    _report(progress, Progress(0, 0, 0, 0, folder.name, 0.0, PHASE_DISCOVER))
    return list(find_datasets(folder, product_name=product_name or None))


def bare_datasets(result: DownloadResult) -> List[Any]:
    """Downloaded files that are datasets themselves (Zoomstack's bare ``.mbtiles``).

    With extraction on, discovery looks in ``extracted/`` only; files that are
    not archives stay where they were downloaded and are found here.
    """
    from .discover import datasets_of_files
    from .extract import is_archive

    bare = [f.path for f in result.files if not is_archive(f.path) and f.path.is_file()]
    return datasets_of_files(bare, folder=result.dest)


def dataset_ref(dataset: Any, folder: Path) -> str:
    """A dataset as a path relative to the job folder (``|layername=`` for a layer)."""
    path = Path(getattr(dataset, "path", dataset))
    try:
        text = path.relative_to(folder).as_posix()
    except ValueError:
        text = path.as_posix()
    layer = getattr(dataset, "layer", None) or getattr(dataset, "layer_name", None)
    return f"{text}|layername={layer}" if layer else text


def safe_folder_name(text: str) -> str:
    """A folder name valid on Windows, macOS and Linux that still reads like ``text``.

    "ESRI® Shapefile" -> "ESRI Shapefile"; "Version 3 (GB); Version 1 (NI)" ->
    "Version 3 (GB)_ Version 1 (NI)"; never empty, ".", ".." or a reserved name.
    """
    ascii_text = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode()
    cleaned = _UNSAFE.sub("_", ascii_text)
    cleaned = re.sub(r"\s+", " ", cleaned).strip(" .")[:100].strip(" .")
    if not cleaned or set(cleaned) == {"_"}:
        cleaned = "_"
    if cleaned.upper().split(".")[0] in _WINDOWS_RESERVED:
        cleaned += "_"
    return cleaned


def _report(progress: Optional[Callable[[Progress], None]], snapshot: Progress) -> None:
    if progress is not None:
        progress(snapshot)


def _check_cancel(cancel: Optional[threading.Event]) -> None:
    if cancel is not None and cancel.is_set():
        raise Cancelled("Cancelled; the downloaded files were kept.")


__all__ = [
    "EXTRACTED_FOLDER",
    "JobResult",
    "bare_datasets",
    "describe_downloads",
    "extract_downloads",
    "fetch_package_version",
    "fetch_product",
    "finish_job",
    "manifest_path",
    "package_folder",
    "product_folder",
    "safe_folder_name",
    "select_product_downloads",
]
