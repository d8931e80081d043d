"""Licence and attribution for every layer we load, and ``@os_attribution`` for layouts.

Each source has its wording (research: cartography-and-ux.md §6): OS OpenData
under the Open Government Licence, the partner's statement for BGS products,
the premium licence for data packages, TRUD's for NHS tables. The statement
goes into the layer's metadata (rights and licences, which the layer's
Properties > Metadata page and ``QgsLayerMetadata`` show) and a custom
property; the project variable ``os_attribution`` collects the statements of
the layers in the project, one per line, for a layout's label
(``[% @os_attribution %]``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Iterable, List, Optional, Tuple

from qgis.core import QgsExpressionContextUtils, QgsMapLayer, QgsProject

from ..core.engine.manifest import SOURCE_OPENDATA, SOURCE_PACKAGE, SOURCE_TRUD, Manifest

OGL_NAME = "Open Government Licence v3.0"
OGL_URL = "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"
PROJECT_VARIABLE = "os_attribution"
PROPERTY = "os_downloads/attribution"

OS_OPENDATA = "Contains OS data © Crown copyright and database right {year}"
ROYAL_MAIL = "Contains Royal Mail data © Royal Mail copyright and database right {year}"
NATIONAL_STATISTICS = (
    "Contains National Statistics data © Crown copyright and database right {year}"
)
BGS = "Contains British Geological Survey materials © UKRI {year}"
OS_PREMIUM = "© Crown copyright and database rights {year} Ordnance Survey"
PREMIUM_LICENCE = (
    "OS premium data: used under your organisation's licence with Ordnance Survey "
    "(add its licence number to the statement on your maps)"
)
TRUD = "Source: NHS England, Technology Reference data Update Distribution (TRUD) {year}"
TRUD_LICENCE = (
    "The licence accepted for this item on NHS TRUD (ODS data: " + OGL_NAME + " " + OGL_URL + ")"
)

# OpenData products whose data include postcodes: Royal Mail's and ONS's statements too.
WITH_POSTCODES = frozenset({"CodePointOpen", "OpenNames"})


@dataclass(frozen=True)
class Attribution:
    """What a map made from the layer must say, and under which licence."""

    statements: Tuple[str, ...]
    licence: str
    url: str = ""

    @property
    def text(self) -> str:
        return "; ".join(self.statements)


def year_of(version: str, fallback: Optional[int] = None) -> int:
    """The data's year from a version such as "2025-10" or "E117 January 2026 Update"."""
    found = re.search(r"(?<!\d)(19|20)\d\d(?!\d)", version or "")
    return int(found.group(0)) if found else (fallback or date.today().year)


def is_bgs(manifest: Manifest) -> bool:
    """BGS's partner products: their names and ids carry BGS or its datasets' names."""
    text = f"{manifest.id} {manifest.name}"
    return "BGS" in text or any(k in text for k in ("GeoSure", "GeoClimate", "Radon"))


def attribution_for(manifest: Optional[Manifest]) -> Attribution:
    """The statement and licence for data described by ``manifest`` (None: OS OpenData)."""
    if manifest is None:
        return Attribution((OS_OPENDATA.format(year=date.today().year),), OGL_NAME, OGL_URL)
    created = str((manifest.extra or {}).get("created_on", "") or "")
    year = year_of(created or manifest.product_version or manifest.version)
    if manifest.source == SOURCE_PACKAGE:
        return Attribution((OS_PREMIUM.format(year=year),), PREMIUM_LICENCE)
    if manifest.source == SOURCE_TRUD:
        return Attribution((TRUD.format(year=year),), TRUD_LICENCE)
    if manifest.source == SOURCE_OPENDATA and is_bgs(manifest):
        return Attribution((BGS.format(year=year),), OGL_NAME, OGL_URL)
    statements = [OS_OPENDATA.format(year=year)]
    if manifest.id in WITH_POSTCODES:
        statements += [ROYAL_MAIL.format(year=year), NATIONAL_STATISTICS.format(year=year)]
    return Attribution(tuple(statements), OGL_NAME, OGL_URL)


def product_attribution(product_id: str, name: str = "", version: str = "") -> Attribution:
    """The statement and licence of an OpenData product before it is downloaded
    (the dock's details pane shows them with the licence's link)."""
    return attribution_for(Manifest(SOURCE_OPENDATA, product_id, name, version))


def trud_attribution(release_text: str = "") -> Attribution:
    """NHS TRUD's statement, dated by the release (its name or date in ``release_text``)."""
    return Attribution((TRUD.format(year=year_of(release_text)),), TRUD_LICENCE)


def apply_attribution(layer: QgsMapLayer, attribution: Attribution) -> None:
    """The statement as the layer's rights, the licence (and its link) as its licence."""
    metadata = layer.metadata()
    rights = [s for s in metadata.rights() if s not in attribution.statements]
    metadata.setRights(list(attribution.statements) + rights)
    licence = f"{attribution.licence} {attribution.url}".strip()
    metadata.setLicenses([licence] + [x for x in metadata.licenses() if x != licence])
    layer.setMetadata(metadata)
    layer.setCustomProperty(PROPERTY, attribution.text)


def project_attribution(layers: Iterable[QgsMapLayer]) -> str:
    """Each distinct statement of ``layers`` once, in order, one per line."""
    seen: List[str] = []
    for layer in layers:
        text = str(layer.customProperty(PROPERTY, "") or "")
        for statement in (s.strip() for s in text.split(";")):
            if statement and statement not in seen:
                seen.append(statement)
    return "\n".join(seen)


def update_project_variable(project: QgsProject) -> str:
    """Set ``@os_attribution`` from the project's layers (tree order); returns it."""
    ordered = [node.layer() for node in project.layerTreeRoot().findLayers() if node.layer()]
    loose = [lyr for lyr in project.mapLayers().values() if lyr not in ordered]
    text = project_attribution(ordered + loose)
    QgsExpressionContextUtils.setProjectVariable(project, PROJECT_VARIABLE, text)
    return text
