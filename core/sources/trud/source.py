"""NHS TRUD: the ``"trud"`` source, over the TRUD client, fetch and sync kind of this package.

Items are numbers; each release is a complete set, so only the newest matters.
Files carry SHA-256 from the release list, downloads are resolved by the TRUD
client (the key is in the URL path and masked everywhere), and the legacy
PGP chain is checked before extraction (``fetch.py``). The rest of this
package: ``client.py`` (the API), ``window.py`` (TRUD's hours for automated
downloads), ``signature.py``, ``ods_xml.py``, ``tables.py``, ``sync_kind.py``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, List, Tuple

from ...api.models import LATEST
from ...engine.manifest import SOURCE_TRUD, Manifest
from ...engine.pipeline import FetchPlan
from ..base import ClientFor, Held, UpdateCheck, default_held_key, version_check
from .fetch import plan_trud_release
from .sync_kind import KIND, TrudItems


class Trud:
    """The TRUD source (``core/sources/base.py`` says what each part is for)."""

    kind = SOURCE_TRUD
    title = "NHS TRUD item"
    sync: TrudItems = KIND

    def releases(self, client: Any, id: str) -> List[Any]:
        """The item's releases, newest first."""
        return list(client.releases(int(id)))

    def describe(self, client: Any, id: str) -> Any:
        return client.release(int(id))

    def plan_fetch(
        self, client: Any, dest_root: Path, *, item: Any, release_id: str = LATEST, **checks: Any
    ) -> FetchPlan:
        """``checks``: ``verify_signature``, ``trusted_fingerprints``, ``verifier``."""
        return plan_trud_release(client, item, release_id, dest_root=dest_root, **checks).plan

    def held_key(self, manifest: Manifest) -> Tuple[Tuple[str, ...], str]:
        return default_held_key(manifest)

    def check_update(self, held: Held, client_for: ClientFor) -> UpdateCheck:
        """Newer when TRUD's newest release of the item is not one held."""
        return version_check(held, client_for(SOURCE_TRUD).release(int(held.id)).id)
