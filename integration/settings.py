"""Typed plugin settings over QgsSettings, keys under ``os_downloads/``.

A dataclass holds the defaults and the types; QgsSettings stores the values.
Reading goes through ``type=`` so booleans come back as booleans (QSettings
otherwise hands back "true"/"false" strings from the .ini file). The API key
is never a setting: only the id of its Authentication Manager entry is.
Each source with settings of its own keeps a dataclass in its own group
(TRUD: ``TrudSettings`` under ``os_downloads/trud``) through
``load_settings``/``save_settings``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any, List, Type, TypeVar

from qgis.core import QgsApplication, QgsSettings

from ..core.sources.trud.client import parse_item

GROUP = "os_downloads"
TRUD_GROUP = "os_downloads/trud"
T = TypeVar("T")


@dataclass
class PluginSettings:
    """What the settings page edits. Empty strings mean "use the default"."""

    download_folder: str = ""  # "" -> default_download_folder()
    authcfg: str = ""  # id of the Authentication Manager entry holding the key
    api_url: str = ""  # "" -> env OS_DOWNLOADS_API_URL -> the real API
    parallel_downloads: int = 4
    extract_after_download: bool = True
    load_after_download: bool = True
    style_layers: bool = True  # our cartographic styles on load; off: QGIS's defaults
    build_raster_overviews: bool = True  # large rasters without overviews get them in the task

    @property
    def download_root(self) -> Path:
        """Where products go (core.jobs adds one sub-folder per product/version)."""
        folder = self.download_folder.strip()
        return Path(folder).expanduser() if folder else default_download_folder()

    @property
    def workers(self) -> int:
        return min(max(int(self.parallel_downloads), 1), 16)


def default_download_folder() -> Path:
    """A folder in the user's QGIS profile: writable, per user, survives upgrades."""
    return Path(QgsApplication.qgisSettingsDirPath()) / "os_downloads"


def _read(settings: QgsSettings, key: str, default: Any) -> Any:
    kind = type(default)
    try:
        value = settings.value(key, default, type=kind)
    except TypeError:  # a value of another type was stored by hand
        return default
    return default if value is None else kind(value)


def load_settings(cls: Type[T], group: str = GROUP) -> T:
    """An instance of the dataclass ``cls`` read from ``group/…`` keys."""
    qs = QgsSettings()
    values = {}
    for f in dataclasses.fields(cls):
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
        values[f.name] = _read(qs, f"{group}/{f.name}", default)
    return cls(**values)


def save_settings(values: Any, group: str = GROUP) -> None:
    """Write every field of the dataclass instance ``values`` under ``group/``."""
    qs = QgsSettings()
    for f in dataclasses.fields(values):
        qs.setValue(f"{group}/{f.name}", getattr(values, f.name))
    qs.sync()


def load() -> PluginSettings:
    return load_settings(PluginSettings)


def save(values: PluginSettings) -> None:
    save_settings(values)


# --- NHS TRUD ------------------------------------------------------------------------


@dataclass
class TrudSettings:
    """What the NHS TRUD tab remembers (group ``os_downloads/trud``); never the key."""

    authcfg: str = ""  # id of the Authentication Manager entry holding the key
    api_url: str = ""  # "" -> env TRUD_API_URL -> the real TRUD API
    items: str = ""  # item numbers the user added, comma separated, in the order added
    verify_signature: bool = True

    @property
    def item_numbers(self) -> List[int]:
        numbers: List[int] = []
        for part in self.items.split(","):
            part = part.strip()
            if part.isdigit() and int(part) not in numbers:
                numbers.append(int(part))
        return numbers

    def with_items(self, numbers: List[int]) -> TrudSettings:
        return TrudSettings(
            self.authcfg, self.api_url, ",".join(str(n) for n in numbers), self.verify_signature
        )


def load_trud_settings() -> TrudSettings:
    return load_settings(TrudSettings, TRUD_GROUP)


def save_trud_settings(values: TrudSettings) -> None:
    save_settings(values, TRUD_GROUP)


def add_item(values: TrudSettings, text: str) -> TrudSettings:
    """The settings with one more item (a number or a TRUD releases web address)."""
    number = parse_item(text)
    numbers = values.item_numbers
    if number not in numbers:
        numbers.append(number)
    return values.with_items(numbers)


def remove_item(values: TrudSettings, number: int) -> TrudSettings:
    return values.with_items([n for n in values.item_numbers if n != int(number)])
