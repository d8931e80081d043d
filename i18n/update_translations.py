"""Extract every ``tr("...")`` string into Qt Linguist ``.ts`` files.

Why not pylupdate5: it files a module-level ``tr()`` under the enclosing
class's name, while ``i18n.tr`` translates in the single ``OSDownloads``
context, so its output would never match at run time. This script reads the
source with ``ast`` and keeps existing translations.

    python3 i18n/update_translations.py            # refresh every os_downloads_*.ts
    python3 i18n/update_translations.py fr de      # also create French and German
    lrelease i18n/os_downloads_fr.ts               # compile to .qm (Qt tools)
"""

from __future__ import annotations

import ast
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Dict, Iterator, List, Tuple

I18N_DIR = Path(__file__).resolve().parent
ROOT = I18N_DIR.parent
CONTEXT = "OSDownloads"
SOURCE_DIRS = ("plugin.py", "ui", "integration", "processing_provider")
Location = Tuple[str, int]


def _python_files() -> Iterator[Path]:
    for name in SOURCE_DIRS:
        path = ROOT / name
        if path.is_file():
            yield path
        elif path.is_dir():
            yield from sorted(path.rglob("*.py"))


def extract() -> Dict[str, List[Location]]:
    """Each literal passed to ``tr()`` with where it appears."""
    found: Dict[str, List[Location]] = {}
    for path in _python_files():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
            first = node.args[0]
            if name == "tr" and isinstance(first, ast.Constant) and isinstance(first.value, str):
                rel = path.relative_to(ROOT).as_posix()
                found.setdefault(first.value, []).append((rel, node.lineno))
    return found


def _existing(ts_file: Path) -> Dict[str, str]:
    if not ts_file.exists():
        return {}
    done = {}
    for message in ET.parse(ts_file).getroot().iter("message"):
        source, translation = message.findtext("source"), message.find("translation")
        if source and translation is not None and translation.text:
            done[source] = translation.text
    return done


def write_ts(ts_file: Path, language: str, strings: Dict[str, List[Location]]) -> None:
    translated = _existing(ts_file)
    root = ET.Element("TS", version="2.1", language=language, sourcelanguage="en")
    context = ET.SubElement(root, "context")
    ET.SubElement(context, "name").text = CONTEXT
    for text in sorted(strings):
        message = ET.SubElement(context, "message")
        for file_name, line in strings[text]:
            ET.SubElement(message, "location", filename=f"../{file_name}", line=str(line))
        ET.SubElement(message, "source").text = text
        translation = ET.SubElement(message, "translation")
        if text in translated:
            translation.text = translated[text]
        else:
            translation.set("type", "unfinished")
    ET.indent(root)  # Python 3.9+
    body = ET.tostring(root, encoding="unicode")
    ts_file.write_text('<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE TS>\n' + body + "\n")


def main(languages: List[str]) -> int:
    strings = extract()
    targets = {p.stem.rsplit("_", 1)[-1] for p in I18N_DIR.glob("os_downloads_*.ts")}
    targets.update(languages)
    write_ts(I18N_DIR / "os_downloads.ts", "en", strings)  # template for new languages
    for language in sorted(targets):
        write_ts(I18N_DIR / f"os_downloads_{language}.ts", language, strings)
    print(f"{len(strings)} strings; languages: {', '.join(sorted(targets)) or 'template only'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
