"""Small hand-written supplies in OS's formats, for the holding's reader tests.

Written here from OS's published layouts (not by the replica), so a reader bug
and a generator bug cannot cancel out.
"""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Iterable, List, Sequence, Tuple

OSGB_NS = "http://www.ordnancesurvey.co.uk/xml/namespaces/osgb"
GML2_NS = "http://www.opengis.net/gml"
GML32_NS = "http://www.opengis.net/gml/3.2"


def gml2_area(
    toid: str,
    version: int,
    ring: Sequence[Tuple[float, float]],
    *,
    group: Iterable[str] = ("Building",),
    term: Iterable[str] = (),
    theme: Iterable[str] = ("Buildings",),
    code: int = 10021,
    hole: Sequence[Tuple[float, float]] = (),
) -> str:
    coords = " ".join(f"{x:.3f},{y:.3f}" for x, y in ring)
    inner = ""
    if hole:
        hole_coords = " ".join(f"{x:.3f},{y:.3f}" for x, y in hole)
        inner = (
            f"<gml:innerBoundaryIs><gml:LinearRing><gml:coordinates>{hole_coords}"
            "</gml:coordinates></gml:LinearRing></gml:innerBoundaryIs>"
        )
    return (
        f"<osgb:topographicMember><osgb:TopographicArea fid='{toid}'>"
        f"<osgb:featureCode>{code}</osgb:featureCode><osgb:version>{version}</osgb:version>"
        "<osgb:versionDate>2024-01-0%d</osgb:versionDate>"
        % (version % 9 + 1)
        + "".join(f"<osgb:theme>{t}</osgb:theme>" for t in theme)
        + "<osgb:calculatedAreaValue>100.5</osgb:calculatedAreaValue>"
        "<osgb:changeHistory><osgb:changeDate>2001-03-09</osgb:changeDate>"
        "<osgb:reasonForChange>New</osgb:reasonForChange></osgb:changeHistory>"
        "<osgb:changeHistory><osgb:changeDate>2004-05-01</osgb:changeDate>"
        "<osgb:reasonForChange>Modified</osgb:reasonForChange></osgb:changeHistory>"
        + "".join(f"<osgb:descriptiveGroup>{g}</osgb:descriptiveGroup>" for g in group)
        + "".join(f"<osgb:descriptiveTerm>{t}</osgb:descriptiveTerm>" for t in term)
        + "<osgb:make>Manmade</osgb:make><osgb:physicalLevel>50</osgb:physicalLevel>"
        "<osgb:polygon><gml:Polygon srsName='osgb:BNG'><gml:outerBoundaryIs><gml:LinearRing>"
        f"<gml:coordinates>{coords}</gml:coordinates></gml:LinearRing></gml:outerBoundaryIs>"
        f"{inner}</gml:Polygon></osgb:polygon></osgb:TopographicArea></osgb:topographicMember>"
    )


def gml2_line(toid: str, version: int, points: Sequence[Tuple[float, float]]) -> str:
    coords = " ".join(f"{x:.2f},{y:.2f}" for x, y in points)
    return (
        f"<osgb:topographicMember><osgb:TopographicLine fid='{toid}'>"
        f"<osgb:featureCode>10019</osgb:featureCode><osgb:version>{version}</osgb:version>"
        "<osgb:versionDate>2020-02-02</osgb:versionDate><osgb:theme>Buildings</osgb:theme>"
        "<osgb:accuracyOfPosition>1.0m</osgb:accuracyOfPosition>"
        "<osgb:changeHistory><osgb:changeDate>2001-03-09</osgb:changeDate>"
        "<osgb:reasonForChange>New</osgb:reasonForChange></osgb:changeHistory>"
        "<osgb:descriptiveGroup>Building</osgb:descriptiveGroup>"
        "<osgb:descriptiveTerm>Outline</osgb:descriptiveTerm><osgb:physicalLevel>50</osgb:physicalLevel>"
        "<osgb:physicalPresence>Obstructing</osgb:physicalPresence>"
        f"<osgb:polyline><gml:LineString><gml:coordinates>{coords}</gml:coordinates>"
        "</gml:LineString></osgb:polyline></osgb:TopographicLine></osgb:topographicMember>"
    )


def gml2_text(toid: str, version: int, point: Tuple[float, float], text: str) -> str:
    return (
        f"<osgb:cartographicMember><osgb:CartographicText fid='{toid}'>"
        f"<osgb:featureCode>10026</osgb:featureCode><osgb:version>{version}</osgb:version>"
        "<osgb:versionDate>2019-09-09</osgb:versionDate><osgb:theme>Buildings</osgb:theme>"
        "<osgb:changeHistory><osgb:changeDate>2001-03-09</osgb:changeDate>"
        "<osgb:reasonForChange>New</osgb:reasonForChange></osgb:changeHistory>"
        "<osgb:descriptiveGroup>Buildings Or Structure</osgb:descriptiveGroup>"
        "<osgb:physicalLevel>50</osgb:physicalLevel>"
        "<osgb:textRendering><osgb:anchorPosition>4</osgb:anchorPosition><osgb:font>2</osgb:font>"
        "<osgb:height>1.5</osgb:height><osgb:orientation>900</osgb:orientation></osgb:textRendering>"
        f"<osgb:textString>{text}</osgb:textString>"
        f"<osgb:anchorPoint><gml:Point><gml:coordinates>{point[0]},{point[1]}</gml:coordinates>"
        "</gml:Point></osgb:anchorPoint></osgb:CartographicText></osgb:cartographicMember>"
    )


def gml2_departed(toid: str) -> str:
    return (
        f"<osgb:departedMember><osgb:DepartedFeature fid='{toid}'>"
        "<osgb:boundedBy><gml:Box srsName='osgb:BNG'><gml:coordinates>1,1 2,2</gml:coordinates>"
        "</gml:Box></osgb:boundedBy><osgb:theme>Buildings</osgb:theme>"
        "<osgb:reasonForDeparture>Deleted</osgb:reasonForDeparture>"
        "<osgb:deletionDate>2026-02-01</osgb:deletionDate></osgb:DepartedFeature></osgb:departedMember>"
    )


def gml2_chunk(members: Iterable[str]) -> bytes:
    return (
        "<?xml version='1.0' encoding='UTF-8'?>\n"
        f"<osgb:FeatureCollection xmlns:osgb='{OSGB_NS}' xmlns:gml='{GML2_NS}' "
        "xmlns:xlink='http://www.w3.org/1999/xlink' fid='GDS-1'>"
        "<gml:description>Ordnance Survey, (c) Crown Copyright.</gml:description>"
        "<gml:boundedBy><gml:null>unknown</gml:null></gml:boundedBy>"
        "<osgb:queryTime>2026-02-01T10:00:00</osgb:queryTime>\n"
        + "\n".join(members)
        + "\n</osgb:FeatureCollection>\n"
    ).encode("utf-8")


def gml32_area(toid: str, version: int, ring: Sequence[Tuple[float, float]]) -> str:
    coords = " ".join(f"{x:.2f} {y:.2f}" for x, y in ring)
    return (
        f'<gml:featureMember><osgb:TopographicArea gml:id="{toid}">'
        f"<osgb:featureCode>10021</osgb:featureCode><osgb:version>{version}</osgb:version>"
        "<osgb:versionDate>2024-06-12</osgb:versionDate><osgb:theme>Buildings</osgb:theme>"
        "<osgb:descriptiveGroup>Building</osgb:descriptiveGroup><osgb:make>Manmade</osgb:make>"
        '<osgb:physicalLevel>50</osgb:physicalLevel><osgb:polygon><gml:Polygon gml:id="p1" '
        'srsName="urn:ogc:def:crs:EPSG::27700"><gml:exterior><gml:LinearRing>'
        f'<gml:posList srsDimension="2">{coords}</gml:posList></gml:LinearRing></gml:exterior>'
        "</gml:Polygon></osgb:polygon></osgb:TopographicArea></gml:featureMember>"
    )


def gml32_chunk(members: Iterable[str]) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<osgb:FeatureCollection xmlns:osgb="http://namespaces.os.uk/mastermap/topography/2.0" '
        f'xmlns:gml="{GML32_NS}" gml:id="c1">\n'
        + "\n".join(members)
        + "\n</osgb:FeatureCollection>\n"
    ).encode("utf-8")


def write_gz(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(data, mtime=0))
    return path


def square(x: float, y: float, size: float = 10.0) -> List[Tuple[float, float]]:
    return [(x, y), (x + size, y), (x + size, y + size), (x, y + size), (x, y)]


# --- AddressBase Premium -----------------------------------------------------------------


def abp_header(file_type: str, date: str = "2026-01-22") -> str:
    return f'10,"OS",7655,{date},1,{date},09:00:00,"1.0","{file_type}"'


def abp_trailer(count: int, date: str = "2026-01-22") -> str:
    return f"99,0,{count},{date},09:00:00"


def abp_street(change: str, order: int, usrn: int, surface: int = 1) -> str:
    return (
        f'11,"{change}",{order},{usrn},1,7655,2,2000-01-01,{surface},8,0,2000-01-01,,'
        f"2020-01-01,2000-01-01,440000.00,110000.00,50.9,-1.4,440100.00,110050.00,50.9,-1.4,10"
    )


def abp_descriptor(change: str, order: int, usrn: int, name: str, language: str = "ENG") -> str:
    return (
        f'15,"{change}",{order},{usrn},"{name}","","SOUTHAMPTON","SOUTHAMPTON","{language}",'
        "2000-01-01,,2020-01-01,2000-01-01"
    )


def abp_blpu(
    change: str, order: int, uprn: int, x: float, y: float, postcode: str = "SO14 1AA"
) -> str:
    return (
        f'21,"{change}",{order},{uprn},1,2,2008-01-01,,{x:.2f},{y:.2f},50.9012345,-1.4012345,1,'
        f'7655,"E",2008-01-01,,2020-01-01,2008-01-01,"D","{postcode}",0'
    )


def abp_dpa(change: str, order: int, uprn: int, udprn: int, street: str) -> str:
    return (
        f'28,"{change}",{order},{uprn},{udprn},"","","","",12,"","{street}","","",'
        '"SOUTHAMPTON","SO14 1AA","S","1A","","","","","","",'
        "2020-01-01,2008-01-01,,2020-01-01,2008-01-01"
    )


def abp_file(path: Path, file_type: str, records: List[str], *, count: int = -1) -> Path:
    lines = [abp_header(file_type)] + records + [abp_trailer(len(records) if count < 0 else count)]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("utf-8"))
    return path
