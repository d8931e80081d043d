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

from qgis.core import QgsAuthMethodConfig

from ..core.errors import ConfigurationError
from ..core.redact import register_secret
from ..core.trud import DEFAULT_BASE_URL, parse_item
from ..i18n import tr
from .compat import auth_manager
from .settings import load_settings, save_settings

AUTH_METHOD = "Basic"
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


def _manager():
    manager = auth_manager()
    if manager is None or manager.isDisabled():
        raise ConfigurationError(
            tr("The QGIS Authentication Manager is not available."),
            hint=tr("Check Settings > Options > Authentication in QGIS."),
        )
    if not manager.masterPasswordIsSet() and not manager.setMasterPassword(True):
        raise ConfigurationError(
            tr("The QGIS Authentication Manager is locked."),
            hint=tr("Enter the QGIS master password to store or read your TRUD API key."),
        )
    return manager


def store_trud_key(key: str, authcfg: str = "") -> str:
    """Save the key (updating ``authcfg`` when it exists); returns the entry id."""
    key = (key or "").strip()
    if not key:
        raise ConfigurationError(tr("The TRUD API key is empty."))
    register_secret(key)
    manager = _manager()
    config = QgsAuthMethodConfig(AUTH_METHOD)
    config.setName(CONFIG_NAME)
    config.setUri(DEFAULT_BASE_URL)
    config.setConfig("username", key)
    config.setConfig("password", "")
    if authcfg and authcfg in manager.configIds():
        config.setId(authcfg)
        ok = manager.updateAuthenticationConfig(config)
    else:
        result = manager.storeAuthenticationConfig(config)
        ok, config = result if isinstance(result, tuple) else (bool(result), config)
    if not ok or not config.id():
        raise ConfigurationError(
            tr("The TRUD API key could not be saved in the QGIS Authentication Manager."),
            hint=tr("See the log panel (Authentication tab) for the reason."),
        )
    return config.id()


def load_trud_key(authcfg: str) -> Optional[str]:
    """The key behind ``authcfg`` (registered for redaction), or None."""
    manager = auth_manager()
    if not authcfg or manager is None or authcfg not in manager.configIds():
        return None
    _manager()
    config = QgsAuthMethodConfig()
    result = manager.loadAuthenticationConfig(authcfg, config, True)
    ok, config = result if isinstance(result, tuple) else (bool(result), config)
    key = config.config("username", "").strip() if ok else ""
    if key:
        register_secret(key)
    return key or None


def remove_trud_key(authcfg: str) -> None:
    manager = auth_manager()
    if authcfg and manager is not None and authcfg in manager.configIds():
        manager.removeAuthenticationConfig(authcfg)


def has_trud_key(authcfg: str) -> bool:
    """Whether the entry exists, without decrypting it (no master-password prompt)."""
    manager = auth_manager()
    return bool(authcfg) and manager is not None and authcfg in manager.configIds()
