"""``os-downloads trud ...`` as a person or a script runs it: output, exit codes, no key shown."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Dict, List, Tuple

import pytest

from os_downloads.core.cli.main import main
from os_downloads.core.sources.trud.signature import find_verifier
from os_downloads.replica.server.trud import TRUD_API_KEY, api_url


def run(args: List[str], env: Dict[str, str]) -> Tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(args, stdout=out, stderr=err, env=env)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture()
def env(replica) -> Dict[str, str]:
    return {"TRUD_API_KEY": TRUD_API_KEY, "TRUD_API_URL": api_url(replica)}


def test_releases_table_and_json(env):
    code, out, err = run(["trud", "releases", "58"], env)
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0].split() == ["RELEASE", "DATE", "SIZE", "ID", "ARCHIVE"]
    assert lines[1].startswith("Release 5.2.0  2025-05-08")
    assert len(lines) == 4
    code, out, _ = run(["trud", "releases", "341", "--latest", "--json"], env)
    (release,) = json.loads(out)
    assert release["name"] == "Release 8.0.0" and release["item"] == 341
    assert "/keys/****/" in release["archive"]["url"]
    assert TRUD_API_KEY not in out


def test_download_with_extract_reports_checks_and_tables(env, tmp_path: Path):
    code, out, err = run(["trud", "download", "58", "--dest", str(tmp_path), "--extract"], env)
    assert code == 0, err
    assert "Release 5.2.0 (2025-05-08) of TRUD item 58: 4 downloaded" in out
    assert "SHA-256 checked: nhs_odsweekly_5.2.0_20250508000001.zip" in out
    if find_verifier() is not None:
        assert "Signature good" in out
    assert "epraccur.csv (postcodes in postcode)" in out
    code, out, err = run(
        ["trud", "download", "58", "--dest", str(tmp_path), "--json", "--no-signature"], env
    )
    data = json.loads(out)
    assert code == 0 and data["skipped"] == 1 and data["signature"] is None
    assert TRUD_API_KEY not in out + err


def test_a_named_release(env, tmp_path: Path):
    code, out, _ = run(
        [
            "trud",
            "download",
            "14",
            "--release",
            "DIAGIMG_29.0.0_20250401000001",
            "--dest",
            str(tmp_path),
            "--json",
        ],
        env,
    )
    data = json.loads(out)
    assert code == 0 and data["version"] == "DIAGIMG_29.0.0_20250401000001"
    assert data["signature"]["checked"] is False


@pytest.mark.parametrize(
    "key,item,words",
    [
        ("this-key-is-wrong-123", "58", "TRUD did not accept the API key (HTTP 400)"),
        (TRUD_API_KEY, "101", "or this account is not subscribed to it"),
        (TRUD_API_KEY, "9999", "either there is no item 9999"),
    ],
)
def test_errors_are_one_clear_line_without_the_key(env, key, item, words):
    env = dict(env, TRUD_API_KEY=key)
    code, out, err = run(["trud", "releases", item], env)
    assert code == 1 and out == ""
    assert err.startswith("error: ") and words in err and err.count("\n") == 1
    assert key not in err


def test_no_key_says_where_to_put_it(replica, monkeypatch):
    monkeypatch.delenv("TRUD_API_KEY", raising=False)
    code, _, err = run(["trud", "releases", "58"], {"TRUD_API_URL": api_url(replica)})
    assert code == 1 and "TRUD_API_KEY" in err


def test_a_bad_item_is_a_clear_error(env):
    code, _, err = run(["trud", "releases", "abc"], env)
    assert code == 1 and "'abc' is not a TRUD item number" in err


# --- a pinned key needs something to check it with ------------------------------------


def test_a_trusted_fingerprint_without_gnupg_fails_before_downloading(replica, tmp_path: Path):
    import os
    import subprocess
    import sys

    no_gnupg = tmp_path / "bin"  # a PATH with no gpgv and no gpg on it
    no_gnupg.mkdir()
    dest = tmp_path / "dest"
    pythonpath = Path(__file__).resolve().parents[2] / ".build" / "pythonpath"
    env = dict(
        os.environ,
        PATH=str(no_gnupg),
        PYTHONPATH=str(pythonpath),
        TRUD_API_KEY=TRUD_API_KEY,
        TRUD_API_URL=api_url(replica),
    )
    done = subprocess.run(
        [sys.executable, "-m", "os_downloads", "trud", "download", "58", "--dest", str(dest)]
        + ["--trusted-fingerprint", "0123456789ABCDEF0123456789ABCDEF01234567"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert done.returncode == 1, done.stdout + done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: Trusted key fingerprints were given")
    assert "GnuPG" in lines[0] and "not checked" not in done.stdout
    assert not dest.exists() or not any(dest.rglob("*.zip"))


def test_verify_detached_refuses_a_pinned_key_it_cannot_check(tmp_path: Path):
    from os_downloads.core.errors import SignatureError
    from os_downloads.core.sources.trud.signature import verify_detached

    for name in ("data", "sig", "key"):
        (tmp_path / name).write_bytes(b"x")
    with pytest.raises(SignatureError, match="no GnuPG"):
        verify_detached(
            tmp_path / "data",
            tmp_path / "sig",
            tmp_path / "key",
            verifier=None,
            trusted_fingerprints=["0123456789ABCDEF0123456789ABCDEF01234567"],
        )
    unpinned = verify_detached(tmp_path / "data", tmp_path / "sig", tmp_path / "key", verifier=None)
    assert unpinned.checked is False
