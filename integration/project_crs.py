"""Keep the project on the British National Grid while OS data load (main thread).

QGIS gives an empty project the CRS of the first layer added: Zoomstack's
vector tiles (EPSG:3857) would turn it into Web Mercator. ``pin_bng`` sets
EPSG:27700 on a project without layers *before* the first layer is added,
and ``keep_bng`` puts it back should QGIS's first-layer set-up change it
once the layer tree has been drawn. A project that already has layers keeps
whatever CRS its user chose.

``prefer_transforms`` writes a coordinate operation for 27700 to and from
WGS 84 (4326), Web Mercator (3857) and ETRS89 (4258) into the project's
transform context: the most accurate one PROJ can use here (OSTN15's grid
when it is installed, else the best Helmert), so QGIS never has to warn that
its preferred operation is unavailable. Pairs the user set are left alone.
"""

from __future__ import annotations

from functools import cache
from typing import List, Optional, Tuple

from qgis.core import QgsCoordinateReferenceSystem, QgsDatumTransform, QgsProject
from qgis.PyQt.QtCore import QTimer

from .log import plugin_logger

log = plugin_logger("crs")

BNG = "EPSG:27700"
PARTNERS = ("EPSG:4326", "EPSG:3857", "EPSG:4258")


def pin_bng(project: QgsProject) -> bool:
    """EPSG:27700 for a project with no layers yet; True when the project is (now) on it."""
    if not project.mapLayers() and project.crs().authid() != BNG:
        project.setCrs(QgsCoordinateReferenceSystem(BNG))
        log.info("Project set to British National Grid (EPSG:27700)")
    return project.crs().authid() == BNG


def keep_bng(project: QgsProject) -> None:
    """Back to EPSG:27700 now and once pending layer-tree updates have run."""

    def restore() -> None:
        try:
            if project.crs().authid() != BNG:
                project.setCrs(QgsCoordinateReferenceSystem(BNG))
                log.info("Project kept on British National Grid (EPSG:27700)")
        except RuntimeError:  # the project was deleted meanwhile
            pass

    restore()
    QTimer.singleShot(0, restore)


@cache
def best_operation(source: str, dest: str) -> Optional[str]:
    """The PROJ string of the most accurate operation usable on this machine (asked of
    PROJ once per pair and session: the grids installed do not change meanwhile)."""
    src, dst = QgsCoordinateReferenceSystem(source), QgsCoordinateReferenceSystem(dest)
    usable: List[Tuple[float, str]] = []
    for details in QgsDatumTransform.operations(src, dst):
        if details.isAvailable and details.proj:
            accuracy = details.accuracy if details.accuracy > 0 else 1e9
            usable.append((accuracy, details.proj))
    return min(usable)[1] if usable else None


def prefer_transforms(project: QgsProject) -> int:
    """Set the usable operations for BNG <-> PARTNERS; returns how many were added."""
    context = project.transformContext()
    existing = context.coordinateOperations()
    bng = QgsCoordinateReferenceSystem(BNG)
    added = 0
    for partner in PARTNERS:
        other = QgsCoordinateReferenceSystem(partner)
        for src, dst in ((bng, other), (other, bng)):
            if (src.authid(), dst.authid()) in existing:
                continue
            proj = best_operation(src.authid(), dst.authid())
            if proj and context.addCoordinateOperation(src, dst, proj, True):
                added += 1
    if added:
        project.setTransformContext(context)
    return added
