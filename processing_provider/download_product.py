"""``os_downloads:downloadproduct``: one OpenData product, in one format and area."""

from __future__ import annotations

from typing import Any, Dict, Optional

from qgis.core import QgsProcessingContext, QgsProcessingFeedback

from ..core.sources.os_products import fetch_product
from ..i18n import tr
from .catalogue import Catalogue, load_catalogue
from .common import choice_parameter, choice_value
from .outputs import DownloadAlgorithm


class DownloadProductAlgorithm(DownloadAlgorithm):
    PRODUCT = "PRODUCT"
    FORMAT = "FORMAT"
    SUBFORMAT = "SUBFORMAT"
    AREA = "AREA"

    def __init__(self, catalogue: Optional[Catalogue] = None) -> None:
        super().__init__()
        self.catalogue = catalogue

    def createInstance(self) -> DownloadProductAlgorithm:
        return DownloadProductAlgorithm(self.catalogue)

    def name(self) -> str:
        return "downloadproduct"

    def displayName(self) -> str:
        return tr("Download OS OpenData product")

    def shortHelpString(self) -> str:
        return tr(
            "Downloads an Ordnance Survey OpenData product (no key needed) in one format "
            "and area, checks every file's MD5 and unzips it into its own folder under the "
            "destination (product/version/format/area). Files already there with the right "
            "MD5 are not fetched again.\n\n"
            "PRODUCT, FORMAT, SUBFORMAT and AREA take the API's exact strings, e.g. "
            "OpenRoads, GeoPackage, GB; or Terrain50, Vector Tiles, (MBTiles). They are "
            "lists when the product list has been fetched, plain text otherwise.\n\n"
            "Outputs: FOLDER, MANIFEST (os_downloads_manifest.json), FILES (the data files "
            "found: GeoPackages, Shapefiles, GML, CSV, grids...) and VERSION. LOAD adds the "
            "layers to the project when run in QGIS (not in qgis_process)."
        )

    def initAlgorithm(self, config: Optional[Dict[str, Any]] = None) -> None:
        catalogue = self.catalogue or load_catalogue()
        self.addParameter(choice_parameter(self.PRODUCT, tr("Product"), catalogue.product_ids))
        self.addParameter(choice_parameter(self.FORMAT, tr("Format"), catalogue.formats))
        self.addParameter(
            choice_parameter(self.SUBFORMAT, tr("Subformat"), catalogue.subformats, optional=True)
        )
        self.addParameter(choice_parameter(self.AREA, tr("Area"), catalogue.areas, default="GB"))
        self.add_job_parameters(tr("Folder with the product's files"), tr("Product version"))

    def prepareAlgorithm(
        self,
        parameters: Dict[str, Any],
        context: QgsProcessingContext,
        feedback: QgsProcessingFeedback,
    ) -> bool:
        from ..integration.client_factory import build_client

        self._client = self.prepare(lambda: build_client(with_credentials=False))
        return True

    def processAlgorithm(
        self,
        parameters: Dict[str, Any],
        context: QgsProcessingContext,
        feedback: QgsProcessingFeedback,
    ) -> Dict[str, Any]:
        product = choice_value(self, parameters, self.PRODUCT, context)
        fmt = choice_value(self, parameters, self.FORMAT, context)
        subformat = choice_value(self, parameters, self.SUBFORMAT, context) or None
        area = choice_value(self, parameters, self.AREA, context) or "GB"
        return self.run_job(
            parameters,
            context,
            feedback,
            problem="" if product and fmt else tr("Choose a product and a format."),
            announce=lambda dest: tr("Downloading {product} ({fmt}, {area}) into {dest}").format(
                product=product,
                fmt=" ".join(filter(None, (fmt, subformat))),
                area=area,
                dest=dest,
            ),
            fetch=lambda client, **job: fetch_product(
                client, product, fmt, area=area, subformat=subformat, **job
            ),
        )
