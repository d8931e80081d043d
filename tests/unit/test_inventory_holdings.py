"""My downloads lists holdings too: a holding built from the replica, its versions and state."""

from __future__ import annotations

from pathlib import Path

from os_downloads.core.api.auth import ApiKeyAuth
from os_downloads.core.api.client import OSDownloadsClient
from os_downloads.core.holdings.update import update_holding
from os_downloads.core.local.holdings_inventory import is_holding_file, list_holdings
from os_downloads.core.local.inventory import STATE_CURRENT, STATE_UNCHECKED

TOPO = "0040163512"


def test_a_holding_under_the_root_and_one_remembered_are_listed_with_their_state(
    replica, tmp_path: Path
) -> None:
    root = tmp_path / "downloads"
    root.mkdir()
    (root / "plain.gpkg").write_bytes(b"not a holding")  # ignored, no error
    inside = root / "topo.gpkg"
    elsewhere = tmp_path / "elsewhere" / "topo-2.gpkg"
    elsewhere.parent.mkdir()
    with OSDownloadsClient(replica.api_url, auth=ApiKeyAuth(replica.api_key)) as client:
        update_holding(client, TOPO, inside, to_version="6401102")
        update_holding(client, TOPO, elsewhere)

        assert is_holding_file(inside) and not is_holding_file(root / "plain.gpkg")
        offline = list_holdings([root], [elsewhere, inside])
        assert sorted(h.path for h in offline) == sorted([inside.resolve(), elsewhere.resolve()])
        assert all(h.state == STATE_UNCHECKED and h.kind == "holding" for h in offline)

        checked = {h.path: h for h in list_holdings([root], [elsewhere], client=client)}
    partial, whole = checked[inside.resolve()], checked[elsewhere.resolve()]
    assert partial.package_id == TOPO and partial.title
    assert (partial.version, partial.versions) == ("6401102", 2)
    assert partial.state == "2 change-only updates pending"
    assert len(partial.pending) == 2 and "6401103" in partial.pending[0]
    assert partial.when and partial.size_on_disk == inside.stat().st_size
    assert (whole.version, whole.versions, whole.state) == ("6401104", 4, STATE_CURRENT)
    assert whole.to_json()["pending"] == []
