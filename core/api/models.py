"""Dataclasses for what the OS Downloads API returns.

The real API bends its own schema (see shared research): ``description`` is an
array, BGS products have versions like "Version 3 (GB); Version 1 (NI)" and
areas "UK"/"NI", LIDS has dataStructures ["Identifier"], versions carry
``format`` where the spec requires ``productFormat``, size/md5 may be missing,
and new fields appear. ``from_json`` accepts all of that and never raises on an
unknown or missing optional field; a value of the wrong type, an absurd size or
a bad file name raises ``Invalid`` (``net/json_body.py``; the client words it as
``UnexpectedResponse``; the checks live in ``api/validate.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

# The engine owns these (it is source-agnostic); re-exported: every listing makes them.
from ..engine.files import LATEST as LATEST
from ..engine.files import Checksum as Checksum
from ..engine.files import RemoteFile as RemoteFile
from . import validate

JsonDict = Dict[str, Any]

# supplyType, normalised: the spec says FULL|COU, production sends "Full" and
# "Change Only Update" (research 1.3); every spelling maps onto these two.
SUPPLY_FULL = "FULL"
SUPPLY_COU = "COU"
_SUPPLY_SPELLINGS = {
    "full": SUPPLY_FULL,
    "fullsupply": SUPPLY_FULL,
    "cou": SUPPLY_COU,
    "changeonly": SUPPLY_COU,
    "changeonlyupdate": SUPPLY_COU,
    "changeonlyupdates": SUPPLY_COU,
}


def normalise_supply_type(value: Any) -> str:
    """``FULL`` or ``COU`` for any spelling of them (case, spaces, hyphens); else as given."""
    text = "" if value is None else str(value).strip()
    squashed = "".join(ch for ch in text.lower() if ch.isalnum())
    return _SUPPLY_SPELLINGS.get(squashed, text)


def _text(value: Any, what: str = "a text field") -> str:
    """A string from a string, a number, a list of strings (description), or None."""
    return validate.text(value, what)


def _opt_str(value: Any, what: str = "a text field") -> Optional[str]:
    return validate.opt_str(value, what)


def _opt_int(value: Any, what: str = "a number") -> Optional[int]:
    return validate.count(value, what)


def _strs(value: Any, what: str = "a list of names") -> Tuple[str, ...]:
    return validate.strs(value, what)


@dataclass(frozen=True)
class ProductFormat:
    format: str
    subformat: Optional[str] = None

    @classmethod
    def from_json(cls, data: JsonDict) -> ProductFormat:
        data = validate.obj(data, "a format")
        return cls(
            format=_text(data.get("format"), "format"),
            subformat=_opt_str(data.get("subformat"), "subformat"),
        )

    @property
    def label(self) -> str:
        return f"{self.format} {self.subformat}" if self.subformat else self.format


@dataclass(frozen=True)
class Link:
    """A named link (``supportingInfo`` / ``alsoAvailable`` entries)."""

    name: str
    link: str

    @classmethod
    def many(cls, value: Any) -> Tuple[Link, ...]:
        items = value if isinstance(value, (list, tuple)) else ()
        return tuple(
            cls(name=_text(i.get("name")) or str(i.get("link", "")), link=str(i.get("link", "")))
            for i in items
            if isinstance(i, dict) and i.get("link")
        )


@dataclass(frozen=True)
class DataProvider:
    """Who makes a partner product (BGS, ...): ``thirdPartyInfo.dataProvider``."""

    name: str
    short_name: Optional[str] = None
    homepage: Optional[str] = None
    logo_url: Optional[str] = None


@dataclass(frozen=True)
class ThirdPartyInfo:
    """A partner product's ``thirdPartyInfo``: provider, its links and support address."""

    data_provider: Optional[DataProvider] = None
    supporting_info: Tuple[Link, ...] = ()
    also_available: Tuple[Link, ...] = ()
    support_email: Optional[str] = None

    @classmethod
    def from_json(cls, data: Any) -> Optional[ThirdPartyInfo]:
        if not isinstance(data, dict) or not data:
            return None
        raw = data.get("dataProvider")
        provider = None
        if isinstance(raw, dict) and (raw.get("name") or raw.get("shortName")):
            provider = DataProvider(
                name=_text(raw.get("name")) or _text(raw.get("shortName")),
                short_name=_opt_str(raw.get("shortName")),
                homepage=_opt_str(raw.get("homepage")),
                logo_url=_opt_str(raw.get("logoUrl")),
            )
        return cls(
            data_provider=provider,
            supporting_info=Link.many(data.get("supportingInfo")),
            also_available=Link.many(data.get("alsoAvailable")),
            support_email=_opt_str(data.get("supportEmail")),
        )


@dataclass(frozen=True)
class Product:
    """An OS OpenData product (list summary or full details)."""

    id: str
    name: str
    description: str
    version: str
    url: str
    documentation_url: Optional[str] = None
    areas: Tuple[str, ...] = ()
    data_structures: Tuple[str, ...] = ()
    category: Optional[str] = None
    categories: Tuple[str, ...] = ()
    formats: Tuple[ProductFormat, ...] = ()
    image_count: int = 0
    image_template: Optional[str] = None
    downloads_url: Optional[str] = None
    end_of_life: Optional[str] = None
    warning: Optional[str] = None
    data_provider: Optional[str] = None
    third_party_info: Optional[ThirdPartyInfo] = None
    supporting_info: Tuple[Link, ...] = ()

    @classmethod
    def from_json(cls, data: JsonDict) -> Product:
        data = validate.obj(data, "a product")
        third = data.get("thirdPartyInfo") or {}
        provider = (third.get("dataProvider") or {}) if isinstance(third, dict) else {}
        return cls(
            id=_text(data.get("id"), "id"),
            name=_text(data.get("name"), "name") or _text(data.get("id"), "id"),
            description=_text(data.get("description"), "description"),
            version=_text(data.get("version"), "version"),
            url=_text(data.get("url"), "url"),
            documentation_url=_opt_str(data.get("documentationUrl"), "documentationUrl"),
            areas=_strs(data.get("areas"), "areas"),
            data_structures=_strs(data.get("dataStructures"), "dataStructures"),
            category=_opt_str(data.get("category"), "category"),
            categories=_strs(data.get("categories"), "categories"),
            formats=tuple(
                ProductFormat.from_json(f)
                for f in validate.objects(data.get("formats"), "formats", optional=True)
            ),
            image_count=_opt_int(data.get("imageCount"), "imageCount") or 0,
            image_template=_opt_str(data.get("imageTemplate"), "imageTemplate"),
            downloads_url=_opt_str(data.get("downloadsUrl"), "downloadsUrl"),
            end_of_life=_opt_str(data.get("endOfLife"), "endOfLife"),
            warning=_opt_str(data.get("warning"), "warning"),
            data_provider=_opt_str(provider.get("name")) if isinstance(provider, dict) else None,
            third_party_info=ThirdPartyInfo.from_json(third),
            supporting_info=Link.many(data.get("supportingInfo")),
        )


@dataclass(frozen=True)
class Download:
    """A file of a data package version."""

    url: str
    file_name: str
    size: Optional[int] = None
    md5: Optional[str] = None

    @classmethod
    def from_json(cls, data: JsonDict) -> Download:
        data = validate.obj(data, "a download")
        return cls(
            url=_text(data.get("url"), "url"),
            file_name=validate.file_name(data.get("fileName")),
            size=_opt_int(data.get("size"), "size"),
            md5=_opt_str(data.get("md5"), "md5"),
        )

    def remote_file(self) -> RemoteFile:
        return RemoteFile(self.url, self.file_name, self.size, Checksum.of("md5", self.md5))


@dataclass(frozen=True)
class ProductDownload:
    """A file of an OpenData product, for one format/subformat/area."""

    url: str
    file_name: str
    area: str
    format: str
    subformat: Optional[str] = None
    size: Optional[int] = None
    md5: Optional[str] = None

    @classmethod
    def from_json(cls, data: JsonDict) -> ProductDownload:
        data = validate.obj(data, "a download")
        return cls(
            url=_text(data.get("url"), "url"),
            file_name=validate.file_name(data.get("fileName")),
            area=_text(data.get("area"), "area"),
            format=_text(data.get("format"), "format"),
            subformat=_opt_str(data.get("subformat"), "subformat"),
            size=_opt_int(data.get("size"), "size"),
            md5=_opt_str(data.get("md5"), "md5"),
        )

    def remote_file(self) -> RemoteFile:
        return RemoteFile(self.url, self.file_name, self.size, Checksum.of("md5", self.md5))


@dataclass(frozen=True)
class DataPackageVersionSummary:
    id: str
    url: str
    created_on: str
    reason: str
    supply_type: str
    product_version: str
    format: str
    data_package_url: Optional[str] = None

    @property
    def is_change_only(self) -> bool:
        """COU: a change-only update, to apply on top of its full supply."""
        return normalise_supply_type(self.supply_type) == SUPPLY_COU

    @property
    def is_full_supply(self) -> bool:
        return normalise_supply_type(self.supply_type) == SUPPLY_FULL

    @classmethod
    def _fields_from_json(cls, data: JsonDict) -> JsonDict:
        data = validate.obj(data, "a data package version")
        return dict(
            id=_text(data.get("id"), "id"),
            url=_text(data.get("url"), "url"),
            created_on=_text(data.get("createdOn"), "createdOn"),
            reason=_text(data.get("reason"), "reason"),
            supply_type=normalise_supply_type(_text(data.get("supplyType"), "supplyType")),
            product_version=_text(data.get("productVersion"), "productVersion"),
            # The spec requires productFormat; the API sends format.
            format=_text(data.get("format") or data.get("productFormat"), "format"),
            data_package_url=_opt_str(data.get("dataPackageUrl"), "dataPackageUrl"),
        )

    @classmethod
    def from_json(cls, data: JsonDict) -> DataPackageVersionSummary:
        return cls(**cls._fields_from_json(data))


@dataclass(frozen=True)
class DataPackageVersion(DataPackageVersionSummary):
    """A version with its files and links to its neighbours."""

    downloads: Tuple[Download, ...] = ()
    next_version_url: Optional[str] = None
    previous_version_url: Optional[str] = None

    @classmethod
    def from_json(cls, data: JsonDict) -> DataPackageVersion:
        return cls(
            **cls._fields_from_json(data),
            downloads=tuple(
                Download.from_json(d)
                for d in validate.objects(data.get("downloads"), "downloads", optional=True)
            ),
            next_version_url=_opt_str(data.get("nextVersionUrl"), "nextVersionUrl"),
            previous_version_url=_opt_str(data.get("previousVersionUrl"), "previousVersionUrl"),
        )


@dataclass(frozen=True)
class DataPackage:
    """A premium order made in the OS Data Hub, with its version summaries."""

    id: str
    name: str
    url: str
    created_on: str
    product_id: str
    product_name: str
    versions: Tuple[DataPackageVersionSummary, ...] = field(default_factory=tuple)

    @classmethod
    def from_json(cls, data: JsonDict) -> DataPackage:
        data = validate.obj(data, "a data package")
        return cls(
            id=_text(data.get("id"), "id"),
            name=_text(data.get("name"), "name"),
            url=_text(data.get("url"), "url"),
            created_on=_text(data.get("createdOn"), "createdOn"),
            product_id=_text(data.get("productId"), "productId"),
            product_name=_text(data.get("productName"), "productName"),
            versions=tuple(
                DataPackageVersionSummary.from_json(v)
                for v in validate.objects(data.get("versions"), "versions", optional=True)
            ),
        )


def sort_versions_newest_first(
    versions: List[DataPackageVersionSummary],
) -> List[DataPackageVersionSummary]:
    """Newest first by creation date, then by numeric id (ids grow over time)."""

    def key(v: DataPackageVersionSummary) -> Tuple[str, int, str]:
        return (v.created_on, int(v.id) if v.id.isdigit() else -1, v.id)

    return sorted(versions, key=key, reverse=True)
