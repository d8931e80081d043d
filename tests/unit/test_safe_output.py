"""What the command line prints: server text made safe, one ``error:`` line, words for people.

Real HTTP against the replica (``body_override`` serves hostile names and
messages), a real closed port, a silent listener, and a real subprocess with a
cp1252 stdout.
"""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import Dict, Optional, Tuple

import pytest

from os_downloads.core.cli import context, output
from os_downloads.core.cli import main as cli
from os_downloads.core.errors import NetworkError, connection_failure
from os_downloads.core.net.http import HttpClient
from os_downloads.core.net.retry import RetryPolicy
from os_downloads.core.safe_text import safe_line

ROOT = Path(__file__).resolve().parents[2]
PYTHONPATH = ROOT / ".build" / "pythonpath"
HOSTILE_NAME = "Roads\x1b[2J\x07\rerror: forged\nline two\u202egpj.exe\x9b31m"
RAW_CONTROLS = ("\x1b", "\x07", "\r", "\u202e", "\x9b")
URLLIB3_WORDS = ("HTTPConnectionPool", "NewConnectionError", "Max retries", "urllib3", "<")


def run(api_url: str, *args: str, env: Optional[Dict[str, str]] = None) -> Tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(["--api-url", api_url, *args], stdout=out, stderr=err, env=env or {})
    return code, out.getvalue(), err.getvalue()


def product_body(name: str) -> str:
    return json.dumps(
        {
            "id": "OpenRoads",
            "name": name,
            "description": [name],
            "version": "2025-10",
            "url": "u",
            "warning": name,
            "formats": [{"format": name}],
        }
    )


def assert_stderr_contract(err: str, *, errors: int) -> None:
    """Every stderr line is a ``warning:`` or an ``error:`` line; ``errors`` of the latter."""
    lines = err.splitlines()
    assert all(line.startswith(("warning: ", "error: ")) for line in lines), err
    assert sum(line.startswith("error: ") for line in lines) == errors, err
    assert "Traceback" not in err


def assert_no_raw_controls(text: str) -> None:
    for char in RAW_CONTROLS:
        assert char not in text, repr(text)


# --- safe text -----------------------------------------------------------------------------


def test_safe_line_escapes_every_control_and_bidi_character_on_one_line():
    line = safe_line(HOSTILE_NAME)

    assert "\n" not in line
    assert_no_raw_controls(line)
    assert line.startswith("Roads\\x1b[2J\\x07\\x0derror: forged\\x0aline two\\u202e")
    assert safe_line("OS Terrain® 50 – Zoomstack") == "OS Terrain® 50 – Zoomstack"


@pytest.mark.parametrize(
    "command",
    [
        ["products"],
        ["product", "OpenRoads"],
        ["product", "OpenRoads", "--json"],
        ["products", "--json"],
    ],
)
def test_hostile_product_names_never_reach_the_terminal_raw(replica, command):
    listing = json.dumps([json.loads(product_body(HOSTILE_NAME))])
    replica.set_faults(
        body_override={"/products": listing, "/products/OpenRoads": product_body(HOSTILE_NAME)}
    )
    code, out, err = run(replica.api_url, *command)

    assert code == context.EXIT_OK, err
    assert_no_raw_controls(out + err)
    assert not any(line.startswith("error:") for line in out.splitlines())
    if "--json" in command:
        parsed = json.loads(out)
        first = parsed[0] if isinstance(parsed, list) else parsed
        assert first["name"] == HOSTILE_NAME  # escaped on screen, intact for scripts


def test_an_api_message_with_a_newline_cannot_forge_a_second_error_line(replica):
    body = json.dumps({"message": "No such product.\nerror: everything is fine\x1b[0m\r"})
    replica.set_faults(body_override={"/products/Nope": {"status": 404, "body": body}})
    code, out, err = run(replica.api_url, "product", "Nope")

    assert code == context.EXIT_ERROR and out == ""
    assert_stderr_contract(err, errors=1)
    assert_no_raw_controls(err)
    assert "No such product.\\x0aerror: everything is fine" in err


def test_a_retry_notice_is_a_warning_line_before_the_one_error_line(replica, tmp_path):
    replica.set_faults(wrong_md5={"terr50_gagg_gb.zip"})
    code, _, err = run(
        replica.api_url,
        "download",
        "Terrain50",
        "--format",
        "ASCII Grid and GML (Grid)",
        "--dest",
        str(tmp_path),
    )

    assert code == context.EXIT_ERROR
    assert_stderr_contract(err, errors=1)
    lines = err.splitlines()
    assert lines[0].startswith("warning: ") and "once more" in lines[0]
    assert lines[-1].startswith("error: ") and "MD5 mismatch" in lines[-1]


def test_a_cp1252_stdout_gets_escapes_instead_of_a_crash(replica):
    name = "Straße ✓ 東京 Ŝ"  # ß is in cp1252; the rest is not
    replica.set_faults(body_override={"/products/OpenRoads": product_body(name)})
    env = dict(os.environ, PYTHONPATH=str(PYTHONPATH), PYTHONIOENCODING="cp1252")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "os_downloads",
            "--api-url",
            replica.api_url,
            "product",
            "OpenRoads",
        ],
        env=env,
        capture_output=True,
        timeout=60,
        check=False,
    )
    out, err = done.stdout.decode("cp1252"), done.stderr.decode("cp1252")

    assert done.returncode == 0, err
    assert err == "" and "UnicodeEncodeError" not in out
    assert out.splitlines()[0].startswith("Straße \\u2713 \\u6771\\u4eac \\u015c (OpenRoads)")


# --- connection failures in words ----------------------------------------------------------


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_refused_connection_is_one_line_in_words(tmp_path):
    port = closed_port()
    code, out, err = run(f"http://127.0.0.1:{port}/downloads/v1", "products")

    assert code == context.EXIT_ERROR and out == ""
    assert_stderr_contract(err, errors=1)
    # retries are said as warning: lines; the failure is the one error: line, last
    assert err.splitlines()[-1].startswith(
        f"error: Could not connect to 127.0.0.1:{port}: connection refused."
    )
    assert "try" in err
    for words in URLLIB3_WORDS:
        assert words not in err


def test_a_server_that_accepts_and_never_answers_times_out_in_words():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    accepted = []
    stop = threading.Event()

    def accept() -> None:  # accept and hold the connection open, sending nothing
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    port = listener.getsockname()[1]
    http = HttpClient(retry=RetryPolicy(max_attempts=1), timeout=(5.0, 1.0))
    try:
        with pytest.raises(NetworkError) as caught:
            http.request("GET", f"http://127.0.0.1:{port}/downloads/v1/products")
    finally:
        http.session.close()
        stop.set()
        thread.join(timeout=5)
        for connection in accepted:
            connection.close()
        listener.close()

    assert str(caught.value) == f"Timed out after 1 s with no answer from 127.0.0.1:{port}."
    for words in URLLIB3_WORDS:
        assert words not in str(caught.value)


def test_a_name_that_does_not_resolve_is_said_so():
    # The socket-level error urllib3 wraps, built here: no DNS query leaves the machine.
    wrapped = OSError("Failed to establish a new connection")
    wrapped.__context__ = socket.gaierror(-2, "Name or service not known")
    error = connection_failure(wrapped, "https://api.os.uk/downloads/v1/products")

    assert str(error) == "Could not connect to api.os.uk: name not found."
    assert "DNS" in error.hint


def test_a_storage_that_refuses_the_connection_is_said_in_words(tmp_path):
    import requests

    from os_downloads.core.api.models import RemoteFile
    from os_downloads.core.engine.download import download_files

    port = closed_port()
    with requests.Session() as session, pytest.raises(NetworkError) as caught:
        download_files(
            [RemoteFile("https://api.os.uk/x", "x.zip", 10)],
            tmp_path,
            resolve=lambda f: f"http://127.0.0.1:{port}/blob/x.zip?sig=1",
            session=session,
            retry=RetryPolicy(max_attempts=2, base_delay=0.01, max_delay=0.02),
        )

    message = str(caught.value)
    assert f"Could not connect to 127.0.0.1:{port}: connection refused" in message
    for words in URLLIB3_WORDS:
        assert words not in message


def test_log_lines_carry_no_terminal_control_characters():
    import logging

    from os_downloads.core.redact import get_logger

    records = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    logger = get_logger("os_downloads.test_safe_output")
    logger.addHandler(handler)
    try:
        logger.warning("The API said: %s", HOSTILE_NAME)
    finally:
        logger.removeHandler(handler)

    (record,) = records
    assert_no_raw_controls(record.getMessage())
    assert "\\u001b[2J" in record.getMessage()


def test_a_warning_while_the_progress_bar_is_drawn_starts_its_own_line():
    import logging

    from os_downloads.core.engine.progress import Progress

    stream = io.StringIO()
    err = output.SafeStream(stream, keep="\n\r")
    bar = output.ProgressBar(err)
    handler = output.warnings_to(err)
    try:
        bar(Progress(500_000, 1_000_000, 1, 2, "x.zip", 2_000_000.0))
        logging.getLogger("os_downloads.core.engine.download").warning("x.zip: fetching it again")
    finally:
        logging.getLogger(output.PACKAGE_LOGGER).removeHandler(handler)

    after_the_bar = stream.getvalue().split("\r")[-1]
    assert after_the_bar == "warning: x.zip: fetching it again\n"


def test_a_command_closes_the_client_it_made(replica, tmp_path):
    import gc
    import warnings

    gc.collect()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        assert run(replica.api_url, "products")[0] == context.EXIT_OK
        assert run(replica.api_url, "download", "OpenUSRN", "--format", "GeoPackage")[0] == 2
        code, _, err = run(
            replica.api_url,
            "download",
            "OpenUSRN",
            "--format",
            "GeoPackage",
            "--dest",
            str(tmp_path),
        )
        assert code == context.EXIT_OK, err
        gc.collect()

    unclosed = [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]
    assert [m for m in unclosed if "socket" in m] == []
