"""A typed client for the NHS TRUD release API.

TRUD has two endpoints: the release list of an item
(``{base}/keys/{key}/items/{item}/releases[?latest]``, newest first) and the
download URLs that list hands out. The account's API key is a path segment of
every one of those URLs, by TRUD's design, so it is registered with
``core.redact`` the moment it enters and every URL that reaches a message or a
log line is redacted. TRUD's own error shapes (400 BAD REQUEST for a bad key,
401 for a disabled key, 404 with a message echoing the key for an unknown or
unsubscribed item, 404 for every download error) become the typed errors of
``core.errors`` with words a person can act on.
"""

from __future__ import annotations

import logging
import os
import posixpath
import re
import threading
from dataclasses import dataclass
from typing import Any, Dict, List, Optional
from urllib.parse import quote, unquote, urlsplit

import requests

from ...api.models import LATEST, Checksum, RemoteFile, _opt_int, _opt_str
from ...errors import (
    ApiError,
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    NotFoundError,
    RateLimitedError,
    ServerError,
)
from ...net.http import HttpClient
from ...net.responses import response_json
from ...net.retry import RetryPolicy
from ...net.transport import resolve_base_url
from ...redact import RedactingFilter, get_logger, mask, redact, register_secret

log = get_logger(__name__)

DEFAULT_BASE_URL = "https://isd.digital.nhs.uk/trud/api/v1"
BASE_URL_ENV = "TRUD_API_URL"
KEY_ENV = "TRUD_API_KEY"
SOURCE = "trud"

KEY_HINT = (
    "Copy the API key from your TRUD account page (it changes whenever the account's "
    "email address or password changes); command line: set TRUD_API_KEY."
)
_ITEM_IN_PATH = re.compile(r"/items/(\d+)/releases")
_KEY_IN_MESSAGE = re.compile(r"(API key )(\S+?)(,)")


# Third-party loggers that print request URLs (with TRUD's key in the path)
# when someone turns on DEBUG logging.
_URL_LOGGERS = ("urllib3.connectionpool", "requests")


def _guard_url_loggers() -> None:
    for name in _URL_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactingFilter) for f in logger.filters):
            logger.addFilter(RedactingFilter())


# --- models ------------------------------------------------------------------


@dataclass(frozen=True)
class TrudFile:
    """One downloadable file of a release: archive, checksum XML, signature or key.

    ``url`` carries the API key in its path; show ``safe_url`` instead.
    """

    url: str
    file_name: str
    size: Optional[int] = None
    last_modified: Optional[str] = None
    sha256: Optional[str] = None  # lower-case hex; only the archive has one

    @property
    def safe_url(self) -> str:
        return redact(self.url)

    @property
    def url_file_name(self) -> str:
        """The last segment of the URL path (TRUD's names and URLs can disagree)."""
        return unquote(posixpath.basename(urlsplit(self.url).path))

    def remote_file(self, save_as: Optional[str] = None) -> RemoteFile:
        """What the download engine fetches; SHA-256 checked when known."""
        return RemoteFile(
            url=self.url,
            file_name=save_as or self.file_name,
            size=self.size,
            checksum=Checksum.of("sha256", self.sha256),
        )

    def to_json(self) -> Dict[str, Any]:
        """The file's fields with the URL redacted (for --json, reports, manifests)."""
        data: Dict[str, Any] = {
            "url": self.safe_url,
            "fileName": self.file_name,
            "sizeBytes": self.size,
            "lastModifiedTimestamp": self.last_modified,
        }
        if self.sha256:
            data["sha256"] = self.sha256
        return data

    @classmethod
    def from_json(
        cls, data: Dict[str, Any], prefix: str, *, sha256: bool = False
    ) -> Optional[TrudFile]:
        """The ``<prefix>FileUrl``/``FileName``/... fields, or None without a URL."""
        url = _opt_str(data.get(f"{prefix}FileUrl"))
        if not url:
            return None
        name = _opt_str(data.get(f"{prefix}FileName")) or unquote(
            posixpath.basename(urlsplit(url).path)
        )
        digest = _opt_str(data.get(f"{prefix}FileSha256")) if sha256 else None
        return cls(
            url=url,
            file_name=name,
            size=_opt_int(data.get(f"{prefix}FileSizeBytes")),
            last_modified=_opt_str(data.get(f"{prefix}FileLastModifiedTimestamp")),
            sha256=digest.strip().lower() if digest else None,
        )


@dataclass(frozen=True)
class TrudRelease:
    """One release of a TRUD item, with every field the release list gives.

    ``id`` is opaque (older releases use ``DIAGIMG_29.0.0_…``, newer ones the
    archive file name): never parse it. The checksum, signature and public-key
    files are the legacy integrity chain; any of them may be absent.
    """

    item: int
    id: str
    name: str
    release_date: str
    archive: TrudFile
    checksum_file: Optional[TrudFile] = None
    signature_file: Optional[TrudFile] = None
    public_key_file: Optional[TrudFile] = None
    public_key_id: Optional[int] = None

    @classmethod
    def from_json(cls, data: Dict[str, Any], item: int) -> TrudRelease:
        archive = TrudFile.from_json(data, "archive", sha256=True)
        if archive is None:
            archive = TrudFile(
                url="", file_name=str(data.get("archiveFileName") or data.get("id") or "")
            )
        return cls(
            item=int(item),
            id=str(data.get("id") or archive.file_name),
            name=str(data.get("name") or data.get("id") or archive.file_name),
            release_date=str(data.get("releaseDate") or ""),
            archive=archive,
            checksum_file=TrudFile.from_json(data, "checksum"),
            signature_file=TrudFile.from_json(data, "signature"),
            public_key_file=TrudFile.from_json(data, "publicKey"),
            public_key_id=_opt_int(data.get("publicKeyId")),
        )

    @property
    def signature_save_name(self) -> Optional[str]:
        """Where to keep the signature: named after its URL (``trud_X.xml.asc``).

        The list says ``signatureFileName: trud_X.sig`` while the URL serves
        ``trud_X.xml.asc`` (an ASCII-armoured detached signature of the XML);
        the URL's name is the one tools such as gpg expect beside the XML.
        """
        if self.signature_file is None:
            return None
        from_url = self.signature_file.url_file_name
        return from_url if from_url.endswith(".asc") else self.signature_file.file_name

    @property
    def has_signature_chain(self) -> bool:
        return None not in (self.checksum_file, self.signature_file, self.public_key_file)

    @property
    def size(self) -> Optional[int]:
        return self.archive.size

    def remote_files(self, *, integrity_files: bool = True) -> List[RemoteFile]:
        """The archive, then (optionally) the checksum XML, signature and key."""
        files = [self.archive.remote_file()]
        if integrity_files:
            if self.checksum_file:
                files.append(self.checksum_file.remote_file())
            if self.signature_file:
                files.append(self.signature_file.remote_file(self.signature_save_name))
            if self.public_key_file:
                files.append(self.public_key_file.remote_file())
        return files

    def to_json(self) -> Dict[str, Any]:
        """Every field, URLs redacted: safe to print, log or keep in a manifest."""
        return {
            "item": self.item,
            "id": self.id,
            "name": self.name,
            "releaseDate": self.release_date,
            "archive": self.archive.to_json(),
            "checksumFile": self.checksum_file.to_json() if self.checksum_file else None,
            "signatureFile": self.signature_file.to_json() if self.signature_file else None,
            "publicKeyFile": self.public_key_file.to_json() if self.public_key_file else None,
            "publicKeyId": self.public_key_id,
        }


# --- errors ------------------------------------------------------------------


def _redact_message(message: str) -> str:
    """TRUD echoes the key in its 404 message; mask it even if unregistered."""
    return redact(
        _KEY_IN_MESSAGE.sub(lambda m: m.group(1) + mask(m.group(2)) + m.group(3), message)
    )


def trud_api_error(response: requests.Response, url: str) -> ApiError:
    """The typed error for a TRUD error response (``url`` already redacted)."""
    status = response.status_code
    body = response_json(response)
    said = ""
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        said = _redact_message(body["message"])
    detail = f" TRUD said: {said}" if said else ""
    if status == 400:
        return BadRequestError(
            f"TRUD did not accept the API key (HTTP 400).{detail}",
            status=status,
            url=url,
            hint=KEY_HINT,
        )
    if status == 401:
        return AuthenticationError(
            f"TRUD API access is disabled for this key (HTTP 401).{detail}",
            status=status,
            url=url,
            hint=KEY_HINT,
        )
    if status == 404:
        item = _ITEM_IN_PATH.search(urlsplit(url).path)
        if item:
            return NotFoundError(
                f"TRUD has no releases of item {item.group(1)} for this API key: either there is "
                f"no item {item.group(1)}, or this account is not subscribed to it (HTTP 404).",
                status=status,
                url=url,
                hint="Check the item number (it is in the item's TRUD web address, "
                ".../items/N/releases) and subscribe to the item on the TRUD website.",
            )
        name = unquote(posixpath.basename(urlsplit(url).path))
        return NotFoundError(
            f"TRUD could not supply {name} (HTTP 404).",
            status=status,
            url=url,
            hint="List the item's releases again: the release may have been withdrawn, or the "
            "API key may have changed since the list was fetched.",
        )
    if status == 429:
        return RateLimitedError(
            "TRUD's request limit was reached (HTTP 429) and retrying did not help.",
            status=status,
            url=url,
        )
    if status >= 500:
        return ServerError(
            f"TRUD failed (HTTP {status}).{detail}",
            status=status,
            url=url,
            hint="TRUD may be in planned maintenance; automated runs belong on weekdays "
            "09:00-18:00 or 00:00-06:00 UK time.",
        )
    return ApiError(f"Unexpected HTTP {status} from TRUD at {url}.{detail}", status=status, url=url)


# --- client ------------------------------------------------------------------


def key_from_env() -> Optional[str]:
    """The key from TRUD_API_KEY, as TRUD's own sample scripts read it."""
    key = os.environ.get(KEY_ENV, "").strip()
    if key:
        register_secret(key)
    return key or None


def parse_item(value: Any) -> int:
    """An item number from a number, a string, or a TRUD releases web address."""
    text = str(value).strip()
    found = re.search(r"/items/(\d+)", text)
    if found:
        text = found.group(1)
    if not text.isdigit() or int(text) <= 0:
        raise ConfigurationError(
            f"{redact(str(value))!r} is not a TRUD item number.",
            hint="Item numbers are in the item's TRUD web address: .../items/N/releases.",
        )
    return int(text)


class TrudClient:
    """Release lists and file fetches for one TRUD account key."""

    def __init__(
        self,
        api_key: Optional[str] = None,
        base_url: Optional[str] = None,
        session: Optional[requests.Session] = None,
        *,
        retry: Optional[RetryPolicy] = None,
        cancel: Optional[threading.Event] = None,
    ) -> None:
        key = (api_key or "").strip() or key_from_env()
        if not key:
            raise ConfigurationError(
                "No TRUD API key is configured.",
                hint="Plugin: add it in the NHS TRUD tab; command line: set TRUD_API_KEY. "
                "The key is shown on your TRUD account page.",
            )
        register_secret(key)
        register_secret(quote(key, safe=""))  # the form it takes in every URL
        _guard_url_loggers()
        self._key = key
        self.base_url = resolve_base_url(
            base_url, env_var=BASE_URL_ENV, default=DEFAULT_BASE_URL, name="TRUD API"
        )
        self.http = HttpClient(session, retry=retry, cancel=cancel, error_factory=trud_api_error)

    @property
    def session(self) -> requests.Session:
        return self.http.session

    @property
    def masked_key(self) -> str:
        return mask(self._key)

    def releases_url(self, item: int, latest: bool = False) -> str:
        url = f"{self.base_url}/keys/{quote(self._key, safe='')}/items/{int(item)}/releases"
        return url + "?latest" if latest else url

    def releases(self, item: Any, latest: bool = False) -> List[TrudRelease]:
        """The item's releases, newest first as TRUD lists them (only the newest if ``latest``)."""
        number = parse_item(item)
        url = self.releases_url(number, latest)
        body = self.http.get_json(url)
        if not isinstance(body, dict):
            raise ApiError(
                f"TRUD sent an unexpected answer for item {number}.", status=200, url=redact(url)
            )
        version = str(body.get("apiVersion", ""))
        if version and version != "1":
            log.warning("TRUD answered with apiVersion %s; this plugin knows version 1.", version)
        found = [
            TrudRelease.from_json(r, number)
            for r in body.get("releases") or ()
            if isinstance(r, dict)
        ]
        log.info("TRUD item %s: %d release(s)%s", number, len(found), " (latest)" if latest else "")
        return found

    def release(self, item: Any, release_id: Optional[str] = LATEST) -> TrudRelease:
        """One release by id or archive file name; ``latest`` (or None) for the newest."""
        number = parse_item(item)
        if not release_id or release_id == LATEST:
            found = self.releases(number, latest=True)
            if not found:
                raise NotFoundError(
                    f"TRUD lists no releases of item {number}.",
                    status=404,
                    url=redact(self.releases_url(number, True)),
                )
            return found[0]
        releases = self.releases(number)
        for release in releases:
            if release_id in (release.id, release.archive.file_name, release.name):
                return release
        known = ", ".join(r.id for r in releases[:5])
        raise NotFoundError(
            f"Item {number} has no release {release_id!r}.",
            status=404,
            url=redact(self.releases_url(number)),
            hint=f"Known releases (newest first): {known}" if known else "",
        )

    def fetch_bytes(self, file: TrudFile) -> bytes:
        """A small file (checksum XML, signature, public key) in memory."""
        response = self.http.request("GET", file.url)
        try:
            return response.content
        finally:
            response.close()

    def resolve(self, remote: RemoteFile) -> str:
        """For the download engine: TRUD URLs are the files themselves."""
        return remote.url
