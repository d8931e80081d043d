"""Which holding reader a data package needs: MasterMap GML, AddressBase Premium CSV, or NGD.

Asked by the product's id or name first, else by what its files hold.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from .errors import HoldingError, UnsupportedSupplyError

KIND_MASTERMAP = "mastermap"
KIND_ADDRESSBASE = "addressbase"
KIND_NGD = "ngd"


def product_kind(product_id: str, product_name: str = "") -> str:
    """The holding reader for a product, from its id or name; "" when they do not say.

    Only AddressBase *Premium* has the multi-record CSV (AddressBase and AddressBase
    Plus, ids ``ABPOSTSLA``/``ABFLATSLA``, are flat tables)."""
    product = (product_id or "").upper()
    name = (product_name or "").lower()
    if product.startswith(("MMTOPO", "OSMMTOPO")) or "mastermap topography" in name:
        return KIND_MASTERMAP
    if product.startswith(("OSNGD", "NGD")) or name.startswith(("os ngd", "os national geog")):
        return KIND_NGD
    if (
        product in ("ABP", "ABPREM")
        or product.startswith("ABPREM")
        or "addressbase premium" in name
    ):
        return KIND_ADDRESSBASE
    return ""


def detect_kind(product_id: str, files: Sequence[Path], product_name: str = "") -> str:
    """The reader for a package: by product, else by what its files hold."""
    from .addressbase import csv_files
    from .mastermap import is_gml

    kind = product_kind(product_id, product_name)
    if kind:
        return kind
    if any(is_gml(f) for f in files if f.name.lower().endswith((".gz", ".gml", ".xml"))):
        return KIND_MASTERMAP
    if any(_starts_like_abp(source) for source in csv_files(files)):
        return KIND_ADDRESSBASE
    if any(f.name.lower().startswith(("bld_", "trn_", "add_", "lnd_", "wtr_")) for f in files):
        return KIND_NGD  # NGD files are named by feature type
    raise UnsupportedSupplyError(
        f"Data package product {product_name or product_id or '(unknown)'}: holdings can be "
        "built from OS MasterMap Topography Layer (GML), AddressBase Premium (CSV) and OS NGD only."
    )


def _starts_like_abp(source: Any) -> bool:
    """An AddressBase Premium CSV starts with its header record (type 10)."""
    from .addressbase import read_records

    headers: list = []
    records = read_records(source, headers)
    try:
        next(records, None)
    except HoldingError:
        pass
    finally:
        records.close()  # the file, at once
    return bool(headers)
