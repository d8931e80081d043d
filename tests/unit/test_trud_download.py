"""Fetching TRUD releases through the shared engine, against the replica over real HTTP."""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

import pytest

from os_downloads.core.engine.manifest import MANIFEST_NAME, read_manifest
from os_downloads.core.errors import ChecksumMismatchError, SignatureError, describe
from os_downloads.core.net.retry import RetryPolicy
from os_downloads.core.sources.trud.client import TrudClient
from os_downloads.core.sources.trud.fetch import fetch_trud_release, release_folder
from os_downloads.core.sources.trud.signature import find_verifier
from os_downloads.replica.server.trud import TRUD_API_KEY, api_url

FAST = RetryPolicy(max_attempts=4, base_delay=0.01, max_delay=0.05)
needs_gpg = pytest.mark.skipif(find_verifier() is None, reason="no gpgv/gpg on this machine")


@pytest.fixture()
def trud(replica):
    return TrudClient(TRUD_API_KEY, api_url(replica), retry=FAST)


def everything_written(folder: Path) -> str:
    return "\n".join(
        p.read_text("utf-8", errors="replace")
        for p in folder.rglob("*")
        if p.is_file() and p.suffix in (".json", ".xml", ".asc", ".csv", ".txt")
    )


@needs_gpg
def test_a_release_downloads_with_sha256_checked_signature_verified_and_tables_described(
    trud, tmp_path, caplog
):
    caplog.set_level(logging.DEBUG)
    listed = trud.release(58)
    result = fetch_trud_release(trud, 58, dest_root=tmp_path)
    assert result.folder == tmp_path / "trud" / "58" / "nhs_odsweekly_5.2.0_20250508000001"
    archive = next(f for f in result.download.files if f.name == listed.archive.file_name)
    assert archive.verified and archive.checksum.algorithm == "sha256"
    assert archive.checksum.hexdigest == listed.archive.sha256
    assert hashlib.sha256(result.archive.read_bytes()).hexdigest() == listed.archive.sha256
    names = sorted(p.name for p in result.folder.iterdir())
    assert names == sorted(
        [
            "extracted",
            MANIFEST_NAME,
            "nhs_odsweekly_5.2.0_20250508000001.zip",
            "trud-public-key-2013-04-01.pgp",
            "trud_nhs_odsweekly_5.2.0_20250508000001.xml",
            "trud_nhs_odsweekly_5.2.0_20250508000001.xml.asc",
        ]
    )
    assert result.signature is not None and result.signature.checked
    assert "Signature good" in result.signature.message
    tables = {t.name: t for t in result.tables}
    assert set(tables) == {"epraccur", "ebranchs", "egpcur"}
    assert tables["epraccur"].postcode_column == "postcode" and not tables["epraccur"].has_header
    manifest = read_manifest(result.folder)
    assert manifest.source == "trud" and manifest.id == "58" and manifest.version == listed.id
    recorded = {f.name: f for f in manifest.files}
    assert recorded[listed.archive.file_name].sha256 == listed.archive.sha256
    assert manifest.extra["signature"]["checked"] is True
    assert manifest.extra["release"]["releaseDate"] == "2025-05-08"
    assert {t["path"].rsplit("/", 1)[-1] for t in manifest.extra["tables"]} == {
        "epraccur.csv",
        "ebranchs.csv",
        "egpcur.csv",
    }
    # The key is nowhere: not in files written, logs, or the result's JSON.
    logged = "\n".join(
        r.getMessage() for r in caplog.records if not r.name.startswith("os_downloads.replica")
    )
    assert TRUD_API_KEY not in everything_written(result.folder) + logged
    assert "/keys/****/" in json.dumps(manifest.extra["release"])


def test_a_second_run_downloads_nothing(trud, tmp_path, replica):
    first = fetch_trud_release(trud, 14, dest_root=tmp_path)
    assert first.downloaded_count == 4
    replica.request_log.clear()
    again = fetch_trud_release(trud, 14, dest_root=tmp_path)
    assert again.downloaded_count == 0 and again.skipped_count == 4
    downloads = [e for e in replica.requests("trud") if "/download/" in e["path"]]
    assert downloads == []


def test_a_corrupted_archive_is_caught_and_nothing_is_kept_under_its_name(trud, tmp_path, replica):
    release = trud.release(58)
    replica.set_faults(corrupt_files={release.archive.file_name: 2})  # the engine retries once
    with pytest.raises(ChecksumMismatchError) as caught:
        fetch_trud_release(trud, 58, dest_root=tmp_path, release=release)
    assert "SHA256 mismatch" in describe(caught.value)
    folder = release_folder(tmp_path, 58, release)
    assert not (folder / release.archive.file_name).exists()
    assert not (folder / f"{release.archive.file_name}.part").exists()
    # The other files were fetched alongside; one that was still on its way when
    # the archive failed keeps its .part for a later resume, like after a cancel.
    assert {p.name for p in folder.iterdir()} <= {
        f"{f.file_name}{suffix}" for f in release.remote_files() for suffix in ("", ".part")
    }
    assert not (folder / MANIFEST_NAME).exists()


def test_a_dropped_connection_resumes(trud, tmp_path, replica):
    release = trud.release(341)
    replica.set_faults(drop_after_bytes=1000, drop_count=1)
    result = fetch_trud_release(trud, 341, dest_root=tmp_path, release=release, workers=1)
    archive = next(f for f in result.download.files if f.name == release.archive.file_name)
    assert archive.resumes == 1 and archive.verified
    ranges = [e for e in replica.requests("trud") if e["headers"].get("range")]
    assert ranges and ranges[0]["headers"]["range"] == "bytes=1000-"


@needs_gpg
def test_a_tampered_signature_is_refused_before_anything_is_extracted(trud, tmp_path, replica):
    release = trud.release(341)
    replica.set_faults(corrupt_files={release.checksum_file.file_name: 1})
    with pytest.raises(SignatureError) as caught:
        fetch_trud_release(trud, 341, dest_root=tmp_path, release=release)
    assert "BAD" in describe(caught.value)
    folder = release_folder(tmp_path, 341, release)
    assert not (folder / "extracted").exists() and not (folder / MANIFEST_NAME).exists()
    # Fetching again replaces the tampered file (it has no listed checksum and no manifest).
    result = fetch_trud_release(trud, 341, dest_root=tmp_path, release=release)
    assert result.signature.checked


def test_without_a_verifier_the_download_says_so_and_sha256_still_holds(trud, tmp_path):
    result = fetch_trud_release(trud, 58, dest_root=tmp_path, verifier=None)
    assert result.signature is not None and not result.signature.checked
    assert result.signature.message.startswith("Signature not checked: no verifier")
    assert all(f.verified for f in result.download.files if f.name.endswith(".zip"))


def test_a_release_without_integrity_files_and_signatures_not_asked_for(trud, tmp_path):
    old = fetch_trud_release(trud, 14, "DIAGIMG_29.0.0_20250401000001", dest_root=tmp_path)
    assert old.signature is not None and not old.signature.checked
    assert "lists no checksum/signature files" in old.signature.message
    plain = fetch_trud_release(trud, 14, dest_root=tmp_path, verify_signature=False)
    assert plain.signature is None
    assert [f.name for f in plain.download.files] == ["nhs_diagimg_30.0.0_20260401000001.zip"]
    assert [t.name for t in plain.tables] == ["nicip_30.0.0"]


def test_ods_xml_releases_gain_an_organisations_table(trud, tmp_path):
    result = fetch_trud_release(trud, 341, dest_root=tmp_path, verify_signature=False)
    names = [t.name for t in result.tables]
    assert "HSCOrgRefData_Full_20260501_organisations" in names
    table = next(t for t in result.tables if t.name.startswith("HSCOrgRefData_Full"))
    assert table.has_header and table.postcode_column == "postcode"


def test_not_extracting_leaves_only_the_downloads(trud, tmp_path):
    result = fetch_trud_release(trud, 58, dest_root=tmp_path, extract=False, verifier=None)
    assert result.extracted_folder is None and result.tables == ()
    assert not (result.folder / "extracted").exists()
