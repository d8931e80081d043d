"""The one job pipeline every source goes through.

    resolve -> download -> verify -> after_download (e.g. TRUD's PGP check)
      -> extract -> after_extract (e.g. ODS XML flattened to CSV)
      -> discover -> describe (extra manifest data, e.g. TRUD tables)
      -> manifest written ONCE

A source (``core/sources/``) turns "this release of that thing" into a
``FetchPlan``: the files as ``RemoteFile``s (each with its checksum kind), the
folder, the manifest's fields, how to resolve a file's URL and which session
fetches it, and its hooks. ``run_plan`` does the rest, the same for OS data
and TRUD. Each archive is extracted into ``extracted/<archive name without
.zip>/`` beside it. ``progress`` receives the engine's ``Progress`` for the
download (phases "verify", "download"), then the extraction ("extract") and
the search for datasets ("discover"), always from the calling or a worker
thread.

A hook that raises stops the job before anything later happens: a signature
that does not verify means nothing extracted and no manifest written (so the
next run fetches the small files again).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import requests

from ..errors import Cancelled
from ..net.retry import RetryPolicy
from ..redact import get_logger
from ..safe_text import safe_line
from .download import DEFAULT_WORKERS, download_files
from .files import RemoteFile
from .manifest import Manifest, ManifestFile, manifest_path, write_manifest
from .progress import PHASE_DISCOVER, PHASE_EXTRACT, Progress, ProgressCallback
from .recorded import manifest_records
from .results import DownloadResult, FileResult

log = get_logger(__name__)

EXTRACTED_FOLDER = "extracted"


@dataclass
class FetchPlan:
    """Everything the pipeline needs to fetch one release of one thing.

    ``after_download(result, manifest)`` runs once every file is verified and
    before extraction (may raise to stop the job; may add to ``manifest.extra``).
    ``after_extract(extracted_folder)`` runs before discovery (files it makes
    are discovered). ``describe(folder, extracted_folder)`` returns extra
    manifest data, merged into ``manifest.extra`` before the one write.
    """

    folder: Path
    files: Sequence[RemoteFile]
    manifest: Manifest
    resolve: Callable[[RemoteFile], str]
    session: requests.Session
    retry: Optional[RetryPolicy] = None
    after_download: Optional[Callable[[DownloadResult, Manifest], None]] = None
    after_extract: Optional[Callable[[Path], None]] = None
    describe: Optional[Callable[[Path, Optional[Path]], Dict[str, Any]]] = None


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


def run_plan(
    plan: FetchPlan,
    *,
    extract: bool = True,
    workers: int = DEFAULT_WORKERS,
    progress: Optional[ProgressCallback] = None,
    cancel: Optional[threading.Event] = None,
) -> JobResult:
    """Fetch ``plan``: download and verify, the source's hooks, extract, discover, manifest."""
    options: Dict[str, Any] = {} if plan.retry is None else {"retry": plan.retry}
    result = download_files(
        list(plan.files),
        plan.folder,
        resolve=plan.resolve,
        session=plan.session,
        workers=workers,
        progress=progress,
        cancel=cancel,
        recorded=manifest_records(plan.folder),
        **options,
    )
    if plan.after_download is not None:
        plan.after_download(result, plan.manifest)
    return finish_job(
        result,
        plan.manifest,
        extract=extract,
        progress=progress,
        cancel=cancel,
        after_extract=plan.after_extract,
        describe=plan.describe,
    )


def finish_job(
    result: DownloadResult,
    manifest: Manifest,
    *,
    extract: bool = True,
    progress: Optional[ProgressCallback] = None,
    cancel: Optional[threading.Event] = None,
    after_extract: Optional[Callable[[Path], None]] = None,
    describe: Optional[Callable[[Path, Optional[Path]], Dict[str, Any]]] = None,
) -> JobResult:
    """After a download: extract the archives, find datasets, write the manifest once."""
    folder = result.dest
    extracted: Optional[Path] = None
    if extract:
        extracted = extract_downloads(result, progress=progress, cancel=cancel)
        if after_extract is not None:
            after_extract(extracted)
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
    if describe is not None:
        manifest.extra.update(describe(folder, extracted))
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


def _report(progress: Optional[Callable[[Progress], None]], snapshot: Progress) -> None:
    if progress is not None:
        progress(snapshot)


def _check_cancel(cancel: Optional[threading.Event]) -> None:
    if cancel is not None and cancel.is_set():
        raise Cancelled("Cancelled; the downloaded files were kept.")


__all__ = [
    "EXTRACTED_FOLDER",
    "FetchPlan",
    "JobResult",
    "bare_datasets",
    "extract_downloads",
    "finish_job",
    "manifest_path",
    "run_plan",
]
