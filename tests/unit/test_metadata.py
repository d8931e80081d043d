"""metadata.txt is what QGIS and plugins.qgis.org read: complete, valid, consistent."""

from __future__ import annotations

import configparser
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Dict

import pytest

from os_downloads import core

ROOT = Path(__file__).resolve().parents[2]

REQUIRED = (
    "name",
    "qgisMinimumVersion",
    "qgisMaximumVersion",
    "description",
    "about",
    "version",
    "author",
    "email",
    "homepage",
    "repository",
    "tracker",
    "license",
    "tags",
    "category",
    "icon",
    "changelog",
    "experimental",
    "hasProcessingProvider",
)


@pytest.fixture(scope="module")
def metadata() -> Dict[str, str]:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # QGIS's keys are case-sensitive
    with open(ROOT / "metadata.txt", encoding="utf-8") as handle:
        parser.read_file(handle)
    return dict(parser["general"])


def test_every_required_key_is_present_and_filled(metadata: Dict[str, str]) -> None:
    missing = [key for key in REQUIRED if not metadata.get(key, "").strip()]
    assert not missing, f"metadata.txt lacks {missing}"


def test_versions_supported(metadata: Dict[str, str]) -> None:
    assert metadata["qgisMinimumVersion"] == "3.22"
    assert metadata["qgisMaximumVersion"] == "4.99"
    # supportsQt6 is deprecated on plugins.qgis.org: qgisMaximumVersion=4.99 says it.
    assert "supportsQt6" not in metadata


def test_version_matches_core(metadata: Dict[str, str]) -> None:
    assert metadata["version"] == core.__version__
    assert re.fullmatch(r"\d+\.\d+\.\d+", metadata["version"])
    assert metadata["version"] in metadata["changelog"]


def test_licence_is_gpl2_or_later(metadata: Dict[str, str]) -> None:
    assert metadata["license"] == "GPL-2.0-or-later"
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert "GNU GENERAL PUBLIC LICENSE" in text and "Version 2, June 1991" in text
    assert "any later version" in text


def test_about_discloses_the_external_services(metadata: Dict[str, str]) -> None:
    about = metadata["about"]
    assert "api.os.uk" in about
    assert "isd.digital.nhs.uk" in about
    assert "API key" in about


def test_about_says_who_does_not_make_it_and_names_the_helper_programs(
    metadata: Dict[str, str],
) -> None:
    about = " ".join(metadata["about"].split())
    assert "not made, endorsed or supported by Ordnance Survey or by NHS England" in about
    assert all(program in about for program in ("gpgv", "gpg", "unzip"))


def test_texts_are_plain_english_ascii(metadata: Dict[str, str]) -> None:
    for key in ("name", "description", "about"):
        assert metadata[key].isascii(), f"{key} has non-ASCII characters"
    assert metadata["name"] == "OS Downloads"


def test_links_are_https(metadata: Dict[str, str]) -> None:
    for key in ("homepage", "repository", "tracker"):
        assert metadata[key].startswith("https://"), key
    assert "@" in metadata["email"]


def test_category_and_flags(metadata: Dict[str, str]) -> None:
    assert metadata["category"] in ("Raster", "Vector", "Database", "Mesh", "Web")
    assert metadata["experimental"] in ("True", "False")
    assert metadata["hasProcessingProvider"] in ("yes", "no")


def test_icon_is_a_valid_svg(metadata: Dict[str, str]) -> None:
    icon = ROOT / metadata["icon"]
    assert icon.is_file()
    root = ET.parse(icon).getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"


def test_class_factory_is_exposed() -> None:
    import os_downloads

    assert callable(os_downloads.classFactory)
