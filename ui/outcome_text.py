"""The words of the one message a download ends with: what happened, in a line or two.

Kept apart from the message bar plumbing (``ui/dock.py``) so each rule is one
function a test can read: what was fetched ("Downloaded 52 MB" or "Loaded from
your earlier download (nothing new)"), what was loaded ("2 layers"), and what
deserves a warning (files not checked, datasets that could not be read).
The folder is behind the "Open folder" button, never in the text.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any, List

from qgis.core import Qgis

from ..core.errors import describe
from ..core.formatting import format_bytes
from ..i18n import tr


@dataclass
class OutcomeMessage:
    """What the message bar shows: title, text, level, and whether "Settings" helps."""

    title: str
    text: str
    level: Qgis.MessageLevel
    settings_help: bool = False
    network_help: bool = False  # the proxy or the connection: QGIS's network options


def layers_phrase(count: int) -> str:
    """ "1 layer", "2 layers" (plurals by count, not "layer(s)")."""
    if count == 1:
        return tr("1 layer")
    return tr("{count} layers").format(count=count)


def files_phrase(count: int) -> str:
    if count == 1:
        return tr("1 file")
    return tr("{count} files").format(count=count)


def fetched_sentence(result: Any) -> str:
    """What the network did: new bytes, or nothing new."""
    download = result.download
    if download.downloaded_count == 0:
        return tr("Loaded from your earlier download (nothing new)")
    transferred = download.bytes_transferred or sum(f.size for f in download.downloaded)
    return tr("Downloaded {amount}").format(amount=format_bytes(transferred))


# TRUD lists its checksum and signature files without a checksum of their own: they
# are what the archive is checked with (SHA-256 and the signature), not data.
_TRUD_INTEGRITY_SUFFIXES = (".xml", ".asc", ".sig", ".pgp")


def _integrity_file(result: Any, name: str) -> bool:
    source = str(getattr(result.manifest, "source", "") or "")
    return source == "trud" and name.lower().endswith(_TRUD_INTEGRITY_SUFFIXES)


def warnings_for(result: Any, report: Any) -> List[str]:
    """Everything a user should not miss, each a sentence naming the files."""
    warnings: List[str] = []
    unverified = [f for f in result.unverified if not _integrity_file(result, f.name)]
    if unverified:
        names = ", ".join(f.name for f in unverified[:3])
        more = "…" if len(unverified) > 3 else ""
        warnings.append(
            tr("{files} could not be checked: the listing has no checksum ({names}{more}).").format(
                files=files_phrase(len(unverified)), names=names, more=more
            )
        )
    unreadable = dict(getattr(result.manifest, "unreadable", {}) or {})
    for ref, problem in list(unreadable.items())[:3]:
        warnings.append(
            tr("{name} could not be read: {problem}").format(
                name=PurePosixPath(str(ref)).name, problem=problem.rstrip(".") + "."
            )
        )
    if len(unreadable) > 3:
        warnings.append(
            tr("{count} more could not be read (see the log).").format(count=len(unreadable) - 3)
        )
    for problem in getattr(result, "problems", ()) or ():
        if not any(problem in w for w in warnings):
            warnings.append(str(problem).rstrip(".") + ".")
    if report is not None and report.skipped:
        warnings.append(
            tr("{layers} could not be opened: {names} (see the log).").format(
                layers=layers_phrase(len(report.skipped)),
                names=", ".join(name for name, _why in report.skipped[:3]),
            )
        )
    return warnings


def outcome_message(outcome: Any) -> OutcomeMessage:
    """The message for a ``DownloadOutcome``."""
    title = tr("OS Downloads")
    if outcome.cancelled:
        return OutcomeMessage(
            title,
            tr("{title}: cancelled; nothing was loaded.").format(title=outcome.title),
            Qgis.MessageLevel.Info,
        )
    if not outcome.ok:
        error = outcome.error or RuntimeError()
        return OutcomeMessage(
            tr("{title}: download failed").format(title=outcome.title),
            describe(
                error, key_setting=tr("the OS Downloads settings (Settings button in the dock)")
            ),
            Qgis.MessageLevel.Critical,
            settings_help=settings_would_help(error),
            network_help=network_would_help(error),
        )
    result = outcome.prepared.result
    report = outcome.report
    if report is not None and getattr(report, "already_loaded", False):
        return OutcomeMessage(
            title,
            tr('Already in the project as "{group}": shown there, not added again.').format(
                group=report.group_name
            ),
            Qgis.MessageLevel.Info,
        )
    fetched = fetched_sentence(result)
    if report is not None and report.layers:
        text = tr('{fetched}: {layers} in "{group}".').format(
            fetched=fetched, layers=layers_phrase(report.layer_count), group=report.group_name
        )
    elif outcome.load_requested:
        text = tr("{fetched}; no layers were found to load.").format(fetched=fetched)
    else:
        text = tr("{fetched}.").format(fetched=fetched)
    warnings = warnings_for(result, report)
    if warnings:
        return OutcomeMessage(
            tr("{title}: loaded with warnings").format(title=outcome.title),
            " ".join([text, *warnings]),
            Qgis.MessageLevel.Warning,
        )
    return OutcomeMessage(title, text, Qgis.MessageLevel.Success)


def settings_would_help(error: BaseException) -> bool:
    """The key or the network set-up (proxy, API URL) is the cause: offer "Settings"."""
    from ..core import errors

    if getattr(error, "about_os_key", False):
        return True
    kinds = (
        errors.NetworkError,
        errors.ConfigurationError,
        errors.AuthenticationError,
        errors.ForbiddenError,
    )
    return isinstance(error, kinds)


def network_would_help(error: BaseException) -> bool:
    """No answer or a broken connection: QGIS's proxy settings may be the cause."""
    from ..core import errors

    return isinstance(error, errors.NetworkError)
