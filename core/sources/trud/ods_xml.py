"""ODS XML organisation data (TRUD item 341) as a flat table, one row per organisation.

The ``HSCOrgRefData_Full_YYYYMMDD.xml`` file (schema 2-0-0, ~400 MB in real
releases) holds every NHS organisation with its address and postcode but no
coordinates; GIS teams flatten it and join the postcode to Code-Point Open.
This streams the file (``iterparse``, each organisation cleared once read, so
memory stays flat) and writes a CSV with a header. Only the top-level
``Organisations/Organisation`` records count: the ``Organisation`` elements
nested in relationships and successions name *other* organisations.
"""

from __future__ import annotations

import csv
import os
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Dict, Iterator, Optional

from ...errors import ExtractionError

COLUMNS = (
    "ods_code",
    "name",
    "status",
    "record_class",
    "primary_role_id",
    "primary_role",
    "start_date",
    "end_date",
    "last_change_date",
    "address_line_1",
    "address_line_2",
    "address_line_3",
    "town",
    "county",
    "postcode",
    "country",
    "uprn",
)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _child(element: ET.Element, name: str) -> Optional[ET.Element]:
    for child in element:
        if _local(child.tag) == name:
            return child
    return None


def _value(element: Optional[ET.Element]) -> str:
    if element is None:
        return ""
    return (element.get("value") or element.text or "").strip()


def _operational_dates(element: ET.Element) -> Dict[str, str]:
    for date in element:
        if _local(date.tag) != "Date":
            continue
        if _value(_child(date, "Type")) in ("Operational", ""):
            return {
                "start_date": _value(_child(date, "Start")),
                "end_date": _value(_child(date, "End")),
            }
    return {"start_date": "", "end_date": ""}


def _row(org: ET.Element, role_names: Dict[str, str]) -> Dict[str, str]:
    org_id = _child(org, "OrgId")
    row = {
        "ods_code": org_id.get("extension", "") if org_id is not None else "",
        "name": (_child(org, "Name").text or "").strip() if _child(org, "Name") is not None else "",
        "status": _value(_child(org, "Status")),
        "record_class": org.get("orgRecordClass", ""),
        "last_change_date": _value(_child(org, "LastChangeDate")),
        **_operational_dates(org),
    }
    location = None
    geo = _child(org, "GeoLoc")
    if geo is not None:
        location = _child(geo, "Location")
    fields = {
        "address_line_1": "AddrLn1",
        "address_line_2": "AddrLn2",
        "address_line_3": "AddrLn3",
        "town": "Town",
        "county": "County",
        "postcode": "PostCode",
        "country": "Country",
        "uprn": "UPRN",
    }
    for column, tag in fields.items():
        found = _child(location, tag) if location is not None else None
        row[column] = (found.text or "").strip() if found is not None else ""
    row["primary_role_id"] = row["primary_role"] = ""
    roles = _child(org, "Roles")
    for role in roles if roles is not None else ():
        if role.get("primaryRole", "").lower() == "true":
            row["primary_role_id"] = role.get("id", "")
            row["primary_role"] = role_names.get(row["primary_role_id"], "")
            break
    return row


def iter_organisations(xml_path: Path) -> Iterator[Dict[str, str]]:
    """Each top-level organisation of an ODS XML file, as a dict of ``COLUMNS``."""
    role_names: Dict[str, str] = {}
    path_tags = []
    container: Optional[ET.Element] = None  # <Organisations>, emptied as we go
    try:
        for event, element in ET.iterparse(str(xml_path), events=("start", "end")):
            tag = _local(element.tag)
            if event == "start":
                path_tags.append(tag)
                if tag == "Organisations":
                    container = element
                continue
            path_tags.pop()
            if tag == "concept" and element.get("id"):
                role_names[element.get("id", "")] = element.get("displayName", "")
            elif tag == "Organisation" and path_tags and path_tags[-1] == "Organisations":
                yield _row(element, role_names)
                if container is not None:
                    container.remove(element)  # memory stays flat on a 400 MB file
    except ET.ParseError as exc:
        raise ExtractionError(f"{Path(xml_path).name} is not readable ODS XML ({exc}).") from None


def flatten_to_csv(xml_path: Path, csv_path: Optional[Path] = None) -> Path:
    """Write ``<xml stem>_organisations.csv`` beside the XML (or at ``csv_path``)."""
    xml_path = Path(xml_path)
    target = csv_path or xml_path.with_name(f"{xml_path.stem}_organisations.csv")
    partial = target.with_name(target.name + ".part")
    with open(partial, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        for row in iter_organisations(xml_path):
            writer.writerow(row)
    os.replace(partial, target)
    return target


def is_ods_full_file(path: Path) -> bool:
    """An ODS XML file worth flattening (the full or archive organisation file)."""
    name = Path(path).name.lower()
    return name.startswith("hscorgrefdata_") and name.endswith(".xml")
