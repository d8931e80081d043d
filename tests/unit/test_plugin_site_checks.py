"""The release zip passes the checks plugins.qgis.org runs on an upload.

The validator's rules and the security scan's mandatory rules are re-run by
scripts/plugin_site_checks.py (bandit and detect-secrets from PyPI, pinned in
requirements/test.txt to the site's versions). The site also sends a HEAD
request to homepage/repository/tracker; there is no internet here, so only
their syntax is checked (scripts/package.py refuses the known placeholders).
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Dict, List, Optional

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = ROOT / "scripts"
sys.path.insert(0, str(SCRIPTS))
try:
    import plugin_site_checks as site
finally:
    sys.path.remove(str(SCRIPTS))

REAL_LOOKING = {
    "email": "plugins@os-downloads-maintainers.org.uk",
    "homepage": "https://gitlab.com/os-downloads-maintainers/os_downloads",
    "repository": "https://gitlab.com/os-downloads-maintainers/os_downloads",
    "tracker": "https://gitlab.com/os-downloads-maintainers/os_downloads/-/issues",
}
GOOD_METADATA = "[general]\n" + "".join(
    f"{k}={v}\n"
    for k, v in {
        "name": "Tiny",
        "description": "A tiny plugin",
        "version": "1.0",
        "qgisMinimumVersion": "3.22",
        "qgisMaximumVersion": "4.99",
        "author": "Someone",
        "about": "Does nothing.",
        "icon": "icon.svg",
        **REAL_LOOKING,
    }.items()
)
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"/>'


@pytest.fixture(scope="module")
def release_zip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`make package` with the placeholders replaced: the release path, not --dev."""
    out = tmp_path_factory.mktemp("release") / "os_downloads-release.zip"
    fields = [arg for key, value in REAL_LOOKING.items() for arg in ("--set", f"{key}={value}")]
    result = subprocess.run(
        [sys.executable, str(SCRIPTS / "package.py"), "zip", "--out", str(out), *fields],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return out


def _zip(tmp_path: Path, files: Dict[str, bytes], name: str = "plugin.zip") -> Path:
    path = tmp_path / name
    with zipfile.ZipFile(path, "w") as archive:
        for arcname, data in files.items():
            archive.writestr(arcname, data)
    return path


def _tiny(
    metadata: str = GOOD_METADATA, extra: Optional[Dict[str, bytes]] = None
) -> Dict[str, bytes]:
    files = {
        "tiny/__init__.py": b"def classFactory(iface):\n    return None\n",
        "tiny/metadata.txt": metadata.encode(),
        "tiny/LICENSE": b"GPL",
        "tiny/icon.svg": SVG,
    }
    files.update(extra or {})
    return files


def _blocking(findings: List[site.Finding]) -> List[str]:
    return [str(f) for f in findings if f.blocking]


def test_the_validator_accepts_the_release_zip(release_zip: Path) -> None:
    assert site.validate_zip(release_zip) == []


def test_the_security_scan_finds_nothing_mandatory_in_the_release_zip(release_zip: Path) -> None:
    findings = site.security_scan(release_zip)
    assert not _blocking(findings), "\n".join(_blocking(findings))
    # The scan did run: skippable findings (asserts, md5 for checksums) show up as notes.
    assert any(f.check.startswith("bandit ") for f in findings)


def test_the_command_reports_accepted(release_zip: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(SCRIPTS / "plugin_site_checks.py"), str(release_zip)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "accepted (0 blocking" in result.stdout


def test_a_tiny_good_plugin_passes(tmp_path: Path) -> None:
    assert site.validate_zip(_zip(tmp_path, _tiny())) == []


@pytest.mark.parametrize(
    "change, expected",
    [
        (("version=1.0", "version=1.0 beta"), "version must not contain spaces"),
        (("author=Someone", "author=Some/One"), "author must not contain slashes"),
        (("email=plugins@os-downloads-maintainers.org.uk", "email=nobody"), "email 'nobody'"),
        (
            (
                "tracker=https://gitlab.com/os-downloads-maintainers/os_downloads/-/issues",
                "tracker=http://bugs",
            ),
            "tracker 'http://bugs'",
        ),  # fmt: skip
        (("about=Does nothing.\n", ""), "required fields missing: about"),
        (("icon=icon.svg", "icon=missing.png"), "icon 'missing.png' is not in the zip"),
        (("[general]\n", "[general]\nsupportsQt6=True\n"), "supportsQt6 is deprecated"),
        (
            ("email=plugins@os-downloads-maintainers.org.uk", "email=me@example.org"),
            "email 'me@example.org' is a placeholder",
        ),  # fmt: skip
        (("about=Does nothing.", "about=100% nothing."), "QGIS could not read metadata.txt"),
    ],
)
def test_metadata_rules(tmp_path: Path, change, expected: str) -> None:
    metadata = GOOD_METADATA.replace(*change)
    problems = _blocking(site.validate_zip(_zip(tmp_path, _tiny(metadata))))
    assert any(expected in p for p in problems), problems


@pytest.mark.parametrize(
    "name, expected",
    [
        ("tiny/core/__pycache__/x.cpython-311.pyc", "no .pyc files"),
        ("tiny/.git/config", "no .git folder"),
        ("tiny/__MACOSX/x", "no __MACOSX folder"),
        ("tiny\\evil.py", "backslash"),
        ("tiny/../../evil.py", "outside the plugin folder"),
        ("C:/evil.py", "drive letter"),
        ("other/x.py", "one folder"),
    ],
)
def test_zip_hygiene(tmp_path: Path, name: str, expected: str) -> None:
    files = _tiny()
    files[name] = b"x"
    problems = _blocking(site.validate_zip(_zip(tmp_path, files)))
    assert any(expected in p for p in problems), problems


def test_layout_rules(tmp_path: Path) -> None:
    files = {k.replace("tiny/", "tiny-plugin/"): v for k, v in _tiny().items()}
    del files["tiny-plugin/LICENSE"]
    problems = _blocking(site.validate_zip(_zip(tmp_path, files)))
    assert any("'tiny-plugin' is not a valid package name" in p for p in problems)
    assert any("tiny-plugin/LICENSE is missing" in p for p in problems)


def test_a_zip_over_25_mb_is_refused(tmp_path: Path) -> None:
    big = tmp_path / "big.zip"
    with zipfile.ZipFile(big, "w", compression=zipfile.ZIP_STORED) as archive:
        for arcname, data in _tiny().items():
            archive.writestr(arcname, data)
        archive.writestr("tiny/data.bin", b"\0" * (site.MAX_ZIP_BYTES + 1))
    assert "over the 25000000 byte limit" in _blocking(site.validate_zip(big))[0]


def test_the_scan_blocks_what_the_site_blocks(tmp_path: Path) -> None:
    """The false positives we marked are real findings without the markers."""
    code = (
        b'TOKEN_PATH = "/oauth2/token/v1"\n'
        b'SECRET_ENV = "OS_API_SECRET"\n'
        b'"""Example: http://user:pa55word@proxy.local:8080"""\n'
    )
    findings = site.security_scan(_zip(tmp_path, _tiny(extra={"tiny/settings.py": code})))
    blocking = _blocking(findings)
    assert sum("bandit B105" in f for f in blocking) == 2, blocking
    assert any("Basic Auth Credentials" in f for f in blocking), blocking


@pytest.mark.parametrize(
    "address, valid",
    [
        ("plugins@os-downloads-maintainers.org.uk", True),
        ("first.last+qgis@example-mail.co", True),
        ("no-at-sign", False),
        ("two@@signs.org", False),
        ("user@localhost", False),
        ("user@dom_ain.org", False),
    ],
)
def test_email_syntax(address: str, valid: bool) -> None:
    assert site.is_valid_email(address) is valid


@pytest.mark.parametrize(
    "url, valid",
    [
        ("https://github.com/owner/repo/issues", True),
        ("http://10.0.0.1:8080/x", True),
        ("github.com/owner/repo", False),
        ("https://", False),
        ("https://exa mple.org", False),
        ("http://bugs", False),
    ],
)
def test_url_syntax(url: str, valid: bool) -> None:
    assert (site.is_valid_url(url) and url not in site.FORBIDDEN_URLS) is valid
