"""Folder names made safe for every platform, whatever the source calls things."""

from __future__ import annotations

import re
import unicodedata

_WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL"} | {
    f"{p}{i}" for p in ("COM", "LPT") for i in range(1, 10)
}
_UNSAFE = re.compile(r"[^A-Za-z0-9 ._()+,=@&'-]+")


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
