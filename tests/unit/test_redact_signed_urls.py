"""Signed storage URLs are shown without the token that opens the file.

A SAS link (``…?sv=…&se=…&sr=b&sp=r&sig=…``) lets whoever holds it download
the file until it expires, so ``--debug`` logs and messages mask its
parameters like a key and keep the host, path and file name readable.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from os_downloads.core.redact import MASK, mask_signed_url_params, redact

ROOT = Path(__file__).resolve().parents[2]
PYTHONPATH = ROOT / ".build" / "pythonpath"
SAS = (
    "https://acct.blob.core.windows.net/downloads/OpenRivers/2025-10/allGB/GeoPackage/"
    "oprvrs_gpkg_gb.zip?sv=2020-04-08&spr=https&se=2026-12-02T00%3A00%3A00Z&sr=b&sp=r"
    "&sig=Zm9vYmFyYmF6cXV4%2B%2Fabc%3D"
)
LEFT_OPEN = re.compile(r"[?&](?:sig|se|sv|sp|sr|spr)=(?!\*\*\*\*)", re.IGNORECASE)


def test_a_sas_url_keeps_its_path_and_loses_its_token():
    masked = mask_signed_url_params(SAS)
    assert masked == (
        "https://acct.blob.core.windows.net/downloads/OpenRivers/2025-10/allGB/GeoPackage/"
        f"oprvrs_gpkg_gb.zip?sv={MASK}&spr={MASK}&se={MASK}&sr={MASK}&sp={MASK}&sig={MASK}"
    )
    assert redact(SAS) == masked


@pytest.mark.parametrize(
    "text, kept",
    [
        ('"GET /downloads/a.zip?sv=1&sig=abc HTTP/1.1" 200 15', '" 200 15'),
        ("https://s3.example/f?X-Amz-Credential=AKIA&X-Amz-Signature=deadbeef#frag", "#frag"),
        ("https://h/f?skoid=1&sktid=2&skt=3&ske=4&sks=b&skv=5&sig=x next", " next"),
        ("https://api/x?url=https%3A%2F%2Fh%2Ff%3Fsv%3D1%26sig%3Dabc%2B", ""),
    ],
)
def test_signed_parameters_masked_wherever_they_appear(text: str, kept: str):
    masked = redact(text)
    assert not re.search(r"(?:sig|signature|skoid|sktid)(?:=|%3D)(?!\*\*\*\*)", masked, re.I)
    assert "abc" not in masked and "deadbeef" not in masked and masked.endswith(kept)


def test_other_parameters_stay():
    url = "https://api.os.uk/downloads/v1/products/OpenRivers/downloads?area=GB&format=GeoPackage"
    assert redact(url) == url


def test_debug_run_never_prints_a_signature(replica, tmp_path):
    """A real `--debug` download: urllib3 and our own log lines name the storage URLs."""
    env = dict(os.environ, PYTHONPATH=str(PYTHONPATH))
    env.pop("OS_API_KEY", None)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "os_downloads",
            "--debug",
            "--api-url",
            replica.api_url,
            "download",
            "OpenRivers",
            "--format",
            "GeoPackage",
            "--dest",
            str(tmp_path),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    storage_host = replica.storage_origin.split("://", 1)[1]
    assert storage_host in done.stderr  # the storage requests are logged...
    assert "sig=" + MASK in done.stderr  # ...with their signature masked
    assert not LEFT_OPEN.search(done.stderr), LEFT_OPEN.search(done.stderr)
