"""The NHS TRUD key in the QGIS Authentication Manager, and the TRUD tab's settings.

The OS key's helper (``integration/auth.py``) names its entry for the OS API;
TRUD gets its own entry ("NHS TRUD API key", URI the TRUD API) in the same
way: the "Basic" method as an encrypted container, username = key, password
empty. QgsSettings keep only the entry's id, the item numbers the user added
and the API URL override; never the key. The key is registered with
``core.redact`` as soon as it is read, because TRUD puts it in URL paths.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional

from ..core.errors import ConfigurationError
from ..core.redact import register_secret
from ..core.trud import DEFAULT_BASE_URL, parse_item
from ..i18n import tr
from .auth import has_entry, load_key_entry, remove_entry, store_key_entry
from .settings import load_settings, save_settings

CONFIG_NAME = "NHS TRUD API key"
SETTINGS_GROUP = "os_downloads/trud"


@dataclass
class TrudSettings:
    """What the NHS TRUD tab remembers (QgsSettings group ``os_downloads/trud``)."""

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
    return load_settings(TrudSettings, SETTINGS_GROUP)


def save_trud_settings(values: TrudSettings) -> None:
    save_settings(values, SETTINGS_GROUP)


def add_item(values: TrudSettings, text: str) -> TrudSettings:
    """The settings with one more item (a number or a TRUD releases web address)."""
    number = parse_item(text)
    numbers = values.item_numbers
    if number not in numbers:
        numbers.append(number)
    return values.with_items(numbers)


def remove_item(values: TrudSettings, number: int) -> TrudSettings:
    return values.with_items([n for n in values.item_numbers if n != int(number)])


def store_trud_key(key: str, authcfg: str = "") -> str:
    """Save the key (updating ``authcfg`` when it exists); returns the entry id."""
    key = (key or "").strip()
    if not key:
        raise ConfigurationError(tr("The TRUD API key is empty."))
    register_secret(key)
    return store_key_entry(
        CONFIG_NAME, DEFAULT_BASE_URL, key, "", authcfg, label=tr("TRUD API key")
    )


def load_trud_key(authcfg: str) -> Optional[str]:
    """The key behind ``authcfg`` (registered for redaction), or None."""
    entry = load_key_entry(authcfg, label=tr("TRUD API key"))
    return entry[0] if entry is not None else None


def remove_trud_key(authcfg: str) -> None:
    remove_entry(authcfg)


def has_trud_key(authcfg: str) -> bool:
    """Whether the entry exists, without decrypting it (no master-password prompt)."""
    return has_entry(authcfg)
