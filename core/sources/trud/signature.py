"""TRUD's legacy integrity chain: FCIV checksum XML + detached PGP signature.

Each TRUD release comes with ``trud_<name>.xml`` (a Microsoft FCIV database:
the archive's name and the base64 of its binary SHA-1), an ASCII-armoured
detached signature of that XML, and TRUD's public key. The archive's SHA-256
from the release list is enforced while streaming whatever happens here; this
module adds the signed chain on top when a verifier exists on the machine:

    public key --signs--> checksum XML --names + SHA-1--> archive

Verification runs ``gpgv`` (or ``gpg``) in a throw-away home folder with a
keyring holding only the key given, so the user's own GnuPG setup is never
read or changed. Without either program the outcome says plainly that the
signature was not checked. A signature that does not verify, or a checksum XML
that does not describe the archive, raises ``SignatureError`` /
``ChecksumMismatchError``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
import shutil
import subprocess
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, List, Optional, Sequence, Union

from ...errors import ChecksumMismatchError, SignatureError
from ...redact import get_logger

log = get_logger(__name__)

VERIFY_TIMEOUT_SECONDS = 60
NO_VERIFIER_MESSAGE = (
    "Signature not checked: no verifier on this machine (install GnuPG for gpgv). "
    "The SHA-256 from the release list was still enforced."
)
NO_VERIFIER_FOR_TRUSTED = (
    "Trusted key fingerprints were given, but no GnuPG (gpgv or gpg) was found "
    "to check the signature with"
)
NO_VERIFIER_FOR_TRUSTED_HINT = (
    "Install GnuPG (gpgv) or put it on PATH; nothing was accepted unchecked."
)
# Where Gpg4win and GnuPG for Windows put their programs when not on PATH.
_WINDOWS_GNUPG = (
    r"C:\Program Files (x86)\GnuPG\bin",
    r"C:\Program Files\GnuPG\bin",
    r"C:\Program Files (x86)\Gpg4win\bin",
)


@dataclass(frozen=True)
class Verifier:
    """A signature-checking program: ``gpgv`` (preferred) or ``gpg``."""

    kind: str  # "gpgv" or "gpg"
    path: str


@dataclass(frozen=True)
class SignatureOutcome:
    """What the signature check established, in words for a person."""

    checked: bool
    message: str
    fingerprint: Optional[str] = None  # primary key fingerprint of the signer
    verifier: Optional[str] = None  # "gpgv" / "gpg"

    def to_json(self) -> dict:
        return {
            "checked": self.checked,
            "message": self.message,
            "fingerprint": self.fingerprint,
            "verifier": self.verifier,
        }


@dataclass(frozen=True)
class FcivEntry:
    """One FILE_ENTRY of an FCIV checksum XML; digests are base64 as FCIV writes them."""

    name: str
    sha1: Optional[str] = None
    md5: Optional[str] = None


class _Auto:
    """Default marker: look for a verifier on this machine."""


AUTO = _Auto()
VerifierChoice = Union[Verifier, None, _Auto]


# --- finding a verifier --------------------------------------------------------


def find_verifier(search_path: Optional[str] = None) -> Optional[Verifier]:
    """``gpgv`` if found on PATH (or GnuPG's usual Windows folders), else ``gpg``, else None."""
    extra = os.pathsep.join(_WINDOWS_GNUPG) if os.name == "nt" else ""
    path = search_path if search_path is not None else os.environ.get("PATH", "")
    if extra:
        path = f"{path}{os.pathsep}{extra}" if path else extra
    for kind in ("gpgv", "gpg"):
        found = shutil.which(kind, path=path)
        if found:
            return Verifier(kind, found)
    return None


def require_verifier(trusted_fingerprints: Iterable[str], verifier: VerifierChoice = AUTO) -> None:
    """Refuse to go on when trusted fingerprints are asked for and nothing can check them.

    Pinning a key says "only this signer": passing such a run as "not checked"
    would quietly drop the one check the person asked for. Called before a
    download starts (so nothing is fetched in vain) and again by ``verify_detached``.
    """
    if not any(f for f in trusted_fingerprints):
        return
    chosen = find_verifier() if isinstance(verifier, _Auto) else verifier
    if chosen is None:
        raise SignatureError(NO_VERIFIER_FOR_TRUSTED, hint=NO_VERIFIER_FOR_TRUSTED_HINT)


# --- FCIV checksum XML -------------------------------------------------------------


def parse_fciv(data: bytes) -> List[FcivEntry]:
    """The entries of an FCIV XML database (tolerant of case and whitespace)."""
    # FCIV itself writes an upper-case ``<?XML ...?>`` declaration, which XML
    # parsers reject; the declaration says nothing we need, so drop it.
    text = data.decode("utf-8-sig", errors="replace")
    text = re.sub(r"^\s*<\?xml[^>]*\?>", "", text, flags=re.IGNORECASE)
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise SignatureError(f"The checksum file is not valid XML ({exc}).") from None
    entries = []
    for element in root.iter():
        if element.tag.upper() != "FILE_ENTRY":
            continue
        fields = {child.tag.upper(): (child.text or "").strip() for child in element}
        if fields.get("NAME"):
            entries.append(
                FcivEntry(fields["NAME"], fields.get("SHA1") or None, fields.get("MD5") or None)
            )
    if not entries:
        raise SignatureError("The checksum file lists no files (no FCIV FILE_ENTRY).")
    return entries


def _b64_digest(algorithm: str, path: Path) -> str:
    digest = hashlib.new(algorithm)
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return base64.b64encode(digest.digest()).decode("ascii")


def check_fciv(checksum_xml: Path, archive: Path) -> FcivEntry:
    """Check the archive against the checksum XML: its name, then its SHA-1 (or MD5).

    Raises ``SignatureError`` when the XML does not name the archive (a
    signature over it says nothing about this file) and
    ``ChecksumMismatchError`` when the digest differs.
    """
    entries = parse_fciv(Path(checksum_xml).read_bytes())
    wanted = archive.name
    entry = next((e for e in entries if Path(e.name.replace("\\", "/")).name == wanted), None)
    if entry is None:
        names = ", ".join(e.name for e in entries)
        raise SignatureError(
            f"The checksum file {Path(checksum_xml).name} is for {names}, not {wanted}.",
            hint="The release's files do not belong together; download the release again.",
        )
    for algorithm, expected in (("sha1", entry.sha1), ("md5", entry.md5)):
        if not expected:
            continue
        actual = _b64_digest(algorithm, archive)
        try:
            same = base64.b64decode(expected) == base64.b64decode(actual)
        except (binascii.Error, ValueError):
            same = False
        if not same:
            raise ChecksumMismatchError(wanted, f"{algorithm} (FCIV)", expected, actual)
        return entry
    raise SignatureError(f"The checksum file gives no SHA-1 or MD5 for {wanted}.")


# --- OpenPGP ---------------------------------------------------------------------


def dearmor(data: bytes) -> bytes:
    """Binary OpenPGP packets from ASCII armour (binary input is returned as is).

    Done here so that ``gpgv`` alone (which cannot import keys) is enough.
    """
    if data[:1] and data[0] & 0x80:
        return data
    lines = data.decode("ascii", errors="replace").splitlines()
    try:
        start = next(i for i, line in enumerate(lines) if line.startswith("-----BEGIN PGP"))
    except StopIteration:
        raise SignatureError(
            "The public key file is neither armoured nor binary OpenPGP."
        ) from None
    body: List[str] = []
    in_headers = True
    for line in lines[start + 1 :]:
        line = line.strip()
        if line.startswith("-----END PGP"):
            break
        if in_headers:
            if not line:
                in_headers = False
            elif ":" not in line:  # armour without headers or blank line
                in_headers = False
                body.append(line)
            continue
        if line.startswith("=") and len(line) == 5:  # CRC-24 line
            continue
        body.append(line)
    try:
        return base64.b64decode("".join(body), validate=False)
    except (binascii.Error, ValueError):
        raise SignatureError("The public key file's armour is damaged.") from None


def _run_verifier(verifier: Verifier, home: Path, keyring: Path, signature: Path, data: Path):
    common = ["--homedir", str(home), "--status-fd", "1"]
    if verifier.kind == "gpgv":
        command = [verifier.path, *common, "--keyring", str(keyring), str(signature), str(data)]
    else:
        command = [
            verifier.path,
            *common,
            "--batch",
            "--no-autostart",
            "--no-default-keyring",
            "--keyring",
            str(keyring),
            "--trust-model",
            "always",
            "--verify",
            str(signature),
            str(data),
        ]
    env = dict(os.environ, GNUPGHOME=str(home), LC_ALL="C", LANGUAGE="C")
    return subprocess.run(
        command,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=VERIFY_TIMEOUT_SECONDS,
        env=env,
        check=False,
    )


def _status_lines(output: bytes) -> List[List[str]]:
    return [
        line.split()[1:]
        for line in output.decode("utf-8", errors="replace").splitlines()
        if line.startswith("[GNUPG:] ")
    ]


def verify_detached(
    data: Path,
    signature: Path,
    public_key: Path,
    *,
    verifier: VerifierChoice = AUTO,
    trusted_fingerprints: Iterable[str] = (),
) -> SignatureOutcome:
    """Check a detached signature of ``data`` against the key in ``public_key`` alone.

    Returns an outcome with ``checked=False`` when there is no verifier;
    raises ``SignatureError`` when the signature is bad, made by another key,
    or (with ``trusted_fingerprints``) made by a key not in that list.
    """
    chosen = find_verifier() if isinstance(verifier, _Auto) else verifier
    if chosen is None:
        require_verifier(trusted_fingerprints, None)
        log.warning("%s", NO_VERIFIER_MESSAGE)
        return SignatureOutcome(False, NO_VERIFIER_MESSAGE)
    trusted = {f.replace(" ", "").upper() for f in trusted_fingerprints if f}
    key_bytes = dearmor(Path(public_key).read_bytes())
    with tempfile.TemporaryDirectory(prefix="os_downloads_gnupg_") as home_name:
        home = Path(home_name)
        os.chmod(home, 0o700)
        keyring = home / "trud-key.gpg"
        keyring.write_bytes(key_bytes)
        try:
            done = _run_verifier(chosen, home, keyring, Path(signature), Path(data))
        except (OSError, subprocess.SubprocessError) as exc:
            raise SignatureError(
                f"Could not run {chosen.kind} to check the signature: {exc}"
            ) from None
    status = _status_lines(done.stdout)
    codes = [s[0] for s in status if s]
    log.debug("%s exit %s, status %s", chosen.kind, done.returncode, codes)
    name = Path(data).name
    if "BADSIG" in codes:
        raise SignatureError(
            f"The signature of {name} is BAD: the file was changed after it was signed.",
            hint="Do not use this release; download it again (report it to TRUD if it persists).",
        )
    if "ERRSIG" in codes or "NO_PUBKEY" in codes:
        raise SignatureError(
            f"The signature of {name} was not made with the public key TRUD supplied, "
            "or could not be read.",
            hint="Do not use this release; download it again.",
        )
    valid = [s for s in status if s and s[0] == "VALIDSIG"]
    if done.returncode != 0 or "GOODSIG" not in codes or not valid:
        raise SignatureError(
            f"The signature of {name} did not verify ({chosen.kind} exit {done.returncode}).",
            hint="Do not use this release; download it again.",
        )
    fields = valid[0]
    fingerprint = (fields[-1] if len(fields) >= 10 else fields[1]).upper()
    signing = fields[1].upper() if len(fields) > 1 else fingerprint
    if trusted and not ({fingerprint, signing} & trusted):
        raise SignatureError(
            f"The signature of {name} is good but was made by key {fingerprint}, "
            "which is not one of the trusted TRUD keys.",
            hint="Check the key's fingerprint with NHS England before trusting it.",
        )
    how = "a trusted key" if trusted else "the public key TRUD supplied"
    return SignatureOutcome(
        True,
        f"Signature good: {name} was signed by {how} (fingerprint {fingerprint}).",
        fingerprint=fingerprint,
        verifier=chosen.kind,
    )


def check_release_signature(
    archive: Path,
    checksum_xml: Path,
    signature: Path,
    public_key: Path,
    *,
    verifier: VerifierChoice = AUTO,
    trusted_fingerprints: Sequence[str] = (),
) -> SignatureOutcome:
    """The whole chain: the XML's signature, then the XML against the archive.

    The FCIV content is checked even without a verifier (it then only proves
    the files agree, which the outcome's message says).
    """
    outcome = verify_detached(
        checksum_xml,
        signature,
        public_key,
        verifier=verifier,
        trusted_fingerprints=trusted_fingerprints,
    )
    entry = check_fciv(checksum_xml, archive)
    algorithm = "SHA-1" if entry.sha1 else "MD5"
    return SignatureOutcome(
        outcome.checked,
        f"{outcome.message} The checksum file names {archive.name} and its {algorithm} matches.",
        fingerprint=outcome.fingerprint,
        verifier=outcome.verifier,
    )
