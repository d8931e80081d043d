"""What the settings page's buttons ask: is the server there, does the key work,
can files be written in that folder. Network calls run on the runner's pool.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Callable, Optional

from ..core.api.auth import make_auth
from ..core.api.client import BASE_URL_ENV, DEFAULT_BASE_URL, OSDownloadsClient
from ..core.redact import register_secret
from ..i18n import tr
from . import settings as plugin_settings
from .background import BackgroundRunner
from .client_factory import call_then_close, require_credentials
from .network import build_session


def api_url_in_use(typed: str) -> tuple:
    """(url, where from): the field's value, else the environment variable, else OS's."""
    if typed.strip():
        return typed.strip(), tr("this setting")
    env = os.environ.get(BASE_URL_ENV, "").strip()
    if env:
        return env, tr("the {env} environment variable").format(env=BASE_URL_ENV)
    return DEFAULT_BASE_URL, tr("the default")


def folder_problem(path: str) -> Optional[str]:
    """None when files can be written in ``path`` (made if missing); else why not."""
    folder = Path(path or plugin_settings.default_download_folder()).expanduser()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".os_downloads-check-"):
            pass
    except OSError as exc:
        return tr("Files cannot be written in {folder}: {why}. Choose another folder.").format(
            folder=folder, why=exc.strerror or exc.__class__.__name__
        )
    return None


def check_connection(
    runner: BackgroundRunner,
    api_url: str,
    on_ok: Callable[[str], None],
    on_error: Callable[[BaseException], None],
) -> None:
    """List the OpenData products (no key): the words for ``on_ok``."""
    try:
        client = OSDownloadsClient(base_url=api_url or None, session=build_session())
    except Exception as exc:  # noqa: BLE001 - a bad URL is worded by the caller
        on_error(exc)
        return

    def call(c: OSDownloadsClient) -> str:
        count = len(c.products())
        return tr("Connected to {url}: {count} products listed.").format(
            url=c.base_url, count=count
        )

    runner.submit(call_then_close(client, call), on_ok, on_error)


def check_key(
    runner: BackgroundRunner,
    api_url: str,
    key: str,
    secret: str,
    authcfg: str,
    on_ok: Callable[[str], None],
    on_error: Callable[[BaseException], None],
) -> None:
    """List the data packages with the typed key (else the stored one)."""
    try:
        if key.strip():
            register_secret(key.strip())
            auth = make_auth(key.strip(), secret.strip() or None)
        else:
            from .auth import load_credentials

            credentials = load_credentials(authcfg) if authcfg else None
            auth = credentials.to_auth() if credentials is not None else None
        client = require_credentials(
            OSDownloadsClient(base_url=api_url or None, auth=auth, session=build_session())
        )
    except Exception as exc:  # noqa: BLE001
        on_error(exc)
        return

    def call(c: OSDownloadsClient) -> str:
        count = len(c.data_packages())
        return tr("The key works: {count} data packages in this project.").format(count=count)

    runner.submit(call_then_close(client, call), on_ok, on_error)
