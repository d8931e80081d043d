"""The OS Data Hub key (and optional OAuth2 secret) in the QGIS Authentication Manager.

Why the "Basic" method: QGIS 3.22 has no "APIHeader" method (it came in
3.24), and the plugin never lets QGIS attach the credential to a request
anyway (core/ sends the ``key`` header itself, only to the API's origin). So
the entry is an encrypted container: username = key, password = secret or
empty. Basic exists in every QGIS from 3.0 to 4.x, so one entry works across
upgrades. Settings keep only the entry's id (authcfg); QGIS3.ini never holds
the key. Anything read back is registered with ``core.redact`` at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional, Union

from qgis.core import QgsAuthMethodConfig

from ..core.auth import ApiKeyAuth, OAuth2ClientCredentials
from ..core.errors import ConfigurationError
from ..core.redact import mask, register_secret
from ..i18n import tr
from .compat import auth_manager

AUTH_METHOD = "Basic"
CONFIG_NAME = "OS Downloads API key"
CONFIG_URI = "https://api.os.uk/downloads/v1"


@dataclass(frozen=True)
class ApiCredentials:
    """What the user typed in the settings; the repr never shows the values."""

    key: str = field(repr=False)
    secret: str = field(default="", repr=False)

    def __post_init__(self) -> None:
        register_secret(self.key)
        register_secret(self.secret)

    @property
    def masked_key(self) -> str:
        return mask(self.key)

    def to_auth(self) -> Union[ApiKeyAuth, OAuth2ClientCredentials]:
        """The core auth object: OAuth2 when a secret is given, else the key header."""
        if self.secret:
            return OAuth2ClientCredentials(self.key, self.secret)
        return ApiKeyAuth(self.key)


def _manager_ready() -> None:
    manager = auth_manager()
    if manager is None or manager.isDisabled():
        raise ConfigurationError(
            tr("The QGIS Authentication Manager is not available."),
            hint=tr("Check Settings > Options > Authentication in QGIS."),
        )
    # Asks for (or sets up) the master password in the desktop; False if refused.
    if not manager.masterPasswordIsSet() and not manager.setMasterPassword(True):
        raise ConfigurationError(
            tr("The QGIS Authentication Manager is locked."),
            hint=tr("Enter the QGIS master password to store or read your OS API key."),
        )


def store_credentials(credentials: ApiCredentials, authcfg: str = "") -> str:
    """Save the key/secret; update ``authcfg`` when it exists. Returns the entry id."""
    if not credentials.key.strip():
        raise ConfigurationError(tr("The API key is empty."))
    _manager_ready()
    manager = auth_manager()
    config = QgsAuthMethodConfig(AUTH_METHOD)
    config.setName(CONFIG_NAME)
    config.setUri(CONFIG_URI)
    config.setConfig("username", credentials.key.strip())
    config.setConfig("password", credentials.secret.strip())
    if authcfg and authcfg in manager.configIds():
        config.setId(authcfg)
        ok = manager.updateAuthenticationConfig(config)
    else:
        result = manager.storeAuthenticationConfig(config)
        ok, config = result if isinstance(result, tuple) else (bool(result), config)
    if not ok or not config.id():
        raise ConfigurationError(
            tr("The API key could not be saved in the QGIS Authentication Manager."),
            hint=tr("See the log panel (Authentication tab) for the reason."),
        )
    return config.id()


def load_credentials(authcfg: str) -> Optional[ApiCredentials]:
    """The key/secret behind ``authcfg``, or None when there is no such entry."""
    if not authcfg:
        return None
    manager = auth_manager()
    if manager is None or authcfg not in manager.configIds():
        return None
    _manager_ready()
    config = QgsAuthMethodConfig()
    result = manager.loadAuthenticationConfig(authcfg, config, True)
    if isinstance(result, tuple):  # PyQGIS returns (ok, config)
        ok, config = result
    else:
        ok = bool(result)
    key = config.config("username", "").strip() if ok else ""
    if not key:
        return None
    return ApiCredentials(key, config.config("password", "").strip())


def remove_credentials(authcfg: str) -> None:
    """Delete the entry (the user cleared the key in the settings)."""
    manager = auth_manager()
    if authcfg and manager is not None and authcfg in manager.configIds():
        manager.removeAuthenticationConfig(authcfg)


def has_credentials(authcfg: str) -> bool:
    """Whether an entry exists, without decrypting it (no master-password prompt)."""
    manager = auth_manager()
    return bool(authcfg) and manager is not None and authcfg in manager.configIds()
