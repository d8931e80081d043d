"""How a CSV file becomes a QGIS layer: the one delimited-text URI and the one OGR VRT.

Both OS downloads (``layer_sources``: Code-Point Open, OS Open Names, CSVs
with x/y or WKT columns) and NHS TRUD tables (``table_layers``: ODS files
without a header row) come through here, described by ``core.discover``'s
``CsvOptions``:

- a CSV with a header row: the delimited-text provider (types detected, a
  spatial index when it has coordinates). The URI is built the way QGIS
  builds it (``QUrl``/``QUrlQuery``): a percent-encoded "%2C" delimiter is
  not understood by 3.22's parser;
- a CSV without one: an OGR VRT that reads it with ``HEADERS=NO`` (columns
  ``field_1``...) and gives the columns their real names, casts coordinates
  and makes points or WKT geometries; several files make one union layer. The
  delimited-text provider with ``useHeader=no`` cannot be told the names (a
  ``.csvt`` only sets types), so expressions and joins would read
  ``field_10``. The VRT is written beside the data (``<job>/qgis/``); the
  downloaded files stay untouched, so their checksums still hold.

Opening a VRT goes through ``layers.open_source``, which keeps GDAL's XML
schema check off for it (``skip_vrt_schema_validation`` below), as does the
worker's GeoPackage copy of one (``layer_cache``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Sequence
from xml.sax.saxutils import escape, quoteattr

from qgis.PyQt.QtCore import QUrl, QUrlQuery

from ..core.engine.discover import CsvOptions

DEFAULT_CRS = "EPSG:27700"
# Columns of OS's headerless CSVs that are whole numbers (Code-Point's 10-90 quality
# code, as its GeoPackage has it); every other column stays text, so leading
# zeros and codes survive.
INTEGER_FIELDS = frozenset({"positional_quality_indicator"})

_QT_CODECS = {"cp1252": "windows-1252", "latin-1": "ISO-8859-1", "latin1": "ISO-8859-1"}


@dataclass(frozen=True)
class CsvFile:
    """One CSV on disk and how to read it; ``crs`` for its coordinates, if any."""

    path: Path
    options: CsvOptions
    crs: str = DEFAULT_CRS


def qt_encoding(codec: str) -> str:
    """The Qt name for a Python codec name ("utf-8-sig" -> "UTF-8", "cp1252" -> "windows-1252")."""
    name = (codec or "utf-8").lower()
    if name.startswith("utf"):
        return "UTF-8"
    return _QT_CODECS.get(name, codec)


def has_geometry(options: CsvOptions) -> bool:
    """Whether the CSV names coordinate columns (x/y or WKT)."""
    return bool((options.x_field and options.y_field) or options.wkt_field)


def delimited_text_uri(csv: CsvFile) -> str:
    """The delimited-text provider's URI for a CSV with a header row."""
    options = csv.options
    params: Dict[str, str] = {
        "type": "csv",
        "delimiter": options.delimiter,
        "useHeader": "yes",
        "detectTypes": "yes",
        "encoding": qt_encoding(options.encoding),
        "watchFile": "no",
    }
    crs = csv.crs or DEFAULT_CRS
    if options.x_field and options.y_field:
        params.update(xField=options.x_field, yField=options.y_field, crs=crs, spatialIndex="yes")
    elif options.wkt_field:
        params.update(wktField=options.wkt_field, crs=crs, spatialIndex="yes")
    else:
        params["geomType"] = "none"
    url = QUrl.fromLocalFile(str(Path(csv.path).resolve()))
    query = QUrlQuery()
    for key, value in params.items():
        query.addQueryItem(key, value)
    url.setQuery(query)
    return bytes(url.toEncoded()).decode("ascii")


def csv_vrt_xml(files: Sequence[CsvFile]) -> str:
    """OGR VRT text reading CSVs as one layer: real field names, points or WKT, a CRS.

    Headerless files are read with ``HEADERS=NO`` (columns ``field_1``...)
    and renamed; coordinates are cast to Real; several files make a union.
    """
    layers = [_vrt_layer(csv) for csv in files]
    body = "\n".join(layers)
    if len(layers) > 1:
        body = f'  <OGRVRTUnionLayer name="merged">\n{body}\n  </OGRVRTUnionLayer>'
    return f"<OGRVRTDataSource>\n{body}\n</OGRVRTDataSource>\n"


def _vrt_layer(csv: CsvFile) -> str:
    options = csv.options
    names = list(options.field_names)
    path = Path(csv.path).resolve()

    def source(name: str) -> str:
        return quoteattr(name if options.has_header else f"field_{names.index(name) + 1}")

    headers = "YES" if options.has_header else "NO"
    lines = [
        f"    <OGRVRTLayer name={quoteattr(path.stem)}>",
        f"      <SrcDataSource>{escape(str(path))}</SrcDataSource>",
        f'      <OpenOptions><OOI key="HEADERS">{headers}</OOI></OpenOptions>',
        f"      <SrcLayer>{escape(path.stem)}</SrcLayer>",
    ]
    crs = escape(csv.crs or DEFAULT_CRS)
    if options.x_field in names and options.y_field in names:
        x, y = source(str(options.x_field)), source(str(options.y_field))
        lines += [
            "      <GeometryType>wkbPoint</GeometryType>",
            f"      <LayerSRS>{crs}</LayerSRS>",
            f'      <GeometryField encoding="PointFromColumns" x={x} y={y}/>',
        ]
    elif options.wkt_field in names:
        lines += [
            f"      <LayerSRS>{crs}</LayerSRS>",
            f'      <GeometryField encoding="WKT" field={source(str(options.wkt_field))}/>',
        ]
    else:
        lines.append("      <GeometryType>wkbNone</GeometryType>")
    for name in names:
        kind = "Real" if name in (options.x_field, options.y_field) else "String"
        if name.casefold() in INTEGER_FIELDS:
            kind = "Integer"
        lines.append(f'      <Field name={quoteattr(name)} src={source(name)} type="{kind}"/>')
    lines.append("    </OGRVRTLayer>")
    return "\n".join(lines)


_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def file_stem(text: str) -> str:
    """A file name part from a layer name ("OS Open Names: Tiles" -> "OS_Open_Names_Tiles")."""
    return _UNSAFE.sub("_", text).strip("_") or "layer"


def write_vrt(helper_dir: Path, name: str, text: str) -> Path:
    """``helper_dir/<name>.vrt`` holding ``text``; left alone when it already does
    (a layer in the project may have it open)."""
    helper_dir.mkdir(parents=True, exist_ok=True)
    vrt = helper_dir / f"{file_stem(name)}.vrt"
    if not vrt.is_file() or vrt.read_text(encoding="utf-8") != text:
        vrt.write_text(text, encoding="utf-8")
    return vrt


# GDAL's OGR VRT driver checks every VRT it opens against its XML schema while
# this option is YES (its default). On GDAL 3.10 a map render re-opening our
# CSV VRTs in a pooled thread was seen spinning in that check for ever, so that
# QGIS could not even exit. The check only produces warnings about the XML;
# ours is generated. It is a process-wide option (render threads open the
# layers again later), so it is set once and a value the user chose is kept.
XML_VALIDATION_OPTION = "GDAL_XML_VALIDATION"


def skip_vrt_schema_validation() -> None:
    """Turn GDAL's schema check of VRT files off, unless the user set the option."""
    from osgeo import gdal

    if gdal.GetConfigOption(XML_VALIDATION_OPTION) is None:
        gdal.SetConfigOption(XML_VALIDATION_OPTION, "NO")
