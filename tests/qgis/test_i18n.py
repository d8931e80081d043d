"""Translations: the extracted .ts compiles, and a compiled language changes what tr() says."""

from __future__ import annotations

import shutil
import subprocess
import xml.etree.ElementTree as ET

import pytest

from os_downloads.i18n import CONTEXT, install_translator, remove_translator, tr


def test_template_lists_the_dock_strings_in_one_context(tmp_path):
    from os_downloads.i18n import update_translations

    template = tmp_path / "os_downloads.ts"
    update_translations.write_ts(template, "en", update_translations.extract())
    root = ET.parse(template).getroot()
    assert [c.findtext("name") for c in root.iter("context")] == [CONTEXT]
    sources = {m.findtext("source") for m in root.iter("message")}
    assert {"Download and load", "My data packages", "OS OpenData"} <= sources


@pytest.mark.skipif(shutil.which("lrelease") is None, reason="Qt's lrelease is not installed")
def test_a_compiled_translation_is_used(tmp_path):
    ts = tmp_path / "os_downloads_fr.ts"
    ts.write_text(
        '<?xml version="1.0" encoding="utf-8"?><!DOCTYPE TS><TS version="2.1" language="fr">'
        f"<context><name>{CONTEXT}</name><message><source>Download and load</source>"
        "<translation>Télécharger et charger</translation></message></context></TS>",
        encoding="utf-8",
    )
    subprocess.run(["lrelease", str(ts)], check=True, capture_output=True)
    translator = install_translator("fr", tmp_path)
    try:
        assert translator is not None
        assert tr("Download and load") == "Télécharger et charger"
    finally:
        remove_translator(translator)
    assert tr("Download and load") == "Download and load"
