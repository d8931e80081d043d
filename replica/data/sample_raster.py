"""Rasters of the sample data: a smooth made-up terrain, maps drawn from vectors, pictures.

One palette renderer serves three jobs: the GeoTIFF tiles of raster products,
the product thumbnails (JPEG, small and large) and, via the height function,
the Terrain 50 grids and their contours. Pure GDAL, no numpy.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

from osgeo import gdal, ogr

from .sample_vector import Feature, british_national_grid, gdal_settings, read_features

Extent = Tuple[float, float, float, float]  # min E, min N, max E, max N

# Palette indices of the renderer; 32..255 are the height ramp.
BACKGROUND, WATER, GREEN, URBAN, ROAD, BOUNDARY, BUILDING, MOTORWAY, DOT, INK = range(10)
_COLOURS: Dict[int, Tuple[int, int, int]] = {
    BACKGROUND: (246, 243, 232),
    WATER: (120, 176, 222),
    GREEN: (168, 208, 146),
    URBAN: (226, 214, 200),
    ROAD: (214, 96, 62),
    BOUNDARY: (128, 84, 150),
    BUILDING: (178, 160, 150),
    MOTORWAY: (60, 110, 196),
    DOT: (196, 40, 40),
    INK: (60, 60, 60),
}
_RAMP_START = 32

# --- terrain --------------------------------------------------------------------------------

# Gaussian hills: (E, N, height m, radius m). Hampstead Heath, Sydenham Hill, Blackheath,
# Richmond Hill, Chilworth, the chalk north-east of Eastleigh, the Test valley sides.
_HILLS: Tuple[Tuple[float, float, float, float], ...] = (
    (527000, 186800, 115, 2600),
    (534500, 171000, 95, 3000),
    (539500, 176300, 40, 1600),
    (518500, 173500, 45, 2500),
    (441000, 118800, 65, 3000),
    (449500, 123000, 70, 4500),
    (437500, 124500, 45, 3500),
)


def height_grid(eastings: Sequence[float], northings: Sequence[float]) -> List[List[float]]:
    """Heights (m) at every (E, N) pair: one row per northing, one value per easting.

    Low along the Thames and the Itchen, hills where London and Southampton have
    them, a gentle ripple everywhere; continuous across tiles. The hills are
    separable Gaussians, so a grid costs a few multiplications per cell.
    """
    across = [
        [top * math.exp(-(((e - he) / r) ** 2)) for e in eastings] for he, _, top, r in _HILLS
    ]
    down = [[math.exp(-(((n - hn) / r) ** 2)) for n in northings] for _, hn, _, r in _HILLS]
    ripple = [5.0 * math.sin(e / 1700.0) for e in eastings]
    thames = [179500.0 + 1500.0 * math.sin((e - 520000.0) / 6000.0) for e in eastings]
    rows = []
    for j, n in enumerate(northings):
        hills = [(across[i], down[i][j]) for i in range(len(_HILLS)) if down[i][j] > 1e-9]
        wave = math.cos(n / 2300.0)
        itchen = 443500.0 + 0.25 * (n - 112000.0)
        row = []
        for c, e in enumerate(eastings):
            h = 12.0 + ripple[c] * wave
            for line, factor in hills:
                h += line[c] * factor
            # London: the Thames meanders about N 179 500; Southampton: the Itchen runs north-south.
            valley = abs(n - thames[c]) if e >= 500000 else abs(e - itchen)
            h *= 0.12 + 0.88 * (1.0 - math.exp(-((valley / 1500.0) ** 2)))
            row.append(round(max(h, 0.4), 1))
        rows.append(row)
    return rows


def height(e: float, n: float) -> float:
    """The height at one point (see ``height_grid``)."""
    return height_grid([e], [n])[0][0]


@dataclass(frozen=True)
class Tile:
    """A 10 km Terrain 50 tile such as TQ28: 200 x 200 cells of 50 m."""

    name: str  # upper case, e.g. "TQ28"
    west: int
    south: int
    cells: int = 200
    cell_size: int = 50

    @classmethod
    def named(cls, name: str, origins: Dict[str, Tuple[float, float]]) -> Tile:
        e0, n0 = origins[name[:2].upper()]
        return cls(name.upper(), int(e0) + int(name[2]) * 10000, int(n0) + int(name[3]) * 10000)

    def rows(self) -> List[List[float]]:
        """Heights, north row first, each row west to east (cell centres)."""
        half = self.cell_size / 2
        eastings = [self.west + c * self.cell_size + half for c in range(self.cells)]
        northings = [
            self.south + (self.cells - 1 - r) * self.cell_size + half for r in range(self.cells)
        ]
        return height_grid(eastings, northings)


def ascii_grid(tile: Tile, rows: List[List[float]]) -> bytes:
    """ESRI ASCII grid text as OS ships it (header, then rows of heights to 0.1 m)."""
    header = (
        f"ncols        {tile.cells}\nnrows        {tile.cells}\nxllcorner    {tile.west}\n"
        f"yllcorner    {tile.south}\ncellsize     {tile.cell_size}\n"
    )
    body = "\n".join(" ".join(f"{v:.1f}" for v in row) for row in rows)
    return (header + body + "\n").encode("ascii")


def esri_prj() -> bytes:
    srs = british_national_grid().Clone()
    srs.MorphToESRI()
    return srs.ExportToWkt().encode("ascii")


def _height_dataset(tile: Tile, rows: List[List[float]]) -> gdal.Dataset:
    ds = gdal.GetDriverByName("MEM").Create("", tile.cells, tile.cells, 1, gdal.GDT_Float32)
    ds.SetGeoTransform(
        (tile.west, tile.cell_size, 0, tile.south + tile.cells * tile.cell_size, 0, -tile.cell_size)
    )
    ds.SetSpatialRef(british_national_grid())
    flat = [v for row in rows for v in row]
    ds.GetRasterBand(1).WriteRaster(
        0, 0, tile.cells, tile.cells, struct.pack(f"<{len(flat)}f", *flat)
    )
    return ds


def contours(tile: Tile, rows: List[List[float]], interval: float = 10.0) -> List[Feature]:
    """Contour lines of a tile, as Terrain 50 contours carry them (height in metres)."""
    with gdal_settings():
        grid = _height_dataset(tile, rows)
        source = ogr.GetDriverByName("Memory").CreateDataSource("contours")
        layer = source.CreateLayer("contour_line", british_national_grid(), ogr.wkbLineString)
        layer.CreateField(ogr.FieldDefn("id", ogr.OFTInteger))
        layer.CreateField(ogr.FieldDefn("height", ogr.OFTReal))
        gdal.ContourGenerate(grid.GetRasterBand(1), interval, 0.0, [], 0, 0.0, layer, 0, 1)
        features = read_features(layer)
    return [(wkt, {"height": attrs["height"]}) for wkt, attrs in features]


# --- rendering ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Drawing:
    """Geometries to draw in one palette colour: ``fill`` polygons, ``line``s, ``outline``s
    of polygons, or ``dot``s for points. Widths are in pixels."""

    wkts: Tuple[str, ...]
    colour: int
    style: str = "fill"
    width: float = 1.5


def _colour_table() -> gdal.ColorTable:
    table = gdal.ColorTable()
    for index in range(256):
        if index in _COLOURS:
            table.SetColorEntry(index, (*_COLOURS[index], 255))
        elif index >= _RAMP_START:
            t = (index - _RAMP_START) / (255 - _RAMP_START)
            table.SetColorEntry(
                index,
                (int(90 + 150 * t), int(150 + 60 * (1 - abs(2 * t - 1))), int(80 + 60 * t), 255),
            )
        else:
            table.SetColorEntry(index, (0, 0, 0, 255))
    return table


def _shape(wkt: str, style: str, pixel: float, width: float) -> Optional[ogr.Geometry]:
    geometry = ogr.CreateGeometryFromWkt(wkt)
    if style == "outline":
        geometry = geometry.Boundary()
    if style in ("line", "outline"):
        return geometry.Buffer(max(pixel * width / 2, 0.01), 2)
    if style == "dot":
        return geometry.Buffer(pixel * width, 6)
    return geometry


def _paint_relief(ds: gdal.Dataset, west: float, north: float, pixel: float, step: int = 6) -> None:
    """Height-tinted background: heights on a grid ``step`` times coarser, then smoothed up."""
    width, height_px = ds.RasterXSize, ds.RasterYSize
    cols, rows = width // step + 2, height_px // step + 2
    coarse_pixel = pixel * step
    eastings = [west + (c + 0.5) * coarse_pixel for c in range(cols)]
    northings = [north - (r + 0.5) * coarse_pixel for r in range(rows)]
    values = bytes(
        _RAMP_START + min(255 - _RAMP_START, max(0, int(h * 1.6)))
        for row in height_grid(eastings, northings)
        for h in row
    )
    coarse = gdal.GetDriverByName("MEM").Create("", cols, rows, 1, gdal.GDT_Byte)
    coarse.SetGeoTransform((west, coarse_pixel, 0, north, 0, -coarse_pixel))
    coarse.GetRasterBand(1).WriteRaster(0, 0, cols, rows, values)
    fine = gdal.Warp(
        "",
        coarse,
        format="MEM",
        outputBounds=(west, north - height_px * pixel, west + width * pixel, north),
        width=width,
        height=height_px,
        resampleAlg="bilinear",
    )
    ds.GetRasterBand(1).WriteRaster(0, 0, width, height_px, fine.GetRasterBand(1).ReadRaster())


def render(
    extent: Extent,
    size: Tuple[int, int],
    drawings: Sequence[Drawing],
    *,
    relief: bool = False,
    background: int = BACKGROUND,
) -> gdal.Dataset:
    """A paletted map of ``extent`` in EPSG:27700, ``size`` = (width, height) pixels."""
    width, height_px = size
    pixel = max((extent[2] - extent[0]) / width, (extent[3] - extent[1]) / height_px)
    west = (extent[0] + extent[2]) / 2 - pixel * width / 2
    north = (extent[1] + extent[3]) / 2 + pixel * height_px / 2
    ds = gdal.GetDriverByName("MEM").Create("", width, height_px, 1, gdal.GDT_Byte)
    ds.SetGeoTransform((west, pixel, 0, north, 0, -pixel))
    ds.SetSpatialRef(british_national_grid())
    band = ds.GetRasterBand(1)
    band.SetColorTable(_colour_table())
    band.SetRasterColorInterpretation(gdal.GCI_PaletteIndex)
    if relief:
        _paint_relief(ds, west, north, pixel)
    else:
        band.Fill(background)
    source = ogr.GetDriverByName("Memory").CreateDataSource("drawing")
    for number, drawing in enumerate(drawings):
        layer = source.CreateLayer(f"d{number}", british_national_grid(), ogr.wkbUnknown)
        for wkt in drawing.wkts:
            shape = _shape(wkt, drawing.style, pixel, drawing.width)
            if shape is None or shape.IsEmpty():
                continue
            feature = ogr.Feature(layer.GetLayerDefn())
            feature.SetGeometry(shape)
            layer.CreateFeature(feature)
        gdal.RasterizeLayer(
            ds, [1], layer, burn_values=[drawing.colour], options=["ALL_TOUCHED=TRUE"]
        )
    return ds


def write_geotiff(
    path: Path, picture: gdal.Dataset, *, compress: str = "LZW", rgb: bool = False
) -> None:
    """A georeferenced, compressed GeoTIFF: paletted (1:250 000 raster style) or RGB."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with gdal_settings():
        gdal.Translate(
            str(path),
            picture,
            format="GTiff",
            rgbExpand="rgb" if rgb else None,
            creationOptions=[f"COMPRESS={compress}", "TILED=NO"],
        )


def write_jpeg(path: Path, picture: gdal.Dataset, *, quality: int = 82) -> None:
    """A plain RGB JPEG (no world file, no .aux.xml), as product thumbnails are."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with gdal_settings():
        rgb = gdal.Translate("", picture, format="MEM", rgbExpand="rgb")
        gdal.GetDriverByName("JPEG").CreateCopy(
            str(path), rgb, options=[f"QUALITY={quality}", "WORLDFILE=NO"]
        )


def extent_of(wkts: Sequence[str], *, margin: float = 0.08) -> Extent:
    """The bounding box of geometries, widened by ``margin`` of its size."""
    boxes = [ogr.CreateGeometryFromWkt(w).GetEnvelope() for w in wkts]
    min_e, max_e = min(b[0] for b in boxes), max(b[1] for b in boxes)
    min_n, max_n = min(b[2] for b in boxes), max(b[3] for b in boxes)
    pad = max(max_e - min_e, max_n - min_n, 200.0) * margin
    return (min_e - pad, min_n - pad, max_e + pad, max_n + pad)
