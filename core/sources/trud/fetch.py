"""Fetch one TRUD release: download, check, extract, tabulate, record.

The same engine as OS data (``core/download.py``): SHA-256 from the release
list checked while streaming, sizes checked, resume with ``Range``, files
already on disk and verified skipped, ``.part`` files until verified. Then,
unless asked not to, the legacy integrity chain (checksum XML, its PGP
signature, TRUD's public key) is checked *before* anything is extracted: a
signature that does not verify stops the job with ``SignatureError``, nothing
extracted and no manifest written (so the next run fetches the small files
again). All of it goes through the one pipeline (``core/engine/pipeline.py``):
the signature check is its ``after_download`` hook, ODS XML organisation files
are flattened to a CSV with a header in ``after_extract``, and every CSV table
is described (columns, postcode column) into the manifest by ``describe``;
extraction happens once and the manifest (``source: "trud"``) is written once.

Layout: ``<dest_root>/trud/<item>/<archive name without .zip>/`` holding the
archive, ``trud_<name>.xml``, ``trud_<name>.xml.asc``, the public key, the
manifest and ``extracted/``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

from ...api.models import LATEST
from ...engine.download import DEFAULT_WORKERS, DownloadResult, ProgressCallback
from ...engine.folders import safe_folder_name
from ...engine.manifest import SOURCE_TRUD, Manifest
from ...engine.pipeline import EXTRACTED_FOLDER, FetchPlan, JobResult, run_plan
from ...errors import ConfigurationError
from ...redact import get_logger
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


class TrudPlan:
    """The plan for one release, with what its hooks found (for ``TrudJobResult``)."""

    def __init__(
        self,
        client: TrudClient,
        item: int,
        release: TrudRelease,
        dest_root: Path,
        verify_signature: bool,
        trusted_fingerprints: Sequence[str],
        verifier: VerifierChoice,
    ) -> None:
        self.item = item
        self.release = release
        self.verify_signature = verify_signature
        self.trusted = trusted_fingerprints
        self.verifier = verifier
        self.chain = verify_signature and release.has_signature_chain
        self.signature: Optional[SignatureOutcome] = None
        self.tables: Tuple[TableInfo, ...] = ()
        self.plan = FetchPlan(
            folder=release_folder(dest_root, item, release),
            files=release.remote_files(integrity_files=self.chain),
            manifest=Manifest(
                source=SOURCE_TRUD,
                id=str(item),
                name=f"NHS TRUD item {item}",
                version=release.id,
                extra={"release": release.to_json()},  # URLs redacted
            ),
            resolve=client.resolve,
            session=client.session,
            retry=client.http.retry,
            after_download=self.check_signature,
            after_extract=_flatten_ods_xml,
            describe=self.describe_tables,
        )

    def check_signature(self, result: DownloadResult, manifest: Manifest) -> None:
        """Before extraction: a signature that does not verify raises ``SignatureError``."""
        if self.verify_signature:
            self.signature = (
                _check_signature(self.release, result.dest, self.verifier, self.trusted)
                if self.chain
                else SignatureOutcome(False, NO_CHAIN_MESSAGE)
            )
            log.info("TRUD item %s: %s", self.item, self.signature.message)
        manifest.extra["signature"] = self.signature.to_json() if self.signature else None

    def describe_tables(self, folder: Path, extracted: Optional[Path]) -> Dict[str, Any]:
        self.tables = tuple(find_tables(extracted)) if extracted else ()
        return {"tables": [_table_json(t, folder) for t in self.tables]} if self.tables else {}


def plan_trud_release(
    client: TrudClient,
    item: Any,
    release_id: Optional[str] = LATEST,
    *,
    dest_root: Path,
    verify_signature: bool = True,
    trusted_fingerprints: Sequence[str] = (),
    verifier: VerifierChoice = AUTO,
    release: Optional[TrudRelease] = None,
) -> TrudPlan:
    """The pipeline's plan for one release of ``item`` (newest by default)."""
    number = parse_item(item)
    release = release or client.release(number, release_id or LATEST)
    if not release.archive.url:
        raise ConfigurationError(f"TRUD lists no archive for {release.name} of item {number}.")
    return TrudPlan(
        client, number, release, dest_root, verify_signature, trusted_fingerprints, verifier
    )


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
    planned = plan_trud_release(
        client,
        item,
        release_id,
        dest_root=dest_root,
        verify_signature=verify_signature,
        trusted_fingerprints=trusted_fingerprints,
        verifier=verifier,
        release=release,
    )
    log.info(
        "TRUD item %s: fetching %s into %s",
        planned.item,
        planned.release.name,
        planned.plan.folder,
    )
    job = run_plan(planned.plan, extract=extract, workers=workers, progress=progress, cancel=cancel)
    return TrudJobResult(planned.release, job, planned.signature, planned.tables)


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
    extracted = Path(folder) / EXTRACTED_FOLDER
    return find_tables(extracted) if extracted.is_dir() else []
