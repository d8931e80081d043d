"""Hand-written GML 3.2 in the shapes OS products use (not OGR's own GML dialect).

OS Open Greenspace and OS MasterMap Topography Layer GML carry OS application
schemas; OGR reads them by sniffing, which is exactly what users' tools do, so
the samples are written as OS writes them: one feature collection,
``gml:featureMember``s, EPSG:27700 ``srsName`` URNs and ``posList`` rings.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Iterable, List, Sequence, Tuple
from xml.sax.saxutils import escape

from .sample_geography import Point

GML_NS = "http://www.opengis.net/gml/3.2"
SRS = "urn:ogc:def:crs:EPSG::27700"
_IDS = uuid.UUID("6f1e1a4e-5d1b-4c39-9f0a-0d5c0a7b8e11")


def guid(*parts: object) -> str:
    """An upper-case GUID that is always the same for the same parts (OS style ids)."""
    return str(uuid.uuid5(_IDS, "/".join(str(p) for p in parts))).upper()


def _coords(points: Sequence[Point]) -> str:
    return " ".join(f"{e:.2f} {n:.2f}" for e, n in points)


def _envelope(points: Iterable[Point]) -> str:
    pts = list(points)
    if not pts:  # a tile with no features, as a sea-only square would be
        return "<gml:boundedBy><gml:Null>unknown</gml:Null></gml:boundedBy>"
    lo = (min(p[0] for p in pts), min(p[1] for p in pts))
    hi = (max(p[0] for p in pts), max(p[1] for p in pts))
    return (
        f'<gml:boundedBy><gml:Envelope srsName="{SRS}">'
        f"<gml:lowerCorner>{lo[0]:.2f} {lo[1]:.2f}</gml:lowerCorner>"
        f"<gml:upperCorner>{hi[0]:.2f} {hi[1]:.2f}</gml:upperCorner></gml:Envelope></gml:boundedBy>"
    )


def _polygon(gml_id: str, ring: Sequence[Point]) -> str:
    return (
        f'<gml:Polygon gml:id="{gml_id}" srsName="{SRS}"><gml:exterior><gml:LinearRing>'
        f'<gml:posList srsDimension="2" count="{len(ring)}">{_coords(ring)}</gml:posList>'
        "</gml:LinearRing></gml:exterior></gml:Polygon>"
    )


def _point(gml_id: str, point: Point) -> str:
    return (
        f'<gml:Point gml:id="{gml_id}" srsName="{SRS}">'
        f"<gml:pos>{point[0]:.2f} {point[1]:.2f}</gml:pos></gml:Point>"
    )


@dataclass(frozen=True)
class GreenspaceRecord:
    name: str
    function: str
    ring: Tuple[Point, ...]
    access: Tuple[Point, ...]


def greenspace(collection_id: str, records: Sequence[GreenspaceRecord]) -> bytes:
    """``OSOpenGreenspace_<AREA>.gml``: GreenspaceSite polygons and their AccessPoints."""
    ns = "http://namespaces.os.uk/product/1.0"
    members: List[str] = []
    everything: List[Point] = []
    for record in records:
        site = guid("greenspace", record.name)
        everything += record.ring
        members.append(
            f'<gml:featureMember><gsp:GreenspaceSite gml:id="GS_{site}">'
            f"<gsp:id>{site}</gsp:id><gsp:function>{escape(record.function)}</gsp:function>"
            f"<gsp:distinctiveName1>{escape(record.name)}</gsp:distinctiveName1>"
            f"<gsp:geometry>{_polygon(f'GSG_{site}', record.ring)}</gsp:geometry>"
            "</gsp:GreenspaceSite></gml:featureMember>"
        )
        for number, point in enumerate(record.access):
            access = guid("access", record.name, number)
            members.append(
                f'<gml:featureMember><gsp:AccessPoint gml:id="AP_{access}">'
                f"<gsp:id>{access}</gsp:id><gsp:accessType>Pedestrian</gsp:accessType>"
                f"<gsp:refToGreenspaceSite>{site}</gsp:refToGreenspaceSite>"
                f"<gsp:geometry>{_point(f'APG_{access}', point)}</gsp:geometry>"
                "</gsp:AccessPoint></gml:featureMember>"
            )
    body = "\n  ".join(members)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<gsp:FeatureCollection xmlns:gsp="{ns}" xmlns:gml="{GML_NS}" gml:id="{collection_id}">\n'
        f"  {_envelope(everything)}\n  {body}\n</gsp:FeatureCollection>\n"
    ).encode()


def terrain_grid(tile: str, west: int, south: int, cells: int = 200, size: int = 50) -> bytes:
    """``<TILE>.gml``: the grid's georeferencing as a RectifiedGridCoverage over the .asc."""
    top = south + cells * size
    east = west + cells * size
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<gml:RectifiedGridCoverage xmlns:gml="{GML_NS}" gml:id="{tile}">',
        f'  <gml:boundedBy><gml:Envelope srsName="{SRS}">',
        f"    <gml:lowerCorner>{west} {south}</gml:lowerCorner>",
        f"    <gml:upperCorner>{east} {top}</gml:upperCorner>",
        "  </gml:Envelope></gml:boundedBy>",
        "  <gml:domainSet>",
        f'    <gml:RectifiedGrid gml:id="{tile}_grid" dimension="2">',
        "      <gml:limits><gml:GridEnvelope><gml:low>0 0</gml:low>",
        f"        <gml:high>{cells - 1} {cells - 1}</gml:high></gml:GridEnvelope></gml:limits>",
        "      <gml:axisLabels>x y</gml:axisLabels>",
        f'      <gml:origin><gml:Point gml:id="{tile}_origin" srsName="{SRS}">',
        f"        <gml:pos>{west + size // 2} {top - size // 2}</gml:pos></gml:Point></gml:origin>",
        f'      <gml:offsetVector srsName="{SRS}">{size} 0</gml:offsetVector>',
        f'      <gml:offsetVector srsName="{SRS}">0 -{size}</gml:offsetVector>',
        "    </gml:RectifiedGrid>",
        "  </gml:domainSet>",
        "  <gml:rangeSet><gml:File><gml:rangeParameters/>",
        f"    <gml:fileReference>{tile}.asc</gml:fileReference>",
        "    <gml:fileStructure>Record Interleaved</gml:fileStructure></gml:File></gml:rangeSet>",
        "</gml:RectifiedGridCoverage>",
        "",
    ]
    return "\n".join(lines).encode("utf-8")


@dataclass(frozen=True)
class TopographicArea:
    toid: str
    version: int
    version_date: str
    feature_code: int
    theme: str
    descriptive_group: str
    make: str
    ring: Tuple[Point, ...]

    @property
    def area(self) -> float:
        ring = self.ring
        return abs(sum(a[0] * b[1] - b[0] * a[1] for a, b in zip(ring, ring[1:]))) / 2


def topography(collection_id: str, features: Sequence[TopographicArea]) -> bytes:
    """An OS MasterMap Topography Layer chunk (GML 3.2) of TopographicArea features."""
    ns = "http://namespaces.os.uk/mastermap/topography/2.0"
    members = []
    for f in features:
        members.append(
            f'<gml:featureMember><osgb:TopographicArea gml:id="{f.toid}">'
            f"<osgb:featureCode>{f.feature_code}</osgb:featureCode><osgb:version>{f.version}</osgb:version>"
            f"<osgb:versionDate>{f.version_date}</osgb:versionDate><osgb:theme>{escape(f.theme)}</osgb:theme>"
            f"<osgb:calculatedAreaValue>{f.area:.6f}</osgb:calculatedAreaValue>"
            f"<osgb:descriptiveGroup>{escape(f.descriptive_group)}</osgb:descriptiveGroup>"
            f"<osgb:make>{f.make}</osgb:make><osgb:physicalLevel>50</osgb:physicalLevel>"
            f"<osgb:polygon>{_polygon(f'{f.toid}_p', f.ring)}</osgb:polygon>"
            "</osgb:TopographicArea></gml:featureMember>"
        )
    everything = [p for f in features for p in f.ring]
    body = "\n  ".join(members)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<osgb:FeatureCollection xmlns:osgb="{ns}" xmlns:gml="{GML_NS}"'
        f' gml:id="{collection_id}">\n'
        f"  {_envelope(everything)}\n  {body}\n</osgb:FeatureCollection>\n"
    ).encode()
