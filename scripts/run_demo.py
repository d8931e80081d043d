"""`make demo`: the replica, then QGIS with the plugin enabled and pointed at it.

With a display, QGIS opens for you to use; closing it stops the replica. With no
display (or OS_DOWNLOADS_DEMO_HEADLESS=1), QGIS runs under Xvfb and
scripts/demo.py drives the plugin, saves screenshots and exits; this prints
their paths, or the error and a non-zero status (also when every step passed
but QGIS then crashed: its exit status counts as much as the script's result).
Whatever happens, the replica, QGIS and Xvfb started here are stopped.

Stdlib only; run with the project's venv python (the replica needs GDAL).
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Dict, List, Optional

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / ".build"
# OS_DOWNLOADS_DEMO_DIR moves both (the desktop test runs apart from `make demo`).
DEMO_DIR = (
    Path(os.environ["OS_DOWNLOADS_DEMO_DIR"]) if "OS_DOWNLOADS_DEMO_DIR" in os.environ else None
)
PROFILES_ROOT = DEMO_DIR / "profile" if DEMO_DIR else BUILD / "demo-profile"
OUT_DIR = DEMO_DIR / "out" if DEMO_DIR else BUILD / "demo"
RESULT_FILE = OUT_DIR / "result.json"
STARTED_FILE = OUT_DIR / "started"  # written by scripts/demo.py as soon as QGIS runs it
PLUGIN_NAME = "os_downloads"
QGIS = "/usr/bin/qgis"
# What QGIS runs with --code; tests swap in a script that crashes QGIS on purpose.
DEMO_SCRIPT = Path(os.environ.get("OS_DOWNLOADS_DEMO_SCRIPT", ROOT / "scripts" / "demo.py"))

REPLICA_START_TIMEOUT = 900  # the first run generates the sample data with GDAL
SCRIPT_START_TIMEOUT = 120  # QGIS start-up, plugins included
HEADLESS_QGIS_TIMEOUT = 420  # demo.py gives up by itself well before this
SCREEN = "1600x1000x24"


class DemoError(Exception):
    """A step of the demo failed; the message says which and why."""


def log(message: str) -> None:
    print(f"[demo] {message}", flush=True)


# ------------------------------------------------------------------ replica


class Replica:
    """`python -m os_downloads.replica serve` on free ports, its output echoed."""

    def __init__(self) -> None:
        self.process: Optional[subprocess.Popen] = None
        self.api_url = ""
        self._lines: queue.Queue[Optional[str]] = queue.Queue()

    def start(self) -> str:
        command = [sys.executable, "-m", f"{PLUGIN_NAME}.replica", "serve"]
        command += ["--api-port", "0", "--storage-port", "0", "--trud-port", "0"]
        log("starting the replica (the first run also generates its sample data)")
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        threading.Thread(target=self._pump, daemon=True).start()
        deadline = time.monotonic() + REPLICA_START_TIMEOUT
        while time.monotonic() < deadline:
            try:
                line = self._lines.get(timeout=1)
            except queue.Empty:
                continue
            if line is None:
                raise DemoError(f"the replica exited early (status {self.process.wait()})")
            if "OS_DOWNLOADS_API_URL=" in line:
                self.api_url = line.split("OS_DOWNLOADS_API_URL=", 1)[1].strip()
                return self.api_url
        raise DemoError(f"the replica did not start within {REPLICA_START_TIMEOUT} s")

    def _pump(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        for line in self.process.stdout:
            print(f"[replica] {line.rstrip()}", flush=True)
            self._lines.put(line)
        self._lines.put(None)

    def stop(self) -> None:
        stop_process(self.process, "replica")


def stop_process(process: Optional[subprocess.Popen], name: str) -> None:
    """SIGTERM the process group we started, then SIGKILL if it lingers."""
    if process is None or process.poll() is not None:
        return
    for sig, grace in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=grace)
            log(f"stopped the {name}")
            return
        except subprocess.TimeoutExpired:
            continue


# ------------------------------------------------------------------ profile


def make_fresh_profile() -> Path:
    """A throw-away QGIS profile with only our plugin, enabled, and quiet start-up."""
    if PROFILES_ROOT.exists():
        shutil.rmtree(PROFILES_ROOT)
    profile = PROFILES_ROOT / "profiles" / "default"
    plugins = profile / "python" / "plugins"
    plugins.mkdir(parents=True)
    (plugins / PLUGIN_NAME).symlink_to(ROOT, target_is_directory=True)
    ini = profile / "QGIS" / "QGIS3.ini"
    ini.parent.mkdir(parents=True)
    ini.write_text(
        "[PythonPlugins]\n"
        f"{PLUGIN_NAME}=true\n"
        "\n"
        "[qgis]\n"
        "checkVersion=false\n"
        "showTips322=false\n"
        "allowVersionCheck=false\n"
        "\n"
        "[core]\n"
        "NewsFeed\\httpsfeedqgisorg\\disabled=true\n",
        encoding="utf-8",
    )
    return profile


def qgis_environment(api_url: str, display: str) -> Dict[str, str]:
    env = dict(os.environ)
    runtime = BUILD / "xdg-runtime"
    runtime.mkdir(parents=True, exist_ok=True)
    runtime.chmod(0o700)
    env.update(
        {
            "DISPLAY": display,
            "XDG_RUNTIME_DIR": str(runtime),
            "OS_DOWNLOADS_API_URL": api_url,
            "OS_DOWNLOADS_DEMO_OUT": str(OUT_DIR),
            "QGIS_DISABLE_MESSAGE_HOOKS": "1",
        }
    )
    env.pop("QT_QPA_PLATFORM", None)  # a real (virtual) X display, not offscreen
    return env


def qgis_command(*extra: str) -> List[str]:
    return [QGIS, "--nologo", "--noversioncheck", "--profiles-path", str(PROFILES_ROOT), *extra]


# ------------------------------------------------------------------ Xvfb


def free_display_number() -> int:
    for number in range(99, 160):
        if (
            not Path(f"/tmp/.X{number}-lock").exists()
            and not Path(f"/tmp/.X11-unix/X{number}").exists()
        ):
            return number
    raise DemoError("no free X display number between :99 and :159")


def start_xvfb() -> tuple[subprocess.Popen, str]:
    if not shutil.which("Xvfb"):
        raise DemoError("Xvfb is not installed (make venv installs the xvfb package)")
    number = free_display_number()
    display = f":{number}"
    process = subprocess.Popen(
        ["Xvfb", display, "-screen", "0", SCREEN, "-nolisten", "tcp"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    socket = Path(f"/tmp/.X11-unix/X{number}")
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise DemoError(f"Xvfb {display} exited with status {process.returncode}")
        if socket.exists():
            log(f"Xvfb running on {display} ({SCREEN})")
            return process, display
        time.sleep(0.1)
    stop_process(process, "Xvfb")
    raise DemoError(f"Xvfb {display} did not start within 20 s")


def screenshot_root(display: str, path: Path) -> bool:
    """The whole virtual screen, dialogs included (ImageMagick), for diagnosis."""
    if not shutil.which("import"):
        return False
    result = subprocess.run(
        ["import", "-display", display, "-window", "root", str(path)],
        capture_output=True,
        timeout=30,
    )
    return result.returncode == 0 and path.exists()


# ------------------------------------------------------------------ runs


def run_interactive(api_url: str) -> int:
    log(f"opening QGIS on {os.environ['DISPLAY']} (close it to stop the replica)")
    env = qgis_environment(api_url, os.environ["DISPLAY"])
    return subprocess.run(qgis_command(), env=env, stdin=subprocess.DEVNULL).returncode


def run_headless(api_url: str) -> int:
    xvfb, display = start_xvfb()
    qgis: Optional[subprocess.Popen] = None
    try:
        env = qgis_environment(api_url, display)
        script = DEMO_SCRIPT
        log(f"running QGIS under Xvfb with {script.name}")
        with (OUT_DIR / "qgis.log").open("w", encoding="utf-8") as qgis_log:
            qgis = subprocess.Popen(
                qgis_command("--code", str(script)),
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=qgis_log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            status = wait_for_qgis(qgis, display)
        return report(status)
    finally:
        stop_process(qgis, "QGIS")
        stop_process(xvfb, "Xvfb")


def wait_for_qgis(qgis: subprocess.Popen, display: str) -> int:
    """QGIS's exit status; fails fast when the demo script never starts.

    QGIS runs --code only once start-up is over, and a modal dialog at start-up
    (a plugin that failed to load, say) blocks that forever: the screenshot shows it.
    """
    started_by = time.monotonic() + SCRIPT_START_TIMEOUT
    deadline = time.monotonic() + HEADLESS_QGIS_TIMEOUT
    while True:
        try:
            return qgis.wait(timeout=1)
        except subprocess.TimeoutExpired:
            pass
        now = time.monotonic()
        if now > started_by and not STARTED_FILE.exists():
            problem = f"QGIS did not run scripts/demo.py within {SCRIPT_START_TIMEOUT} s"
        elif now > deadline:
            problem = f"QGIS did not finish the demo within {HEADLESS_QGIS_TIMEOUT} s"
        else:
            continue
        shot = OUT_DIR / "timeout.png"
        if screenshot_root(display, shot):
            problem += f"; the screen at that moment: {shot}"
        raise DemoError(f"{problem} (QGIS output: {OUT_DIR / 'qgis.log'})")


def describe_exit(status: int) -> str:
    """QGIS's exit status in words: a crash shows as a signal or as 134 (abort)."""
    if status < 0:
        try:
            words = f"was killed by {signal.Signals(-status).name}"
        except ValueError:
            words = f"was killed by signal {-status}"
    else:
        words = f"exited with status {status}"
    crash = crash_line(OUT_DIR / "qgis.log")
    # QGIS's crash handler catches the real signal, prints this line and aborts.
    return f"{words} ({crash})" if crash else words


def crash_line(qgis_log: Path) -> str:
    """QGIS's own "QGIS died on signal 11" line from its output, if there is one."""
    try:
        lines = qgis_log.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return ""
    return next((line.strip() for line in reversed(lines) if "died on signal" in line), "")


def report(qgis_status: int) -> int:
    """Judge the run by both signs: what scripts/demo.py wrote to result.json
    (screenshots, or the error) and QGIS's own exit status (a crash at exit
    fails the demo even when every step passed)."""
    if not RESULT_FILE.exists():
        raise DemoError(
            f"QGIS {describe_exit(qgis_status)} without finishing the demo script; "
            f"see {OUT_DIR / 'qgis.log'}"
        )
    result = json.loads(RESULT_FILE.read_text(encoding="utf-8"))
    for step in result.get("steps", []):
        log(f"  {step}")
    if not result.get("ok"):
        seen = result.get("failure_screenshot")
        where = f"; the window at that moment: {seen}" if seen else ""
        raise DemoError(
            f"{result.get('error', 'the demo failed')} (log: {OUT_DIR / 'qgis.log'}{where})"
        )
    shots = [Path(p) for p in result.get("screenshots", [])]
    missing = [str(p) for p in shots if not p.is_file()]
    if not shots or missing:
        raise DemoError(f"screenshots missing: {missing or 'none were taken'}")
    print("\nScreenshots:")
    for shot in shots:
        print(f"  {shot}")
    if qgis_status != 0:
        raise DemoError(
            f"every step passed, but then QGIS {describe_exit(qgis_status)} "
            f"(QGIS output: {OUT_DIR / 'qgis.log'})"
        )
    return 0


def main() -> int:
    headless = os.environ.get("OS_DOWNLOADS_DEMO_HEADLESS") == "1" or not os.environ.get("DISPLAY")
    if OUT_DIR.exists():
        shutil.rmtree(OUT_DIR)
    OUT_DIR.mkdir(parents=True)
    replica = Replica()
    previous = signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        api_url = replica.start()
        profile = make_fresh_profile()
        log(f"fresh QGIS profile: {profile}")
        log(f"plugin pointed at the replica: OS_DOWNLOADS_API_URL={api_url}")
        return run_headless(api_url) if headless else run_interactive(api_url)
    except DemoError as err:
        print(f"\nmake demo failed: {err}", file=sys.stderr, flush=True)
        return 1
    except KeyboardInterrupt:
        return 130
    finally:
        replica.stop()
        signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":
    sys.exit(main())
