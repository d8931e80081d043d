"""The legacy TRUD integrity chain: PGP signature of the checksum XML, FCIV content vs archive."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from os_downloads.core.errors import ChecksumMismatchError, SignatureError, describe
from os_downloads.core.net.retry import RetryPolicy
from os_downloads.core.sources.trud.client import TrudClient, TrudRelease
from os_downloads.core.sources.trud.signature import (
    NO_VERIFIER_MESSAGE,
    Verifier,
    check_fciv,
    check_release_signature,
    dearmor,
    find_verifier,
    parse_fciv,
    verify_detached,
)
from os_downloads.replica.server.trud import TRUD_API_KEY, api_url

OTHER_KEY = "71ED5964BAE53E83556320A42BE59DADEE84BEB0"
needs_gpg = pytest.mark.skipif(find_verifier() is None, reason="no gpgv/gpg on this machine")


def fetch_release(client: TrudClient, release: TrudRelease, folder: Path) -> dict:
    """The four files of a release, saved under the names the plugin uses."""
    files = {
        "archive": (release.archive, release.archive.file_name),
        "checksum": (release.checksum_file, release.checksum_file.file_name),
        "signature": (release.signature_file, release.signature_save_name),
        "key": (release.public_key_file, release.public_key_file.file_name),
    }
    saved = {}
    for role, (file, name) in files.items():
        path = folder / name
        path.write_bytes(client.fetch_bytes(file))
        saved[role] = path
    return saved


@pytest.fixture()
def trud(replica):
    return TrudClient(TRUD_API_KEY, api_url(replica), retry=RetryPolicy(base_delay=0.01))


@pytest.fixture()
def release_files(trud, tmp_path):
    return fetch_release(trud, trud.release(58), tmp_path)


@needs_gpg
def test_a_release_signature_verifies(release_files):
    f = release_files
    outcome = check_release_signature(f["archive"], f["checksum"], f["signature"], f["key"])
    assert outcome.checked
    assert outcome.verifier == "gpgv"
    assert "Signature good" in outcome.message
    assert f["archive"].name in outcome.message and "SHA-1 matches" in outcome.message
    assert outcome.fingerprint and len(outcome.fingerprint) == 40


@needs_gpg
def test_gpg_serves_when_gpgv_is_missing(release_files):
    f = release_files
    gpg = shutil.which("gpg")
    if gpg is None:
        pytest.skip("no gpg")
    outcome = verify_detached(
        f["checksum"], f["signature"], f["key"], verifier=Verifier("gpg", gpg)
    )
    assert outcome.checked and outcome.verifier == "gpg"


@needs_gpg
def test_a_tampered_checksum_file_is_refused(trud, replica, tmp_path):
    release = trud.release(341)
    replica.set_faults(corrupt_files={release.checksum_file.file_name: 1})
    f = fetch_release(trud, release, tmp_path)
    with pytest.raises(SignatureError) as caught:
        check_release_signature(f["archive"], f["checksum"], f["signature"], f["key"])
    assert "BAD" in describe(caught.value)
    assert "Do not use this release" in describe(caught.value)


@needs_gpg
def test_a_tampered_signature_is_refused(trud, replica, tmp_path):
    release = trud.release(341)
    replica.set_faults(corrupt_files={release.signature_save_name: 1})
    f = fetch_release(trud, release, tmp_path)
    with pytest.raises(SignatureError):
        check_release_signature(f["archive"], f["checksum"], f["signature"], f["key"])


@needs_gpg
def test_a_signature_of_another_release_is_refused(trud, tmp_path):
    f = fetch_release(trud, trud.release(58), tmp_path)
    (tmp_path / "other").mkdir()
    other = fetch_release(trud, trud.release(341), tmp_path / "other")
    with pytest.raises(SignatureError):
        verify_detached(f["checksum"], other["signature"], f["key"])


@needs_gpg
def test_a_key_outside_the_trusted_fingerprints_is_refused(release_files):
    f = release_files
    with pytest.raises(SignatureError) as caught:
        verify_detached(f["checksum"], f["signature"], f["key"], trusted_fingerprints=[OTHER_KEY])
    assert "not one of the trusted TRUD keys" in describe(caught.value)
    good = verify_detached(f["checksum"], f["signature"], f["key"])
    pinned = verify_detached(
        f["checksum"], f["signature"], f["key"], trusted_fingerprints=[good.fingerprint]
    )
    assert "a trusted key" in pinned.message


def test_without_a_verifier_it_says_so_and_still_checks_the_checksum_file(release_files):
    f = release_files
    outcome = check_release_signature(
        f["archive"], f["checksum"], f["signature"], f["key"], verifier=None
    )
    assert not outcome.checked
    assert outcome.message.startswith(NO_VERIFIER_MESSAGE)
    assert "SHA-1 matches" in outcome.message


def test_the_checksum_file_must_describe_the_archive(release_files, tmp_path):
    f = release_files
    entry = check_fciv(f["checksum"], f["archive"])
    assert entry.name == f["archive"].name and entry.sha1
    damaged = tmp_path / "copy" / f["archive"].name
    damaged.parent.mkdir()
    data = bytearray(f["archive"].read_bytes())
    data[len(data) // 2] ^= 0xFF
    damaged.write_bytes(bytes(data))
    with pytest.raises(ChecksumMismatchError):
        check_fciv(f["checksum"], damaged)
    renamed = tmp_path / "copy" / "another.zip"
    renamed.write_bytes(f["archive"].read_bytes())
    with pytest.raises(SignatureError) as caught:
        check_fciv(f["checksum"], renamed)
    assert "not another.zip" in describe(caught.value)


def test_fciv_as_fciv_itself_writes_it():
    xml = (
        b'\xef\xbb\xbf<?XML version="1.0" encoding="utf-8"?>\r\n<FCIV>\r\n\t<FILE_ENTRY>'
        b"<name>a\\b.zip</name><MD5>1B2M2Y8AsgTpgAmY7PhCfg==</MD5></FILE_ENTRY>\r\n</FCIV>"
    )
    (entry,) = parse_fciv(xml)
    assert entry.name == "a\\b.zip" and entry.md5 and entry.sha1 is None
    with pytest.raises(SignatureError):
        parse_fciv(b"<FCIV></FCIV>")
    with pytest.raises(SignatureError):
        parse_fciv(b"not xml")


def test_dearmor_reads_armoured_and_binary_keys(release_files):
    armoured = release_files["key"].read_bytes()
    binary = dearmor(armoured)
    assert binary[0] & 0x80  # an OpenPGP packet
    assert dearmor(binary) == binary
    with pytest.raises(SignatureError):
        dearmor(b"hello")
