"""The holding's errors: each says what is wrong and what to do (see ``core.errors``)."""

from __future__ import annotations

from ..errors import ConfigurationError, OSDownloadsError


class HoldingError(OSDownloadsError):
    """A holding cannot be read, or a version cannot be applied to it."""


class NotAHoldingError(HoldingError):
    """The file exists but is not a holding (or not a GeoPackage at all)."""


class OtherPackageError(HoldingError):
    """The GeoPackage holds another data package."""

    def __init__(self, path: str, held: str, wanted: str, *, hint: str = "") -> None:
        super().__init__(
            f"{path} holds data package {held}, not {wanted}.",
            hint=hint or "Choose another file for this package (one GeoPackage per data package).",
        )
        self.held = held
        self.wanted = wanted


class MissingVersionError(HoldingError):
    """A change-only update's predecessor is not in the holding (a gap in the chain)."""

    def __init__(
        self, version: str, missing: str, held: str, newest_full: str, *, rebuild_helps: bool
    ) -> None:
        if rebuild_helps:
            hint = (
                f"Start again from the newest full supply ({newest_full}): run the update "
                "with --rebuild, or into a new GeoPackage."
            )
        else:
            hint = (
                f"The API no longer lists version {missing}, so even the newest full supply "
                f"({newest_full}) cannot be brought up to date: ask OS for a re-supply (a new "
                "full supply) of the package; the next update starts again from it."
            )
        super().__init__(
            f"Change-only update {version} applies on top of version {missing}, "
            f"which is not in this holding (it holds up to {held or 'nothing'}).",
            hint=hint,
        )
        self.version = version
        self.missing = missing


class BadSupplyError(HoldingError):
    """A supply file is malformed: wrong field count, bad header/trailer, unreadable GML."""


class UnsupportedSupplyError(ConfigurationError):
    """The package's files are in a format the holding cannot read."""
