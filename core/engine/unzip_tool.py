"""Members Python cannot decompress (Deflate64, seen in OS Terrain 50): Info-ZIP ``unzip``.

The member is streamed through ``unzip -p`` and still written, counted and
checked by our code (``write_limited``); its CRC and size are checked against
the zip header. Without ``unzip`` the error names the member and what to install.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import zipfile
import zlib
from pathlib import Path
from typing import IO, Optional

from ..errors import ExtractionError, UnsupportedCompressionError
from ..redact import get_logger
from .zip_limits import ExtractBudget, write_limited

log = get_logger(__name__)

METHODS_PYTHON_READS = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, 14}

_DEFLATE64 = 9

_METHOD_NAMES = {6: "Implode", 9: "Deflate64", 12: "BZIP2", 14: "LZMA", 93: "Zstandard", 99: "AES"}


def unzip_program() -> Optional[str]:
    """The Info-ZIP ``unzip`` on PATH, if any (it reads Deflate64)."""
    return shutil.which("unzip")


def _unzip_pattern(name: str) -> str:
    """``name`` as an unzip pattern that matches only itself (wildcards bracketed)."""
    pattern = re.sub(r"([\[*?])", r"[\1]", name)
    return "[-]" + pattern[1:] if pattern.startswith("-") else pattern


def extract_with_unzip(
    archive: Path, info: zipfile.ZipInfo, target: Path, budget: ExtractBudget, where: str
) -> None:
    """Stream one member through ``unzip -p``: our code still checks and writes every byte."""
    method = _METHOD_NAMES.get(info.compress_type, f"method {info.compress_type}")
    program = unzip_program()
    if program is None:
        raise UnsupportedCompressionError(
            f"{where} is compressed with {method}, which Python cannot read.",
            hint="Install Info-ZIP unzip (e.g. 'apt install unzip'; on Windows put unzip.exe "
            "on PATH) and try again, or extract the archive with 7-Zip.",
        )
    log.info("%s uses %s; reading it with %s", where, method, program)
    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(
            [program, "-p", str(archive), _unzip_pattern(info.filename)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=errors,
            creationflags=getattr(subprocess, "CREATE_NO_WINDOW", 0),
        )
        assert process.stdout is not None
        crc = _CrcReader(process.stdout)
        try:
            count = write_limited(
                crc.read, target, budget, where, info.file_size, info.compress_size
            )
        finally:
            if process.poll() is None:
                process.kill()
            process.stdout.close()
            code = process.wait()
        errors.seek(0)
        message = errors.read(2000).decode("utf-8", "replace").strip()
    if code == 11 or (count == 0 and info.file_size > 0):
        raise UnsupportedCompressionError(
            f"{where} is compressed with {method} and unzip could not read it "
            f"({message or f'exit code {code}'})."
        )
    if count != info.file_size or crc.value != info.CRC:
        raise ExtractionError(
            f"{where} is damaged: unzip gave {count:,} bytes with CRC {crc.value:08x}, "
            f"the header says {info.file_size:,} bytes with CRC {info.CRC:08x}.",
            hint="Download the file again.",
        )


class _CrcReader:
    """Reads from a pipe and keeps the CRC-32 of what went through."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream
        self.value = 0

    def read(self, size: int) -> bytes:
        data = self.stream.read(size)
        self.value = zlib.crc32(data, self.value)
        return data
