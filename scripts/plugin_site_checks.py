"""The checks plugins.qgis.org runs on an uploaded plugin zip, run here first.

Two parts, as on the site:

- the upload validator (an error refuses the upload): size, zip hygiene, the
  single top folder, metadata.txt and its required fields, LICENSE, icon,
  version/author/email/URL syntax, the deprecated ``supportsQt6``;
- the security scan queued after upload, whose *critical* checks (Bandit and
  detect-secrets) block the version on any finding of a mandatory rule.

The rules are the site's (qgis/QGIS-Plugins-Website: ``plugins/validator.py``,
``plugins/security_scanner.py`` and its seeded rule tables, see
research/qgis-plugin-practice.md §8); the code is ours. One check cannot run
here: the site sends a HEAD request to homepage, repository and tracker (10 s
timeout) and refuses addresses that do not answer. This machine has no
internet, so only the URLs' syntax is checked; ``scripts/package.py`` refuses a
release zip while the addresses are the project's known placeholders.

    python scripts/plugin_site_checks.py dist/os_downloads-<version>.zip [--no-scan]
"""

from __future__ import annotations

import argparse
import configparser
import json
import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET  # nosec B405 - our own icon, read at build time
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Dict, List, Sequence, Tuple

from package import placeholder_fields  # scripts/package.py: the one list of placeholders

MAX_ZIP_BYTES = 25_000_000
REQUIRED_FIELDS = (
    "name",
    "description",
    "version",
    "qgisMinimumVersion",
    "author",
    "email",
    "about",
    "tracker",
    "repository",
)
URL_FIELDS = ("homepage", "repository", "tracker")
FORBIDDEN_DIRS = ("__MACOSX", ".git", "__pycache__")
# The site's defaults from the old plugin template, refused as URLs.
FORBIDDEN_URLS = ("http://bugs", "http://repo", "http://homepage")
TOP_FOLDER = re.compile(r"^[A-Za-z][A-Za-z0-9_-]+$")

# Bandit tests enabled on the site that cannot be skipped (severity critical).
BANDIT_MANDATORY = [
    "B102",
    "B103",
    "B105",
    "B106",
    "B107",
    "B111",
    "B201",
    "B202",
    "B301",
    "B302",
    "B304",
    "B305",
    "B306",
    "B307",
    "B312",
    "B321",
    "B323",
    "B401",
    "B402",
    "B412",
    "B413",
    "B501",
    "B502",
    "B503",
    "B505",
    "B506",
    "B507",
    "B601",
    "B602",
    "B604",
    "B605",
    "B609",
    "B610",
    "B611",
    "B612",
    "B613",
    "B615",
    "B701",
]
# Enabled too, but skippable (the site skips them for XML-RPC uploads): reported, never fatal.
BANDIT_SKIPPABLE = [
    "B101",
    "B104",
    "B108",
    "B110",
    "B112",
    "B113",
    "B303",
    "B308",
    "B310",
    "B311",
    "B313",
    "B314",
    "B315",
    "B316",
    "B317",
    "B318",
    "B319",
    "B320",
    "B324",
    "B403",
    "B405",
    "B406",
    "B407",
    "B408",
    "B409",
    "B504",
    "B508",
    "B509",
    "B603",
    "B606",
    "B607",
    "B608",
    "B614",
    "B702",
    "B703",
    "B704",
]
# detect-secrets plugins the site enables and cannot skip.
SECRETS_MANDATORY = [
    "ArtifactoryDetector",
    "AWSKeyDetector",
    "AzureStorageKeyDetector",
    "BasicAuthDetector",
    "CloudantDetector",
    "DiscordBotTokenDetector",
    "GitHubTokenDetector",
    "GitLabTokenDetector",
    "IbmCloudIamDetector",
    "IbmCosHmacDetector",
    "JwtTokenDetector",
    "MailchimpDetector",
    "NpmDetector",
    "OpenAIDetector",
    "PrivateKeyDetector",
    "PypiTokenDetector",
    "SendGridDetector",
    "SlackDetector",
    "SoftlayerDetector",
    "SquareOAuthDetector",
    "StripeDetector",
    "TelegramBotTokenDetector",
    "TwilioKeyDetector",
]
SECRETS_SKIPPABLE = ("Base64HighEntropyString", "HexHighEntropyString", "KeywordDetector")

_EMAIL_USER = re.compile(
    r"^[-!#$%&'*+/=?^_`{}|~0-9a-z]+(?:\.[-!#$%&'*+/=?^_`{}|~0-9a-z]+)*$", re.IGNORECASE
)
_HOST_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$", re.IGNORECASE)
_TLD = re.compile(r"^(?!-)(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})(?<!-)$", re.IGNORECASE)
_URL = re.compile(
    r"^(?P<scheme>https?|ftps?)://(?:[^\s:@/]+(?::[^\s@/]*)?@)?(?P<host>[^\s:/?#]+)"
    r"(?::(?P<port>\d{1,5}))?(?P<rest>[/?#]\S*)?$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Finding:
    """One problem: ``check`` is the site's check or rule, ``blocking`` whether it refuses."""

    check: str
    message: str
    blocking: bool = True

    def __str__(self) -> str:
        return f"{'ERROR' if self.blocking else 'note'} [{self.check}] {self.message}"


def _is_domain(host: str) -> bool:
    labels = host.rstrip(".").split(".")
    if len(labels) < 2:
        return False
    return all(_HOST_LABEL.match(label) for label in labels) and bool(_TLD.match(labels[-1]))


def is_valid_email(value: str) -> bool:
    """An address Django's EmailValidator accepts (dot-atom local part, a real-looking domain)."""
    user, at, domain = value.strip().rpartition("@")
    if not at or not user or len(value) > 320:
        return False
    return bool(_EMAIL_USER.match(user)) and _is_domain(domain)


def is_valid_url(value: str) -> bool:
    """An http(s)/ftp(s) URL with a host name (or IPv4) and an optional port."""
    match = _URL.match(value.strip())
    if not match:
        return False
    host = match.group("host")
    if match.group("port") and int(match.group("port")) > 65535:
        return False
    if re.fullmatch(r"\d{1,3}(?:\.\d{1,3}){3}", host):
        return all(int(part) <= 255 for part in host.split("."))
    return host.lower() == "localhost" or _is_domain(host)


def _hygiene(names: Sequence[str]) -> List[Finding]:
    found = []
    for name in names:
        parts = PurePosixPath(name).parts
        if ".pyc" in name:
            found.append(Finding("forbidden file", f"{name}: no .pyc files"))
        for forbidden in FORBIDDEN_DIRS:
            if forbidden in parts[:-1] or (forbidden in parts and name.endswith("/")):
                found.append(Finding("forbidden file", f"{name}: no {forbidden} folder"))
        if "\\" in name:
            found.append(Finding("zip names", f"{name!r}: backslash in a name"))
        if re.match(r"^[A-Za-z]:", name):
            found.append(Finding("zip names", f"{name!r}: drive letter in a name"))
        if name.startswith("/") or ".." in parts:
            found.append(Finding("zip names", f"{name!r}: path outside the plugin folder"))
    return found


def _metadata(text: str) -> Tuple[Dict[str, str], List[Finding]]:
    found: List[Finding] = []
    plain = configparser.ConfigParser(interpolation=None)
    plain.optionxform = str  # type: ignore[assignment,method-assign]
    try:
        plain.read_string(text)
    except configparser.Error as exc:
        return {}, [Finding("metadata", f"metadata.txt does not parse: {exc}")]
    if not plain.has_section("general"):
        return {}, [Finding("metadata", "metadata.txt has no [general] section")]
    metadata = {k: v.strip() for k, v in plain["general"].items()}
    # QGIS reads metadata.txt with interpolation on: a bare % breaks it there.
    interpolating = configparser.ConfigParser()
    try:
        interpolating.read_string(text)
        dict(interpolating["general"])
    except configparser.Error as exc:
        found.append(Finding("metadata", f"QGIS could not read metadata.txt: {exc}"))
    missing = [key for key in REQUIRED_FIELDS if not metadata.get(key)]
    if missing:
        found.append(Finding("metadata", "required fields missing: " + ", ".join(missing)))
    if " " in metadata.get("version", ""):
        found.append(Finding("metadata", "version must not contain spaces"))
    if "/" in metadata.get("author", ""):
        found.append(Finding("metadata", "author must not contain slashes"))
    if metadata.get("email") and not is_valid_email(metadata["email"]):
        found.append(Finding("metadata", f"email {metadata['email']!r} is not a valid address"))
    for key in URL_FIELDS:
        value = metadata.get(key, "")
        if value and (value in FORBIDDEN_URLS or not is_valid_url(value)):
            found.append(Finding("metadata", f"{key} {value!r} is not a valid URL"))
    for key in placeholder_fields(metadata):
        if metadata.get(key):
            found.append(
                Finding(
                    "metadata",
                    f"{key} {metadata[key]!r} is a placeholder the site cannot confirm or reach",
                )
            )
    if "supportsQt6" in metadata:
        found.append(
            Finding(
                "metadata",
                "supportsQt6 is deprecated: qgisMaximumVersion decides QGIS 4 support",
            )
        )
    return metadata, found


def _icon(archive: zipfile.ZipFile, top: str, icon: str) -> List[Finding]:
    name = f"{top}/{icon.lstrip('./')}"
    if name not in archive.namelist():
        return [Finding("icon", f"icon {icon!r} is not in the zip")]
    if icon.lower().endswith(".svg"):
        try:
            root = ET.fromstring(archive.read(name))  # nosec B314 - our own file
        except ET.ParseError as exc:
            return [Finding("icon", f"{icon} is not well-formed SVG: {exc}")]
        if not root.tag.endswith("svg"):
            return [Finding("icon", f"{icon} is not an SVG document")]
    return []


def validate_zip(path: Path) -> List[Finding]:
    """The upload validator's verdict on ``path``: an empty list means accepted."""
    size = path.stat().st_size
    if size > MAX_ZIP_BYTES:
        return [Finding("size", f"{size} bytes, over the {MAX_ZIP_BYTES} byte limit")]
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        return [Finding("zip", f"not a zip file: {exc}")]
    with archive:
        names = archive.namelist()
        found = _hygiene(names)
        bad = archive.testzip()
        if bad is not None:
            found.append(Finding("zip", f"{bad}: CRC check failed"))
        tops = {PurePosixPath(n).parts[0] for n in names if PurePosixPath(n).parts}
        loose = [n for n in names if "/" not in n.strip("/")]
        if len(tops) != 1 or any(not n.endswith("/") for n in loose):
            return found + [Finding("layout", f"the zip must hold one folder, not {sorted(tops)}")]
        top = tops.pop()
        if not TOP_FOLDER.match(top) or not top.isidentifier():
            found.append(Finding("layout", f"top folder {top!r} is not a valid package name"))
        for required in ("__init__.py", "metadata.txt", "LICENSE"):
            if f"{top}/{required}" not in names:
                found.append(Finding("layout", f"{top}/{required} is missing"))
        if f"{top}/metadata.txt" not in names:
            return found
        metadata, problems = _metadata(archive.read(f"{top}/metadata.txt").decode("utf-8"))
        found += problems
        if metadata.get("icon"):
            found += _icon(archive, top, metadata["icon"])
    return found


# --- the security scan ---------------------------------------------------------------


def _tool(module: str, *args: str, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(  # nosec B603 - fixed argument lists, no shell
        [sys.executable, "-m", module, *args],
        cwd=str(cwd),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _json_output(result: subprocess.CompletedProcess, tool: str) -> dict:
    try:
        return json.loads(result.stdout)
    except ValueError:
        raise RuntimeError(f"{tool} gave no JSON report: {result.stderr[-800:]}") from None


def bandit_findings(folder: Path) -> List[Finding]:
    """Bandit on the extracted plugin, every test the site enables; mandatory ones block."""
    tests = ",".join(sorted(BANDIT_MANDATORY + BANDIT_SKIPPABLE))
    result = _tool("bandit", "-r", ".", "-f", "json", "--quiet", "-t", tests, cwd=folder)
    report = _json_output(result, "bandit")
    if report.get("errors"):
        raise RuntimeError(f"bandit could not scan: {report['errors']}")
    return [
        Finding(
            f"bandit {issue['test_id']}",
            f"{issue['filename'].lstrip('./')}:{issue['line_number']}: {issue['issue_text']}",
            blocking=issue["test_id"] in BANDIT_MANDATORY,
        )
        for issue in report.get("results", [])
    ]


def secrets_findings(folder: Path) -> List[Finding]:
    """detect-secrets as the site runs it; mandatory detectors block, the others are notes."""
    listed = _tool("detect_secrets", "scan", "--list-all-plugins", cwd=folder)
    every_plugin = [line.strip() for line in listed.stdout.splitlines() if line.strip()]
    if "BasicAuthDetector" not in every_plugin:
        raise RuntimeError(f"detect-secrets did not list its plugins: {listed.stderr[-800:]}")
    enabled = set(SECRETS_MANDATORY) | set(SECRETS_SKIPPABLE)
    disable: List[str] = []
    for plugin in every_plugin:
        if plugin not in enabled:
            disable += ["--disable-plugin", plugin]
    args = ["scan", "--all-files", "--exclude-files", r"metadata\.txt", *disable, "."]
    report = _json_output(_tool("detect_secrets", *args, cwd=folder), "detect-secrets")
    mandatory_types = _secret_types(folder, SECRETS_MANDATORY, every_plugin)
    found = []
    for file_name, secrets in sorted(report.get("results", {}).items()):
        for secret in secrets:
            found.append(
                Finding(
                    f"detect-secrets {secret.get('type')}",
                    f"{file_name}:{secret.get('line_number')}",
                    blocking=secret.get("type") in mandatory_types,
                )
            )
    return found


def _secret_types(folder: Path, plugins: Sequence[str], every_plugin: Sequence[str]) -> set:
    """The human-readable ``type`` names detect-secrets reports for these plugin classes."""
    code = (
        "import json, sys\n"
        "from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class\n"
        "names = set(sys.argv[1:])\n"
        "print(json.dumps([t for t, c in get_mapping_from_secret_type_to_class().items()"
        " if c.__name__ in names]))\n"
    )
    result = subprocess.run(  # nosec B603 - fixed argument list, no shell
        [sys.executable, "-c", code, *plugins],
        cwd=str(folder),
        capture_output=True,
        text=True,
        timeout=120,
    )
    return set(_json_output(result, "detect-secrets plugin list"))


def security_scan(path: Path) -> List[Finding]:
    """Bandit and detect-secrets on the zip's contents, as the site's scan runs them."""
    with tempfile.TemporaryDirectory(prefix="plugin-scan-") as tmp:
        with zipfile.ZipFile(path) as archive:
            archive.extractall(tmp)  # nosec B202 - validate_zip checked the names first
        folder = Path(tmp)
        return bandit_findings(folder) + secrets_findings(folder)


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("zip", type=Path)
    parser.add_argument("--no-scan", action="store_true", help="the validator only")
    args = parser.parse_args(list(argv))
    findings = validate_zip(args.zip)
    if not args.no_scan and not any(f.blocking for f in findings):
        findings += security_scan(args.zip)
    for finding in findings:
        print(finding)
    blocking = [f for f in findings if f.blocking]
    verdict = "REFUSED" if blocking else "accepted"
    print(f"{args.zip.name}: {verdict} ({len(blocking)} blocking, {len(findings)} in all)")
    return 1 if blocking else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
