"""The Processing algorithms, run as a model, a batch or a script would run them.

Each algorithm goes through ``processing.run`` against the replica; one also
through ``qgis_process.bin run`` in a fresh profile with the plugin enabled,
as a scheduled job would call it. Tests read what a user gets: the outputs,
the files on disk, the layers in the project, the error message.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import List

import pytest
from qgis.core import (
    QgsApplication,
    QgsProcessingException,
    QgsProcessingFeedback,
    QgsProcessingParameterEnum,
    QgsProject,
)

ROOT = Path(__file__).resolve().parents[2]
SMALL_PRODUCT = "OpenUSRN"  # one GeoPackage zip in the replica
TOPOGRAPHY = "0040154231"  # replica package: FULL 6307037, COU 6307152, COU 6307290


class RecordingFeedback(QgsProcessingFeedback):
    """Keeps what the algorithm told the user."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: List[str] = []

    def pushInfo(self, info: str) -> None:  # noqa: N802
        self.lines.append(info)
        super().pushInfo(info)

    def reportError(self, error: str, fatalError: bool = False) -> None:  # noqa: N802, N803
        self.lines.append(error)
        super().reportError(error, fatalError)

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


@pytest.fixture(scope="module")
def provider(qgis_processing, tmp_path_factory):
    """The provider without a cached product list: parameters are plain strings."""
    from os_downloads.processing_provider.provider import PROVIDER_ID, OSDownloadsProvider

    registry = QgsApplication.processingRegistry()
    existing = registry.providerById(PROVIDER_ID)
    if existing is not None:
        registry.removeProvider(existing)
    added = OSDownloadsProvider(
        refresh_in_background=False,
        catalogue_path=tmp_path_factory.mktemp("catalogue") / "none.json",
    )
    assert registry.addProvider(added)
    yield added
    registry.removeProvider(added)


@pytest.fixture
def run(provider, plugin_settings):
    """``processing.run`` with the plugin pointed at the replica."""
    import processing

    def run_algorithm(algorithm, parameters, feedback=None):
        return processing.run(algorithm, parameters, feedback=feedback or RecordingFeedback())

    return run_algorithm


def test_the_provider_offers_the_algorithms(provider) -> None:
    ids = sorted(a.id() for a in provider.algorithms())
    assert ids == [
        "os_downloads:checkupdates",
        "os_downloads:downloadpackage",
        "os_downloads:downloadproduct",
        "os_downloads:sync",
        "os_downloads:updateholding",
    ]
    assert provider.name() == "OS Downloads"
    assert not provider.icon().isNull()


def test_download_product(run, tmp_path: Path) -> None:
    feedback = RecordingFeedback()
    result = run(
        "os_downloads:downloadproduct",
        {
            "PRODUCT": SMALL_PRODUCT,
            "FORMAT": "GeoPackage",
            "AREA": "GB",
            "DESTINATION": str(tmp_path),
            "EXTRACT": True,
        },
        feedback,
    )
    folder = Path(result["FOLDER"])
    assert folder == tmp_path / SMALL_PRODUCT / "2026-02" / "GeoPackage" / "GB"
    assert result["VERSION"] == "2026-02"
    manifest = json.loads(Path(result["MANIFEST"]).read_text(encoding="utf-8"))
    assert manifest["id"] == SMALL_PRODUCT and manifest["version"] == "2026-02"
    assert [Path(f).suffix for f in result["FILES"]] == [".gpkg"]
    assert all(Path(f).is_file() and folder in Path(f).parents for f in result["FILES"])
    assert "1 data file(s) found" in feedback.text


def test_choices_come_from_the_product_list_and_layers_load(
    provider, plugin_settings, tmp_path: Path, qgis_new_project
) -> None:
    import processing

    from os_downloads.integration.client_factory import build_client
    from os_downloads.processing_provider.catalogue import refresh_catalogue
    from os_downloads.processing_provider.download_product import DownloadProductAlgorithm

    catalogue = refresh_catalogue(build_client(), tmp_path / "catalogue.json")
    algorithm = DownloadProductAlgorithm(catalogue)
    algorithm.initAlgorithm()
    product = algorithm.parameterDefinition("PRODUCT")
    assert isinstance(product, QgsProcessingParameterEnum) and product.usesStaticStrings()
    assert SMALL_PRODUCT in product.options() and "Terrain50" in product.options()
    assert "Vector Tiles" in algorithm.parameterDefinition("FORMAT").options()
    assert "(MBTiles)" in algorithm.parameterDefinition("SUBFORMAT").options()

    result = processing.run(
        algorithm,
        {
            "PRODUCT": SMALL_PRODUCT,
            "FORMAT": "GeoPackage",
            "DESTINATION": str(tmp_path / "data"),
            "LOAD": True,
        },
    )
    assert result["VERSION"] == "2026-02"
    root = QgsProject.instance().layerTreeRoot()
    group = root.children()[0]
    assert group.name().startswith("OS Open USRN 2026-02")
    layers = [layer.layer() for layer in group.findLayers()]
    assert layers and all(layer.isValid() for layer in layers)
    assert {layer.crs().authid() for layer in layers} == {"EPSG:27700"}
    # the dock's loader: styled and attributed alike
    assert {layer.customProperty("os_downloads/style") for layer in layers} == {"open-usrn"}
    assert all("Contains OS data" in layer.metadata().rights()[0] for layer in layers)


def test_the_product_list_is_fetched_in_the_background_at_load(
    qgis_processing, plugin_settings, tmp_path: Path
) -> None:
    from conftest import wait_until

    from os_downloads.processing_provider.provider import OSDownloadsProvider

    cache = tmp_path / "catalogue.json"
    loading = OSDownloadsProvider(catalogue_path=cache)
    loading.load()  # what the registry does; returns before any network answer
    try:
        product = loading.algorithm("downloadproduct").parameterDefinition("PRODUCT")
        if not cache.exists():  # no cached list yet: plain text
            assert not isinstance(product, QgsProcessingParameterEnum)

        def product_parameter_is_a_list() -> bool:
            definition = loading.algorithm("downloadproduct").parameterDefinition("PRODUCT")
            return isinstance(definition, QgsProcessingParameterEnum)

        wait_until(product_parameter_is_a_list, what="the algorithms rebuilt with the list")
        cached = json.loads(cache.read_text(encoding="utf-8"))["products"]
        assert SMALL_PRODUCT in {p["id"] for p in cached}
    finally:
        loading.unload()


def test_an_unknown_product_fails_with_the_api_message(run, tmp_path: Path) -> None:
    with pytest.raises(QgsProcessingException) as caught:
        run(
            "os_downloads:downloadproduct",
            {"PRODUCT": "NoSuchProduct", "FORMAT": "CSV", "DESTINATION": str(tmp_path)},
        )
    assert "Not found (HTTP 404)" in str(caught.value)
    assert "Traceback" not in str(caught.value)


def test_cancel_through_the_feedback_stops_the_job(run, tmp_path: Path) -> None:
    class CancelAtFirstProgress(RecordingFeedback):
        def setProgressText(self, text: str) -> None:  # noqa: N802
            self.cancel()  # the user presses Cancel as soon as the job reports progress

    feedback = CancelAtFirstProgress()
    with pytest.raises(QgsProcessingException) as caught:
        run(
            "os_downloads:downloadproduct",
            {"PRODUCT": SMALL_PRODUCT, "FORMAT": "GeoPackage", "DESTINATION": str(tmp_path)},
            feedback,
        )
    assert "Cancelled" in str(caught.value)
    assert not list(tmp_path.rglob("*.gpkg"))  # stopped before anything was unzipped


def test_download_package_with_the_key_from_the_auth_manager(
    run, stored_key: str, replica, tmp_path: Path
) -> None:
    feedback = RecordingFeedback()
    result = run(
        "os_downloads:downloadpackage",
        {
            "PACKAGE": TOPOGRAPHY,
            "VERSION": "6307152",
            "AUTHCFG": stored_key,
            "DESTINATION": str(tmp_path),
        },
        feedback,
    )
    assert result["VERSION"] == "6307152"
    assert Path(result["FOLDER"]) == tmp_path / "packages" / TOPOGRAPHY / "6307152"
    assert result["FILES"] and all(Path(f).suffix == ".gml" for f in result["FILES"])
    assert replica.api_key not in feedback.text

    latest = run(
        "os_downloads:downloadpackage",
        {"PACKAGE": TOPOGRAPHY, "DESTINATION": str(tmp_path), "EXTRACT": False},
    )  # no AUTHCFG: the plugin's configured entry; VERSION defaults to latest
    assert latest["VERSION"] == "6307290"
    assert ".gz" in {Path(f).suffix for f in latest["FILES"]}  # not unzipped: the downloads


def test_update_holding_builds_then_applies_a_new_cou(
    run, stored_key: str, replica, tmp_path: Path
) -> None:
    from os_downloads.replica.data.holdings_truth import publish_next_update

    holding = tmp_path / "exeter.gpkg"
    parameters = {"PACKAGE": "0040163512", "HOLDING": str(holding), "AUTHCFG": stored_key}
    first = run("os_downloads:updateholding", parameters)
    assert first["HOLDING"] == str(holding)
    assert first["APPLIED"] == 4 and first["VERSIONS"] == "6401101, 6401102, 6401103, 6401104"
    assert run("os_downloads:updateholding", parameters)["APPLIED"] == 0
    published = publish_next_update(replica, "0040163512")
    feedback = RecordingFeedback()
    second = run("os_downloads:updateholding", parameters, feedback)
    expected = published.truth.changes
    assert second["APPLIED"] == 1
    assert second["INSERTED"] == sum(c["inserted"] for c in expected.values())
    assert second["DELETED"] == sum(c["deleted"] for c in expected.values())
    assert "Applied version 6401105" in feedback.text
    with pytest.raises(QgsProcessingException) as caught:
        run("os_downloads:updateholding", dict(parameters, PACKAGE="0040163520"))
    assert "holds data package 0040163512, not 0040163520" in str(caught.value)


@pytest.mark.skipif(
    importlib.util.find_spec("os_downloads.core.holdings.target") is None,
    reason="needs core PostGIS holding",
)
def test_update_holding_into_postgis_through_a_saved_connection(
    run, stored_key: str, save_connection, postgres_cluster, postgis_database
) -> None:
    import psycopg2
    from postgis_fixtures import server_parts

    from os_downloads.replica.data.holdings_truth import holdings_truth

    database = postgis_database.rsplit("/", 1)[-1]
    save_connection("OSD trust", username="osd_test", **server_parts(postgres_cluster, database))
    parameters = {"PACKAGE": "0040163512", "CONNECTION": "OSD trust", "AUTHCFG": stored_key}
    first = run("os_downloads:updateholding", parameters)  # schema: named after the package
    assert first["WHERE"] == "schema exeter_topography_cou in OSD trust"
    assert first["VERSIONS"] == "6401101, 6401102, 6401103, 6401104"
    truth = holdings_truth("0040163512", "6401104")
    with psycopg2.connect(postgres_cluster.dsn(database)) as conn, conn.cursor() as cursor:
        for feature_class, table in (
            ("TopographicArea", "topographic_area"),
            ("CartographicText", "cartographic_text"),
        ):
            cursor.execute(f"SELECT count(*) FROM exeter_topography_cou.{table}")
            assert cursor.fetchone()[0] == len(truth.features[feature_class]), table
    assert run("os_downloads:updateholding", parameters)["APPLIED"] == 0


def test_update_holding_wants_one_home_and_a_schema_it_can_use(
    run, stored_key: str, save_connection, postgres_cluster, tmp_path: Path
) -> None:
    from postgis_fixtures import server_parts

    save_connection("OSD trust", username="osd_test", **server_parts(postgres_cluster, "x"))
    cases = [
        ({}, "Give the holding: a GeoPackage file, or a PostgreSQL connection"),
        (
            {"HOLDING": str(tmp_path / "x.gpkg"), "CONNECTION": "OSD trust"},
            "either a GeoPackage or a PostgreSQL connection, not both",
        ),
        ({"CONNECTION": "OSD trust", "SCHEMA": "Bad-Name"}, '"Bad-Name" is not a schema name'),
        ({"CONNECTION": "Nobody saved this"}, 'no saved PostgreSQL connection called "Nobody'),
    ]
    for extra, words in cases:
        with pytest.raises(QgsProcessingException) as caught:
            run(
                "os_downloads:updateholding",
                {"PACKAGE": "0040163512", "AUTHCFG": stored_key, **extra},
            )
        assert words in str(caught.value)


def test_download_package_without_any_key_says_where_to_put_one(
    run, monkeypatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("OS_API_KEY", raising=False)
    with pytest.raises(QgsProcessingException) as caught:
        run("os_downloads:downloadpackage", {"PACKAGE": TOPOGRAPHY, "DESTINATION": str(tmp_path)})
    assert "Data packages need an OS Data Hub API key" in str(caught.value)
    assert "AUTHCFG" in str(caught.value)


def test_check_updates_reports_newer_versions_without_downloading(
    run, stored_key: str, replica, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    run(
        "os_downloads:downloadproduct",
        {"PRODUCT": SMALL_PRODUCT, "FORMAT": "GeoPackage", "DESTINATION": str(data)},
    )
    for version in ("6307037", "6307152"):
        run(
            "os_downloads:downloadpackage",
            {"PACKAGE": TOPOGRAPHY, "VERSION": version, "DESTINATION": str(data), "EXTRACT": False},
        )
    replica.publish_product_version(SMALL_PRODUCT, "2099-01")
    replica.request_log.clear()

    report = tmp_path / "updates.json"
    result = run("os_downloads:checkupdates", {"FOLDER": str(data), "OUTPUT": str(report)})
    assert (result["CHECKED"], result["UPDATES"], result["ERRORS"]) == (2, 2, 0)
    rows = {row["id"]: row for row in json.loads(report.read_text(encoding="utf-8"))}
    assert rows[SMALL_PRODUCT]["held_version"] == "2026-02"
    assert rows[SMALL_PRODUCT]["newer_versions"] == ["2099-01"]
    assert rows[TOPOGRAPHY]["held_version"] == "6307152"
    assert rows[TOPOGRAPHY]["newer_versions"] == ["6307290"]
    assert replica.requests("storage") == []  # nothing downloaded

    page = run(
        "os_downloads:checkupdates", {"FOLDER": str(data), "OUTPUT": str(tmp_path / "u.html")}
    )
    assert "2099-01" in Path(page["OUTPUT"]).read_text(encoding="utf-8")


def test_sync_algorithm_fetches_then_reports_nothing_new(
    run, replica, monkeypatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("OS_API_KEY", replica.api_key)
    config = tmp_path / "sync.json"
    config.write_text(
        json.dumps(
            {
                "dest_root": str(tmp_path / "data"),
                "products": [{"id": SMALL_PRODUCT, "format": "GeoPackage"}],
                "packages": [{"id": TOPOGRAPHY}],
            }
        ),
        encoding="utf-8",
    )
    first = run("os_downloads:sync", {"CONFIG": str(config)})
    assert (first["OUTCOME"], first["EXIT_CODE"], first["UPDATED"]) == ("updated", 0, 2)
    assert (tmp_path / "data" / "packages" / TOPOGRAPHY / "6307290").is_dir()
    second = run("os_downloads:sync", {"CONFIG": str(config)})
    assert (second["OUTCOME"], second["EXIT_CODE"], second["UP_TO_DATE"]) == ("nothing new", 10, 2)
    report = json.loads(Path(second["REPORT"]).read_text(encoding="utf-8"))
    assert report["outcome"] == "nothing new"


def test_every_algorithm_closes_the_clients_it_made(
    run, stored_key: str, replica, monkeypatch, tmp_path: Path
) -> None:
    import gc
    import warnings

    monkeypatch.setenv("OS_API_KEY", replica.api_key)
    data = tmp_path / "data"
    config = tmp_path / "sync.json"
    config.write_text(
        json.dumps({"dest_root": str(tmp_path / "synced"), "packages": [{"id": TOPOGRAPHY}]}),
        encoding="utf-8",
    )
    gc.collect()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        run(
            "os_downloads:downloadproduct",
            {"PRODUCT": SMALL_PRODUCT, "FORMAT": "GeoPackage", "DESTINATION": str(data)},
        )
        run(
            "os_downloads:downloadpackage",
            {"PACKAGE": TOPOGRAPHY, "VERSION": "6307037", "DESTINATION": str(data)},
        )
        run("os_downloads:checkupdates", {"FOLDER": str(data), "OUTPUT": str(tmp_path / "u.json")})
        run("os_downloads:sync", {"CONFIG": str(config)})
        gc.collect()

    unclosed = [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]
    assert [m for m in unclosed if "socket" in m] == []


# --- qgis_process, as a scheduled job calls it ---------------------------------------------


def qgis_profile(root: Path) -> Path:
    """A fresh QGIS profile with the plugin linked in and enabled."""
    plugins = root / "profiles" / "default" / "python" / "plugins"
    plugins.mkdir(parents=True)
    (plugins / "os_downloads").symlink_to(ROOT, target_is_directory=True)
    ini = root / "profiles" / "default" / "QGIS" / "QGIS3.ini"
    ini.parent.mkdir(parents=True)
    ini.write_text("[PythonPlugins]\nos_downloads=true\n", encoding="utf-8")
    return root


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("qgis_process.bin") is None, reason="needs qgis_process.bin")
def test_qgis_process_runs_download_product(replica, tmp_path: Path) -> None:
    runtime = tmp_path / "xdg"
    runtime.mkdir(mode=0o700)
    env = dict(
        os.environ,
        QGIS_CUSTOM_CONFIG_PATH=str(qgis_profile(tmp_path / "qgis")),
        OS_DOWNLOADS_API_URL=replica.api_url,
        QT_QPA_PLATFORM="offscreen",
        XDG_RUNTIME_DIR=str(runtime),
    )
    dest = tmp_path / "data"
    command = [
        "qgis_process.bin",
        "--json",
        "run",
        "os_downloads:downloadproduct",
        "--",
        f"PRODUCT={SMALL_PRODUCT}",
        "FORMAT=GeoPackage",
        "AREA=GB",
        f"DESTINATION={dest}",
    ]
    done = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=180, stdin=subprocess.DEVNULL
    )
    assert done.returncode == 0, done.stderr[-2000:]
    results = json.loads(done.stdout[done.stdout.index("{") :])["results"]
    assert results["VERSION"] == "2026-02"
    assert Path(results["FOLDER"]) == dest / SMALL_PRODUCT / "2026-02" / "GeoPackage" / "GB"
    assert [Path(f).suffix for f in results["FILES"]] == [".gpkg"]
