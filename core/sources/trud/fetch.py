"""Fetch one TRUD release: download, check, extract, tabulate, record.

The same engine as OS data (``core/download.py``): SHA-256 from the release
list checked while streaming, sizes checked, resume with ``Range``, files
already on disk and verified skipped, ``.part`` files until verified. Then,
unless asked not to, the legacy integrity chain (checksum XML, its PGP
signature, TRUD's public key) is checked *before* anything is extracted: a
signature that does not verify stops the job with ``SignatureError``, nothing
extracted and no manifest written (so the next run fetches the small files
again). Extraction and the manifest are the OS jobs' (``finish_job``), with
``source: "trud"``; ODS XML organisation files are flattened to a CSV with a
header, and every CSV table is described (columns, postcode column).

Layout: ``<dest_root>/trud/<item>/<archive name without .zip>/`` holding the
archive, ``trud_<name>.xml``, ``trud_<name>.xml.asc``, the public key, the
manifest and ``extracted/``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, List, Optional, Sequence, Tuple

from ...api.models import LATEST
from ...engine.download import DEFAULT_WORKERS, ProgressCallback, download_files
from ...engine.manifest import SOURCE_TRUD, Manifest
from ...engine.pipeline import JobResult, extract_downloads, finish_job, safe_folder_name
from ...errors import ConfigurationError
from ...redact import get_logger
from ..updates import CURRENT, UPDATE, UPDATE_CHECKERS, Held, UpdateCheck
from .client import TrudClient, TrudRelease, parse_item
from .ods_xml import flatten_to_csv, is_ods_full_file
from .signature import AUTO, SignatureOutcome, VerifierChoice, check_release_signature
from .tables import TableInfo, find_tables

log = get_logger(__name__)

TRUD_FOLDER = "trud"
NO_CHAIN_MESSAGE = (
    "Signature not checked: TRUD lists no checksum/signature files for this release. "
    "The SHA-256 from the release list was still enforced."
)


@dataclass(frozen=True)
class TrudJobResult:
    """What fetching a release left on disk, and what was checked."""

    release: TrudRelease
    job: JobResult
    signature: Optional[SignatureOutcome]  # None: not asked for
    tables: Tuple[TableInfo, ...] = ()

    @property
    def folder(self) -> Path:
        return self.job.folder

    @property
    def archive(self) -> Path:
        return self.job.folder / self.release.archive.file_name

    @property
    def version(self) -> str:
        return self.release.id

    # What the command line's job summary reads, as for OS jobs.
    @property
    def download(self) -> Any:
        return self.job.download

    @property
    def manifest(self) -> Manifest:
        return self.job.manifest

    @property
    def manifest_path(self) -> Path:
        return self.job.manifest_path

    @property
    def extracted_folder(self) -> Optional[Path]:
        return self.job.extracted_folder

    @property
    def downloaded_count(self) -> int:
        return self.job.downloaded_count

    @property
    def skipped_count(self) -> int:
        return self.job.skipped_count

    @property
    def unverified(self) -> list:
        return self.job.unverified


def release_folder(dest_root: Path, item: int, release: TrudRelease) -> Path:
    stem = release.archive.file_name
    stem = stem[:-4] if stem.lower().endswith(".zip") else (stem or release.id)
    return Path(dest_root) / TRUD_FOLDER / str(int(item)) / safe_folder_name(stem)


def fetch_trud_release(
    client: TrudClient,
    item: Any,
    release_id: Optional[str] = LATEST,
    *,
    dest_root: Path,
    extract: bool = True,
    verify_signature: bool = True,
    trusted_fingerprints: Sequence[str] = (),
    verifier: VerifierChoice = AUTO,
    workers: int = DEFAULT_WORKERS,
    progress: Optional[ProgressCallback] = None,
    cancel: Optional[threading.Event] = None,
    release: Optional[TrudRelease] = None,
) -> TrudJobResult:
    """Download (and check, extract, describe) one release of ``item``; newest by default.

    ``release`` skips asking TRUD again when the caller already has the listing.
    """
    number = parse_item(item)
    release = release or client.release(number, release_id or LATEST)
    if not release.archive.url:
        raise ConfigurationError(f"TRUD lists no archive for {release.name} of item {number}.")
    chain = verify_signature and release.has_signature_chain
    folder = release_folder(dest_root, number, release)
    log.info("TRUD item %s: fetching %s into %s", number, release.name, folder)
    result = download_files(
        release.remote_files(integrity_files=chain),
        folder,
        resolve=client.resolve,
        session=client.session,
        workers=workers,
        progress=progress,
        cancel=cancel,
        retry=client.http.retry,
    )
    outcome: Optional[SignatureOutcome] = None
    if verify_signature:
        outcome = (
            _check_signature(release, folder, verifier, trusted_fingerprints)
            if chain
            else (SignatureOutcome(False, NO_CHAIN_MESSAGE))
        )
        log.info("TRUD item %s: %s", number, outcome.message)
    manifest = Manifest(
        source=SOURCE_TRUD,
        id=str(number),
        name=f"NHS TRUD item {number}",
        version=release.id,
        extra={
            "release": release.to_json(),  # URLs redacted
            "signature": outcome.to_json() if outcome else None,
        },
    )
    if extract:
        extracted = extract_downloads(result, progress=progress, cancel=cancel)
        _flatten_ods_xml(extracted)
    job = finish_job(result, manifest, extract=extract, progress=progress, cancel=cancel)
    tables = tuple(find_tables(job.extracted_folder)) if job.extracted_folder else ()
    if tables:
        manifest.extra["tables"] = [_table_json(t, job.folder) for t in tables]
        from ...engine.manifest import write_manifest

        write_manifest(job.folder, manifest)
    return TrudJobResult(release, job, outcome, tables)


def _check_signature(
    release: TrudRelease,
    folder: Path,
    verifier: VerifierChoice,
    trusted: Sequence[str],
) -> SignatureOutcome:
    assert release.checksum_file and release.public_key_file and release.signature_save_name
    return check_release_signature(
        folder / release.archive.file_name,
        folder / release.checksum_file.file_name,
        folder / release.signature_save_name,
        folder / release.public_key_file.file_name,
        verifier=verifier,
        trusted_fingerprints=trusted,
    )


def _flatten_ods_xml(extracted: Path) -> List[Path]:
    """ODS XML organisation files as CSV tables beside them (done once per file)."""
    made = []
    for xml in sorted(p for p in extracted.rglob("*") if p.is_file() and is_ods_full_file(p)):
        target = xml.with_name(f"{xml.stem}_organisations.csv")
        if not target.exists():
            log.info("Flattening %s to %s", xml.name, target.name)
            flatten_to_csv(xml, target)
        made.append(target)
    return made


def _table_json(table: TableInfo, folder: Path) -> dict:
    try:
        path = table.path.relative_to(folder).as_posix()
    except ValueError:
        path = table.path.as_posix()
    return {
        "path": path,
        "columns": list(table.columns),
        "has_header": table.has_header,
        "postcode_column": table.postcode_column,
        "title": table.title,
    }


def tables_of(folder: Path) -> List[TableInfo]:
    """The described CSV tables of a fetched release folder (what the loader offers)."""
    extracted = Path(folder) / "extracted"
    return find_tables(extracted) if extracted.is_dir() else []


# --- "is there a newer release?" for core/updates.py -----------------------------------


def check_trud_update(client_for: Callable[[str], Any], held: Held) -> UpdateCheck:
    """Newer when TRUD's newest release of the item is not one held."""
    latest = client_for(SOURCE_TRUD).release(int(held.id))
    have = held.newest.version
    newer = latest.id not in held.versions
    return UpdateCheck(
        held.source,
        held.id,
        held.label,
        have,
        UPDATE if newer else CURRENT,
        latest_version=latest.id,
        newer_versions=[latest.id] if newer else [],
    )


UPDATE_CHECKERS.setdefault(SOURCE_TRUD, check_trud_update)
