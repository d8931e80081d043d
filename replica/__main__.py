"""Command line: ``python -m os_downloads.replica serve|generate``.

``serve`` makes the sample data if needed, starts the API (with its OAuth2
token endpoint), storage and TRUD origins, prints their URLs and the demo
credentials, and serves until interrupted (Ctrl+C or SIGTERM).
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from pathlib import Path
from typing import List, Optional

from .data.datadir import default_data_dir, ensure_sample_data


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m os_downloads.replica")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the replica until interrupted")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--api-port", type=int, default=8765)
    serve.add_argument("--storage-port", type=int, default=8766)
    serve.add_argument("--trud-port", type=int, default=8767)
    serve.add_argument(
        "--rate-limit", type=int, default=600, help="API requests per minute (0: off)"
    )
    serve.add_argument(
        "--retry-after",
        type=float,
        default=None,
        help="seconds sent as Retry-After with a 429 (default: no header)",
    )
    for command in (serve, commands.add_parser("generate", help="only make the sample data")):
        command.add_argument("--data-dir", type=Path, default=None)
        command.add_argument(
            "--large-gb",
            type=float,
            default=0,
            help="also make files of about this many GB (benchmarks)",
        )
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    data_dir = args.data_dir or default_data_dir(args.large_gb)
    print(f"Sample data: {data_dir} (generating if missing or outdated)...", flush=True)
    ensure_sample_data(data_dir, large_gb=args.large_gb)
    if args.command == "generate":
        print(f"Sample data ready in {data_dir}")
        return 0
    from .server import ReplicaServer

    server = ReplicaServer(
        data_dir,
        host=args.host,
        api_port=args.api_port,
        storage_port=args.storage_port,
        trud_port=args.trud_port,
        rate_limit_per_minute=args.rate_limit or None,
        retry_after=args.retry_after,
    )
    print(f"Hashed {server.warm_checksums()} files.", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with server:
        print(
            "OS Downloads replica running\n"
            f"  API:       {server.api_url}\n"
            f"  OAuth2:    {server.token_url}\n"
            f"  storage:   {server.storage_origin}\n"
            f"  TRUD:      {server.trud_origin}\n"
            f"  API key:   {server.api_key}\n"
            f"  secret:    {server.api_secret}\n"
            f"  rate limit: {args.rate_limit or 'off'} requests/minute\n"
            f"  control:   {server.api_origin}/__replica__/faults\n"
            f"Point the plugin at it: OS_DOWNLOADS_API_URL={server.api_url}\n"
            "Press Ctrl+C to stop.",
            flush=True,
        )
        try:
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
    print("Replica stopped.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
