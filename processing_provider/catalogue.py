"""The product list the algorithms offer as choices, cached on disk.

Processing builds an algorithm's parameters when the provider loads, before
any network call could finish, and QGIS must not wait on the network at start.
So the choices come from a small JSON cache (product ids, formats, areas) that
is refreshed in the background when it is missing or a day old. Without a
cache (first start offline) the algorithms take plain strings instead, which
work the same in qgis_process and the modeler: the values are strings either
way (enums use static strings), so saved models keep working.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

from qgis.core import QgsApplication

from ..core.api.models import Product
from ..core.atomic import atomic_write_text
from ..core.net.retry import RetryPolicy
from ..core.redact import get_logger

log = get_logger(__name__)

CACHE_NAME = "os_downloads_catalogue.json"
MAX_AGE_SECONDS = 24 * 3600
REFRESH_TIMEOUT = (3.0, 8.0)  # connect, read: short, the result is only a convenience

# The documented Area enum, plus the BGS products' UK and NI.
_AREA_CODES = (
    "GB HP HT HU HW HX HY HZ NA NB NC ND NF NG NH NJ NK NL NM NN NO NR NS NT NU NW NX NY NZ "
    "OV SD SE TA SH SJ SK TF TG SM SN SO SP TL TM SR SS ST SU TQ TR SV SW SX SY SZ TV UK NI"
)
AREAS: Tuple[str, ...] = tuple(_AREA_CODES.split())


@dataclass(frozen=True)
class CatalogueProduct:
    id: str
    name: str
    version: str
    formats: Tuple[Tuple[str, str], ...] = ()  # (format, subformat or "")
    areas: Tuple[str, ...] = ()


@dataclass(frozen=True)
class Catalogue:
    products: Tuple[CatalogueProduct, ...] = ()
    api_url: str = ""
    fetched_at: float = 0.0
    path: Optional[Path] = field(default=None, compare=False)

    @property
    def product_ids(self) -> List[str]:
        return sorted(p.id for p in self.products)

    @property
    def formats(self) -> List[str]:
        return sorted({f for p in self.products for f, _ in p.formats})

    @property
    def subformats(self) -> List[str]:
        return sorted({s for p in self.products for _, s in p.formats if s})

    @property
    def areas(self) -> List[str]:
        known = {a for p in self.products for a in p.areas}
        return list(AREAS) + sorted(known - set(AREAS))

    def is_stale(self, api_url: str) -> bool:
        return (
            not self.products
            or self.api_url != api_url
            or time.time() - self.fetched_at > MAX_AGE_SECONDS
        )


def cache_path() -> Path:
    return Path(QgsApplication.qgisSettingsDirPath()) / CACHE_NAME


def load_catalogue(path: Optional[Path] = None) -> Catalogue:
    """The cached catalogue, or an empty one when there is none (or it is unreadable)."""
    path = path or cache_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        products = tuple(
            CatalogueProduct(
                id=str(p["id"]),
                name=str(p.get("name", p["id"])),
                version=str(p.get("version", "")),
                formats=tuple((str(f), str(s or "")) for f, s in p.get("formats", [])),
                areas=tuple(str(a) for a in p.get("areas", [])),
            )
            for p in data.get("products", [])
        )
        return Catalogue(products, str(data.get("api_url", "")), float(data["fetched_at"]), path)
    except FileNotFoundError:
        return Catalogue(path=path)
    except (OSError, ValueError, KeyError, TypeError) as err:
        log.warning("Ignoring the unreadable product cache %s: %s", path, err)
        return Catalogue(path=path)


def save_catalogue(products: Sequence[Product], api_url: str, path: Optional[Path] = None) -> Path:
    """Write the product list (e.g. ``client.products(expanded=True)``) for the algorithms."""
    path = path or cache_path()
    data: Dict[str, Any] = {
        "api_url": api_url,
        "fetched_at": time.time(),
        "products": [
            {
                "id": p.id,
                "name": p.name,
                "version": p.version,
                "formats": [[f.format, f.subformat or ""] for f in p.formats],
                "areas": list(p.areas),
            }
            for p in products
        ],
    }
    return atomic_write_text(path, json.dumps(data, indent=1))


def refresh_catalogue(client: Any, path: Optional[Path] = None) -> Catalogue:
    """Fetch the products with a short timeout and one attempt, then cache them.

    Runs off the main thread; ``client`` is built on the main thread."""
    client.http.timeout = REFRESH_TIMEOUT
    client.http.retry = RetryPolicy(max_attempts=1)
    products = client.products(expanded=True)
    written = save_catalogue(products, client.base_url, path)
    return load_catalogue(written)
