"""API keys in the QGIS Authentication Manager: one entry per source (OS, NHS TRUD).

Why the "Basic" method: QGIS 3.22 has no "APIHeader" method (it came in
3.24), and the plugin never lets QGIS attach the credential to a request
anyway (core/ sends the ``key`` header itself, only to the API's origin). So
the entry is an encrypted container: username = key, password = secret or
empty. Basic exists in every QGIS from 3.0 to 4.x, so one entry works across
upgrades. Settings keep only the entry's id (authcfg); QGIS3.ini never holds
the key. Anything read back is registered with ``core.redact`` at once.

Per source: the OS Data Hub key and optional OAuth2 secret ("OS Downloads
API key", ``store_credentials``/``load_credentials``), and the NHS TRUD key
("NHS TRUD API key", ``store_trud_key``/``load_trud_key``; password empty).
TRUD puts its key in URL paths, so it is registered for redaction as soon as
it is typed or read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional, Tuple

from qgis.core import QgsAuthMethodConfig

from ..core.api.auth import Auth, make_auth
from ..core.errors import ConfigurationError
from ..core.redact import mask, register_secret
from ..core.sources.trud.client import DEFAULT_BASE_URL as TRUD_API_URL
from ..i18n import tr
from .compat import auth_manager

AUTH_METHOD = "Basic"
CONFIG_NAME = "OS Downloads API key"
CONFIG_URI = "https://api.os.uk/downloads/v1"
TRUD_CONFIG_NAME = "NHS TRUD API key"


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

    def to_auth(self) -> Optional[Auth]:
        """The core auth object: OAuth2 when a secret is given, else the key header."""
        return make_auth(self.key, self.secret)


# --- one "Basic" entry holding a key: shared by the OS key and the TRUD key ------------


def ready_manager(label: str):  # -> QgsAuthManager
    """The Authentication Manager, unlocked; ``label`` names the key in the messages."""
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
            hint=tr("Enter the QGIS master password to store or read your {label}.").format(
                label=label
            ),
        )
    return manager


def store_key_entry(
    name: str, uri: str, username: str, password: str, authcfg: str, *, label: str
) -> str:
    """Save username/password in a Basic entry; update ``authcfg`` when it exists.

    Returns the entry id. ``name`` and ``uri`` are what the user sees in the
    Authentication Manager; ``label`` names the key in the messages."""
    manager = ready_manager(label)
    config = QgsAuthMethodConfig(AUTH_METHOD)
    config.setName(name)
    config.setUri(uri)
    config.setConfig("username", username)
    config.setConfig("password", password)
    if authcfg and authcfg in manager.configIds():
        config.setId(authcfg)
        ok = manager.updateAuthenticationConfig(config)
    else:
        result = manager.storeAuthenticationConfig(config)
        ok, config = result if isinstance(result, tuple) else (bool(result), config)
    if not ok or not config.id():
        raise ConfigurationError(
            tr("The {label} could not be saved in the QGIS Authentication Manager.").format(
                label=label
            ),
            hint=tr("See the log panel (Authentication tab) for the reason."),
        )
    return config.id()


def load_key_entry(authcfg: str, *, label: str) -> Optional[Tuple[str, str]]:
    """(username, password) behind ``authcfg``, both registered for redaction.

    None when there is no such entry or it holds no username."""
    if not has_entry(authcfg):
        return None
    manager = ready_manager(label)
    config = QgsAuthMethodConfig()
    result = manager.loadAuthenticationConfig(authcfg, config, True)
    ok, config = result if isinstance(result, tuple) else (bool(result), config)
    username = config.config("username", "").strip() if ok else ""
    if not username:
        return None
    password = config.config("password", "").strip()
    register_secret(username)
    register_secret(password)
    return username, password


def remove_entry(authcfg: str) -> None:
    """Delete the entry, if there is one."""
    manager = auth_manager()
    if authcfg and manager is not None and authcfg in manager.configIds():
        manager.removeAuthenticationConfig(authcfg)


def is_unlocked() -> bool:
    """Whether the master password was entered in this session (asks nothing): reading
    a key now needs no prompt. Tabs list on their own only then; otherwise they wait
    for the user to ask, and say that QGIS will ask for its master password."""
    manager = auth_manager()
    return manager is not None and not manager.isDisabled() and manager.masterPasswordIsSet()


def has_entry(authcfg: str) -> bool:
    """Whether an entry exists, without decrypting it (no master-password prompt)."""
    manager = auth_manager()
    return bool(authcfg) and manager is not None and authcfg in manager.configIds()


# --- the OS key ----------------------------------------------------------------------


def store_credentials(credentials: ApiCredentials, authcfg: str = "") -> str:
    """Save the key/secret; update ``authcfg`` when it exists. Returns the entry id."""
    if not credentials.key.strip():
        raise ConfigurationError(tr("The API key is empty."))
    return store_key_entry(
        CONFIG_NAME,
        CONFIG_URI,
        credentials.key.strip(),
        credentials.secret.strip(),
        authcfg,
        label=tr("OS API key"),
    )


def load_credentials(authcfg: str) -> Optional[ApiCredentials]:
    """The key/secret behind ``authcfg``, or None when there is no such entry."""
    entry = load_key_entry(authcfg, label=tr("OS API key"))
    return ApiCredentials(*entry) if entry is not None else None


def remove_credentials(authcfg: str) -> None:
    """Delete the entry (the user cleared the key in the settings)."""
    remove_entry(authcfg)


def has_credentials(authcfg: str) -> bool:
    """Whether an entry exists, without decrypting it (no master-password prompt)."""
    return has_entry(authcfg)


# --- the NHS TRUD key ----------------------------------------------------------------


def store_trud_key(key: str, authcfg: str = "") -> str:
    """Save the key (updating ``authcfg`` when it exists); returns the entry id."""
    key = (key or "").strip()
    if not key:
        raise ConfigurationError(tr("The TRUD API key is empty."))
    register_secret(key)
    return store_key_entry(
        TRUD_CONFIG_NAME, TRUD_API_URL, key, "", authcfg, label=tr("TRUD API key")
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
