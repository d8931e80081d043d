"""The dock's "Keep up to date": a holding updated in a QgsTask, in a GeoPackage or PostGIS.

``HoldingService.start(package_id, home)`` builds the client on the main
thread (and, for a PostGIS home, the connection's conninfo with its password
from the Authentication Manager, in memory only), runs
``core.holdings.update.update_holding`` in a ``JobTask`` (progress per phase:
download, then apply; cancellable: a version being applied is rolled back),
then on the main thread loads the holding's tables in one group, or, when they
are already in the project, reloads those layers in place so the map shows the
new state (deleted features gone, moved ones moved).

Where each package's holding is kept is remembered (``holding_homes``).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, List, Optional, Sequence, Union

from qgis.core import QgsProject, QgsVectorLayer
from qgis.PyQt.QtCore import QObject, pyqtSignal

from ..core.engine.manifest import SOURCE_PACKAGE, Manifest
from ..core.errors import Cancelled, OSDownloadsError, describe
from ..i18n import tr
from . import settings as plugin_settings
from . import task as tasks
from .client_factory import build_client, closing_client, require_credentials
from .holding_homes import (  # noqa: F401 - the names the dock and tests import from here
    SETTINGS_KEY,
    HoldingHome,
    remember_home,
    remember_path,
    remembered_home,
    remembered_path,
    remembered_paths,
)
from .layer_sources import DEFAULT_CRS, TABLE, VECTOR, LayerSource
from .layers import LoadReport, add_layers
from .log import plugin_logger

log = plugin_logger("holdings")

PHASE_APPLY = "apply"


@dataclass
class HoldingOutcome:
    title: str
    path: Optional[Path]  # the GeoPackage; None for a PostGIS home
    task: tasks.JobTask
    result: Any = None  # core.holdings.update.UpdateResult
    error: Optional[BaseException] = None
    report: Optional[LoadReport] = None
    refreshed: List[QgsVectorLayer] = None  # type: ignore[assignment]
    home: HoldingHome = field(default_factory=HoldingHome)

    @property
    def ok(self) -> bool:
        return self.error is None and self.result is not None

    @property
    def cancelled(self) -> bool:
        return isinstance(self.error, Cancelled)

    @property
    def where(self) -> str:
        return self.home.label if self.home.is_postgis else Path(self.path or "").name


class HoldingService(QObject):
    started = pyqtSignal(object)  # JobTask
    ended = pyqtSignal(object)  # HoldingOutcome

    def start(
        self, package_id: str, home: Union[str, HoldingHome], *, title: str = ""
    ) -> tasks.JobTask:
        """Update the holding of ``package_id`` kept in ``home`` (a GeoPackage path or a
        ``HoldingHome``), then load or refresh its layers."""
        if not isinstance(home, HoldingHome):
            home = HoldingHome.geopackage(str(home))
        values = plugin_settings.load()
        cancel = threading.Event()
        title = title or package_id
        if home.is_postgis:
            from .postgres_connections import connection_uri, holding_target

            connection = connection_uri(home.connection)  # a clear error when it is gone
            into: Any = holding_target(home.connection, home.schema)  # password: memory only
            downloads: Optional[Path] = values.download_root
        else:
            connection, into, downloads = None, Path(home.path), None
        client = require_credentials(build_client(values, cancel=cancel))
        planned: List[HoldingLayers] = []

        def job(progress: Callable[[Any], None], event: threading.Event) -> Any:
            from ..core.holdings.update import update_holding

            extra = {"downloads": downloads} if home.is_postgis else {}
            with closing_client(client):
                result = update_holding(
                    client,
                    package_id,
                    into,
                    workers=values.workers,
                    progress=progress,
                    cancel=event,
                    **extra,
                )
            # The layers to load, planned here off the main thread (used unless the
            # holding's layers are in the project already: then they are reloaded).
            # The update is done: a failure here only means nothing is loaded now.
            try:
                planned.append(plan_holding_layers(home, into=into, connection=connection))
            except Exception as err:  # noqa: BLE001 - logged; the holding is up to date
                log.warning("The holding's layers were not loaded: %s", describe(err))
            return result

        def done(task: tasks.JobTask) -> None:
            client.close()
            self._finish(task, title, home, connection, planned)

        description = tr("OS Downloads: keep {title} up to date in {file}").format(
            title=title, file=home.label
        )
        task = tasks.JobTask(description, job, on_done=done, cancel_event=cancel)
        tasks.start(task)
        self.started.emit(task)
        return task

    def _finish(
        self,
        task: tasks.JobTask,
        title: str,
        home: HoldingHome,
        connection: Any,
        planned: List[HoldingLayers],
    ) -> None:
        path = None if home.is_postgis else Path(home.path)
        outcome = HoldingOutcome(title, path, task, refreshed=[], home=home)
        if task.ok:
            outcome.result = task.result
            if path is not None:
                outcome.refreshed = refresh_layers(path)
            else:
                from .postgis_holdings import refresh_postgis_layers

                outcome.refreshed = refresh_postgis_layers(connection, home.schema)
            if not outcome.refreshed and planned:
                outcome.report = add_holding_layers(planned[0], home, title)
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


@dataclass
class HoldingLayers:
    """A holding's tables as layer sources, and the package it holds (for the layers'
    attribution, premium data's, and the product's styles)."""

    sources: List[LayerSource]
    manifest: Optional[Manifest]


def plan_holding_layers(
    home: HoldingHome, *, into: Any = None, connection: Any = None
) -> HoldingLayers:
    """Worker thread: what ``add_holding_layers`` adds. A PostGIS home needs its target
    (``into``: ``postgres_connections.holding_target``) and the saved connection's
    ``QgsDataSourceUri`` (``connection``)."""
    from ..core.holdings.status import holding_status

    if home.is_postgis:
        from .postgis_holdings import postgis_sources

        sources = postgis_sources(into, connection)
        status = holding_status(into)
    else:
        sources = table_sources(Path(home.path))
        status = holding_status(Path(home.path))
    return HoldingLayers(sources, holding_manifest(status.info, status.versions))


def holding_manifest(info: Any, versions: Sequence[Any]) -> Optional[Manifest]:
    """The holding as a data package's manifest: premium attribution dated by its newest
    version, and the product its tables are styled as."""
    if info is None:
        return None
    newest = versions[-1] if versions else None
    return Manifest(
        SOURCE_PACKAGE,
        info.package_id,
        info.package_name,
        newest.version_id if newest else "",
        product_id=info.product_id,
        product_version=newest.product_version if newest else None,
        extra={
            "created_on": newest.created_on if newest else "",
            "product_name": info.product_name,
        },
    )


def add_holding_layers(
    planned: HoldingLayers, home: Union[Path, str, HoldingHome], title: str, *, again=False
) -> LoadReport:
    """Main thread: the holding's tables as layers in one group."""
    return add_layers(
        planned.sources, holding_group_name(home, title), manifest=planned.manifest, again=again
    )


def load_holding(path: Path, title: str) -> LoadReport:
    """A GeoPackage holding's tables (from gpkg_contents) as layers in one group."""
    home = HoldingHome.geopackage(str(path))
    return add_holding_layers(plan_holding_layers(home), home, title)


def holding_group_name(home: Union[Path, str, HoldingHome], title: str) -> str:
    """ "Exeter Topography (holding exeter.gpkg)"; PostGIS: "(holding schema x in team)"."""
    if not isinstance(home, HoldingHome):
        home = HoldingHome.geopackage(str(home))
    return tr("{title} (holding {file})").format(title=title, file=home.label)


def holding_text(outcome: HoldingOutcome) -> str:
    """The message bar's line when a holding update ends."""
    if outcome.cancelled:
        return tr("{title}: cancelled; the holding is left at its last complete version.").format(
            title=outcome.title
        )
    if not outcome.ok:
        if outcome.home.is_postgis:
            from .postgis_holdings import postgis_error_text

            return postgis_error_text(outcome.error or RuntimeError())
        return describe(outcome.error or RuntimeError())
    result = outcome.result
    if not result.applied:
        text = tr("{file} is up to date (version {version}).").format(
            file=outcome.where, version=result.held[-1] if result.held else "?"
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
            file=outcome.where,
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
