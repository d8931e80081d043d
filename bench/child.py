"""A download in its own process, reporting its peak memory (used by the memory benchmark).

``python -m os_downloads.bench.child --api-url URL --key KEY --package ID --version V --dest DIR``
or ``--product ID`` instead of ``--package``; ``--workers N``; ``--no-hash`` replaces
the engine's hasher with a no-op (and drops the listed checksums) to measure
what hashing costs; ``--range-connections N --range-threshold BYTES`` are the
engine's settings for one large file fetched as parallel ranges (``TransferLimits``'
``ranges_per_file`` and ``ranged_min_bytes``; an engine without them says so in
the report and fetches as it does).
Prints one JSON line: ``{"peak_rss_bytes", "seconds", "bytes", "files",
"verified", "range_settings"}``. Peak RSS is the kernel's high-water mark for
this process (``VmHWM``, else ``ru_maxrss``); the download runs in its own
process so the replica serving it does not share its interpreter.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import resource
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from ..core.api.auth import make_auth
from ..core.api.client import OSDownloadsClient
from ..core.api.models import RemoteFile
from ..core.engine import download as engine
from ..core.engine import transfer
from ..core.engine.tries import TransferLimits


class _NoHash:
    """Stands in for hashlib when measuring the engine without hashing."""

    def update(self, data: bytes) -> None:
        pass

    def hexdigest(self) -> str:
        return ""


def peak_rss_bytes() -> int:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return maxrss if sys.platform == "darwin" else maxrss * 1024


def limits_with(settings: Dict[str, int]) -> Tuple[TransferLimits, str]:
    """``TransferLimits`` with those of ``settings`` it has; what became of them, in words."""
    known = {f.name for f in dataclasses.fields(TransferLimits)}
    chosen = {name: value for name, value in settings.items() if name in known}
    limits = dataclasses.replace(TransferLimits(), **chosen)
    if not settings:
        return limits, "engine defaults"
    if chosen == settings:
        return limits, "applied"
    missing = ", ".join(sorted(set(settings) - set(chosen)))
    return limits, f"unknown to this engine: {missing}"


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--api-url", required=True)
    parser.add_argument("--key")
    parser.add_argument("--product")
    parser.add_argument("--package")
    parser.add_argument("--version", default="latest")
    parser.add_argument("--dest", type=Path, required=True)
    parser.add_argument("--workers", type=int, default=engine.DEFAULT_WORKERS)
    parser.add_argument("--no-hash", action="store_true")
    parser.add_argument("--range-connections", type=int)
    parser.add_argument("--range-threshold", type=int)
    args = parser.parse_args(argv)
    ranged = {"ranges_per_file": args.range_connections, "ranged_min_bytes": args.range_threshold}
    limits, range_settings = limits_with({k: v for k, v in ranged.items() if v is not None})
    client = OSDownloadsClient(args.api_url, auth=make_auth(args.key))
    if args.product:
        files = [d.remote_file() for d in client.product_downloads(args.product)]
    else:
        version = client.data_package_version(args.package, args.version)
        files = [d.remote_file() for d in version.downloads]
    if args.no_hash:
        transfer.new_hasher = lambda algorithm: _NoHash()  # type: ignore[assignment]
        files = [RemoteFile(f.url, f.file_name, f.size, None) for f in files]
    started = time.perf_counter()
    result = engine.download_files(
        files,
        args.dest,
        resolve=lambda f: client.resolve_download(f.url),
        session=client.storage_session,
        workers=args.workers,
        limits=limits,
    )
    seconds = time.perf_counter() - started
    print(
        json.dumps(
            {
                "peak_rss_bytes": peak_rss_bytes(),
                "seconds": seconds,
                "bytes": result.bytes_transferred,
                "files": len(result.files),
                "verified": sum(1 for f in result.files if f.verified),
                "range_settings": range_settings,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
