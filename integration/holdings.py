"""The dock's "Keep up to date in one GeoPackage": a holding updated in a QgsTask.

``HoldingService.start(package_id, path)`` builds the client on the main thread,
runs ``core.holdings.update.update_holding`` in a ``JobTask`` (progress per
phase: download, then apply; cancellable: a version being applied is rolled
back), then on the main thread loads the holding's tables in one group, or,
when they are already in the project, reloads those layers in place so the map
shows the new state (deleted features gone, moved ones moved).

The holding chosen for a package is remembered (``remembered_path``).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, List, Optional

from qgis.core import QgsProject, QgsSettings, QgsVectorLayer
from qgis.PyQt.QtCore import QObject, pyqtSignal

from ..core.errors import Cancelled, OSDownloadsError, describe
from ..i18n import tr
from . import settings as plugin_settings
from . import task as tasks
from .client_factory import build_client, closing_client, require_credentials
from .layer_sources import DEFAULT_CRS, TABLE, VECTOR, LayerSource
from .layers import LoadReport, add_layers
from .log import plugin_logger

log = plugin_logger("holdings")

SETTINGS_KEY = "os_downloads/holdings/{package}"
PHASE_APPLY = "apply"


def remembered_path(package_id: str) -> str:
    return str(QgsSettings().value(SETTINGS_KEY.format(package=package_id), "") or "")


def remembered_paths() -> List[str]:
    """Every holding path remembered, whichever package."""
    settings = QgsSettings()
    settings.beginGroup(SETTINGS_KEY.split("/{", 1)[0])
    try:
        keys = settings.childKeys()
        return [p for p in (str(settings.value(k, "") or "") for k in keys) if p]
    finally:
        settings.endGroup()


def remember_path(package_id: str, path: str) -> None:
    QgsSettings().setValue(SETTINGS_KEY.format(package=package_id), str(path))


@dataclass
class HoldingOutcome:
    title: str
    path: Path
    task: tasks.JobTask
    result: Any = None  # core.holdings.update.UpdateResult
    error: Optional[BaseException] = None
    report: Optional[LoadReport] = None
    refreshed: List[QgsVectorLayer] = None  # type: ignore[assignment]

    @property
    def ok(self) -> bool:
        return self.error is None and self.result is not None

    @property
    def cancelled(self) -> bool:
        return isinstance(self.error, Cancelled)


class HoldingService(QObject):
    started = pyqtSignal(object)  # JobTask
    ended = pyqtSignal(object)  # HoldingOutcome

    def start(self, package_id: str, path: str, *, title: str = "") -> tasks.JobTask:
        values = plugin_settings.load()
        cancel = threading.Event()
        client = require_credentials(build_client(values, cancel=cancel))
        holding = Path(path)
        title = title or package_id

        def job(progress: Callable[[Any], None], event: threading.Event) -> Any:
            from ..core.holdings.update import update_holding

            with closing_client(client):
                return update_holding(
                    client,
                    package_id,
                    holding,
                    workers=values.workers,
                    progress=progress,
                    cancel=event,
                )

        def done(task: tasks.JobTask) -> None:
            client.close()
            self._finish(task, title, holding)

        description = tr("OS Downloads: keep {title} up to date in {file}").format(
            title=title, file=holding.name
        )
        task = tasks.JobTask(description, job, on_done=done, cancel_event=cancel)
        tasks.start(task)
        self.started.emit(task)
        return task

    def _finish(self, task: tasks.JobTask, title: str, path: Path) -> None:
        outcome = HoldingOutcome(title, path, task, refreshed=[])
        if task.ok:
            outcome.result = task.result
            outcome.refreshed = refresh_layers(path)
            if not outcome.refreshed:
                outcome.report = load_holding(path, title)
        else:
            outcome.error = task.error or Cancelled()
        self.ended.emit(outcome)


def _same_file(source: str, path: Path) -> bool:
    file_part = source.split("|", 1)[0]
    try:
        return Path(file_part).resolve() == path.resolve()
    except OSError:
        return False


def refresh_layers(path: Path, project: Optional[QgsProject] = None) -> List[QgsVectorLayer]:
    """Reload the project's layers of this holding in place; the layers reloaded."""
    project = project or QgsProject.instance()
    found = []
    for layer in project.mapLayers().values():
        if isinstance(layer, QgsVectorLayer) and _same_file(layer.source(), path):
            layer.dataProvider().reloadData()
            layer.reload()
            layer.updateExtents()
            layer.triggerRepaint()
            found.append(layer)
    return found


def load_holding(path: Path, title: str) -> LoadReport:
    """The holding's tables (from gpkg_contents) as layers in one group."""
    return add_layers(table_sources(path), holding_group_name(path, title))


def holding_group_name(path: Path, title: str) -> str:
    return tr("{title} (holding {file})").format(title=title, file=Path(path).name)


def holding_text(outcome: HoldingOutcome) -> str:
    """The message bar's line when a holding update ends."""
    if outcome.cancelled:
        return tr("{title}: cancelled; the holding is left at its last complete version.").format(
            title=outcome.title
        )
    if not outcome.ok:
        return describe(outcome.error or RuntimeError())
    result = outcome.result
    if not result.applied:
        text = tr("{file} is up to date (version {version}).").format(
            file=outcome.path.name, version=result.held[-1] if result.held else "?"
        )
    else:
        totals = {"inserted": 0, "updated": 0, "deleted": 0}
        for applied in result.applied:
            for name, count in applied.totals().items():
                if name in totals:
                    totals[name] += count
        text = tr(
            "{file}: applied {count} version(s), {i} inserted, {u} updated, {d} deleted."
        ).format(
            file=outcome.path.name,
            count=len(result.applied),
            i=totals["inserted"],
            u=totals["updated"],
            d=totals["deleted"],
        )
    if outcome.refreshed:
        text += " " + tr("{count} layer(s) refreshed.").format(count=len(outcome.refreshed))
    elif outcome.report is not None and outcome.report.layers:
        text += " " + tr('Loaded {count} layer(s) into "{group}".').format(
            count=outcome.report.layer_count, group=outcome.report.group_name
        )
    return text


# --- a plain "Download and load" of a premium package version ---------------------------


def is_holding_product(product_id: str, product_name: str = "") -> bool:
    """MasterMap Topography or AddressBase Premium: the products a holding can hold."""
    from ..core.holdings.update import product_kind

    return bool(product_kind(product_id, product_name))


def package_version_sources(
    result: Any, cancel: Optional[threading.Event] = None
) -> Optional[List[LayerSource]]:
    """Worker thread: the layers for a downloaded MasterMap/ABP version, or None for others.

    A full supply is read by the holding's readers into one GeoPackage beside its
    files (``<package>-<version>.gpkg``, made once), so "Download and load" gives
    the same tables as a holding: one per feature class or record type, every
    column, BLPU as points, repeated features once. A change-only update is left
    to the plain loader (its group is labelled change-only: the changes alone, not
    a dataset); so is a supply the readers refuse (the reason goes to the log).
    """
    from ..core.api.models import SUPPLY_COU, normalise_supply_type

    manifest = result.manifest
    product_name = str((manifest.extra or {}).get("product_name", "") or "")
    if not is_holding_product(manifest.product_id or "", product_name):
        return None
    if normalise_supply_type(manifest.supply_type) == SUPPLY_COU:
        return None
    try:
        return table_sources(_full_supply_geopackage(result, cancel))
    except Cancelled:
        raise
    except OSDownloadsError as err:
        log.warning("Loading %s as downloaded: %s", manifest.id, describe(err))
        return None


def _full_supply_geopackage(result: Any, cancel: Optional[threading.Event]) -> Path:
    from ..core.holdings.holding import AppliedVersion, Holding, HoldingInfo, attribution
    from ..core.holdings.update import apply_version, detect_kind

    manifest = result.manifest
    target = Path(result.folder) / f"{manifest.id}-{manifest.version}.gpkg"
    if not target.exists():
        part = target.with_name(target.name + ".part")
        if part.exists():
            part.unlink()
        files = sorted(Path(p) for p in result.files)
        created = str((manifest.extra or {}).get("created_on", "") or "")
        info = HoldingInfo(
            package_id=manifest.id,
            package_name=manifest.name,
            product_id=manifest.product_id or "",
            product_name=str((manifest.extra or {}).get("product_name", "") or ""),
            kind=detect_kind(
                manifest.product_id or "",
                files,
                str((manifest.extra or {}).get("product_name", "")),
            ),
            attribution=attribution(created[:4]),
            created_at="",
        )
        try:
            with Holding.open(part, create=True) as holding:
                version = AppliedVersion(
                    manifest.version, created, "FULL", manifest.reason or "", "", ""
                )
                apply_version(holding, info, version, files, cancel=cancel)
        except BaseException:
            part.unlink(missing_ok=True)
            raise
        part.replace(target)  # never a half-built GeoPackage under its final name
    return target


def table_sources(path: Path) -> List[LayerSource]:
    import sqlite3

    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        rows = conn.execute(
            "SELECT table_name, data_type FROM gpkg_contents ORDER BY table_name"
        ).fetchall()
    finally:
        conn.close()
    return [
        LayerSource(
            name=table,
            uri=f"{path}|layername={table}",
            provider="ogr",
            kind=VECTOR if kind == "features" else TABLE,
            crs=DEFAULT_CRS,
            origin=str(path),
        )
        for table, kind in rows
    ]
