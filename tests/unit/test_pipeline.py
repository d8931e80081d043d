"""One pipeline for every source: each job extracts once and writes its manifest once.

Spies (they call through) count what the pipeline does on disk; everything
else is real: the replica over HTTP, real archives, real files.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from os_downloads.core.engine import extract as extract_module
from os_downloads.core.engine import manifest as manifest_module
from os_downloads.core.engine import pipeline
from os_downloads.core.engine.manifest import (
    MANIFEST_NAME,
    SOURCE_OPENDATA,
    SOURCE_PACKAGE,
    SOURCE_TRUD,
)
from os_downloads.core.net.retry import RetryPolicy
from os_downloads.core.sources.base import Source, SyncKind
from os_downloads.core.sources.registry import SOURCES, source_for, sync_kinds
from os_downloads.core.sources.trud.client import TrudClient
from os_downloads.core.sources.trud.fetch import fetch_trud_release
from os_downloads.replica.server.trud import TRUD_API_KEY, api_url

FAST = RetryPolicy(max_attempts=4, base_delay=0.01, max_delay=0.05)


@pytest.fixture()
def counted(monkeypatch):
    """How often the pipeline extracted an archive and wrote a manifest."""
    calls = {"extract": [], "manifest": []}
    real_extract, real_write = extract_module.extract_archive, pipeline.write_manifest

    def extract_archive(archive, dest, **options):
        calls["extract"].append(Path(archive).name)
        return real_extract(archive, dest, **options)

    def write_manifest(folder, manifest):
        calls["manifest"].append(json.dumps(manifest.to_json(), sort_keys=True))
        return real_write(folder, manifest)

    monkeypatch.setattr(extract_module, "extract_archive", extract_archive)
    monkeypatch.setattr(pipeline, "write_manifest", write_manifest)
    monkeypatch.setattr(manifest_module, "write_manifest", write_manifest)
    return calls


def test_a_trud_release_is_extracted_once_and_its_manifest_written_once(replica, tmp_path, counted):
    trud = TrudClient(TRUD_API_KEY, api_url(replica), retry=FAST)
    try:
        result = fetch_trud_release(trud, 58, dest_root=tmp_path, verifier=None)
    finally:
        trud.session.close()
    assert counted["extract"] == [result.release.archive.file_name]
    assert len(counted["manifest"]) == 1
    written = json.loads((result.folder / MANIFEST_NAME).read_text("utf-8"))
    assert written == json.loads(counted["manifest"][0])
    # the one manifest holds everything TRUD adds: the release, the signature, the tables
    assert written["source"] == SOURCE_TRUD and written["version"] == result.release.id
    assert set(written["extra"]) >= {"release", "signature", "tables"}
    assert written["extra"]["tables"] and written["datasets"]


def test_every_source_is_listed_once_with_its_sync_table():
    assert [s.kind for s in SOURCES] == [SOURCE_OPENDATA, SOURCE_PACKAGE, SOURCE_TRUD]
    assert list(sync_kinds()) == ["products", "packages", "trud"]
    for source in SOURCES:
        assert isinstance(source, Source) and isinstance(source.sync, SyncKind)
        assert source_for(source.kind) is source
    assert source_for("somewhere-else") is None


def test_check_updates_asks_trud_about_a_trud_folder(replica, tmp_path):
    from os_downloads.core.sources.base import CURRENT
    from os_downloads.core.sources.updates import check_updates, find_manifests, group_manifests

    trud = TrudClient(TRUD_API_KEY, api_url(replica), retry=FAST)
    try:
        fetched = fetch_trud_release(trud, 58, dest_root=tmp_path, verify_signature=False)
        held = group_manifests(find_manifests(tmp_path))
        asked = []
        results = check_updates(held, lambda source: asked.append(source) or trud)
    finally:
        trud.session.close()
    assert asked == [SOURCE_TRUD]
    [result] = results
    assert (result.source, result.id, result.status) == (SOURCE_TRUD, "58", CURRENT)
    assert result.held_version == result.latest_version == fetched.release.id
