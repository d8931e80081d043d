"""The QgsTask that runs one core job (download, verify, extract) in the background.

Rules it keeps (from QGIS practice and its bug tracker):
- ``run()`` touches no widget and no project: it only calls core and stores
  the outcome; ``finished()`` runs on the main thread and hands it on;
- cancelling from the task manager or from the dock sets one
  ``threading.Event`` that core checks between chunks (core also drops open
  connections), so a cancel takes effect in well under a second;
- the Python object is kept referenced (``_LIVE``) until ``finished()`` ran,
  otherwise PyQt may collect it while QGIS still runs it;
- an exception never escapes ``run()`` or ``finished()`` (that would become
  a Python error dialog): it is logged and stored for the caller.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Callable, Dict, List, Optional, Set

from qgis.core import QgsApplication, QgsTask

from ..core.errors import Cancelled, OSDownloadsError
from ..core.formatting import format_bytes
from ..i18n import tr
from .compat import quiet_task_flags
from .log import install_task_notices, plugin_logger

log = plugin_logger("task")

# Called in the worker thread with (progress_callback, cancel_event).
Job = Callable[[Callable[[Any], None], threading.Event], Any]
Done = Callable[["JobTask"], None]

_LIVE: Set[JobTask] = set()
_THREADS: Dict[int, JobTask] = {}  # thread id -> the task whose run() it is
# Progress without new bytes for this long is called a stall, not a rate.
STALLED_AFTER_S = 5.0


def describe_progress(progress: Any) -> str:
    """One status line from a core ``Progress`` (phase, bytes or files, rate)."""
    phase = getattr(progress, "phase", "download")
    done, total = progress.bytes_done, progress.bytes_total
    files = f"{progress.files_done}/{progress.files_total}"
    if phase == "verify":
        return tr("Checking files already downloaded ({files})").format(files=files)
    if phase == "extract":
        return tr("Extracting {files} files").format(files=files)
    if phase == "discover":
        return tr("Finding layers")
    if phase == "apply":  # core/holdings: applying a version to a holding
        return tr("Applying to the holding ({files} files): {name}").format(
            files=files, name=progress.current_file
        )
    amount = format_bytes(done) + (f" / {format_bytes(total)}" if total else "")
    rate = getattr(progress, "rate_bytes_per_s", 0.0) or 0.0
    speed = f", {format_bytes(rate)}/s" if rate > 0 else ""
    return tr("Downloading: {amount} ({files} files{speed})").format(
        amount=amount, files=files, speed=speed
    )


class JobTask(QgsTask):
    """Runs ``job(progress, cancel)``; afterwards ``on_done(task)`` on the main thread.

    After it ends: ``result`` (the job's return value) or ``error`` (an
    exception; ``Cancelled`` when the user cancelled), ``was_cancelled``.
    """

    def __init__(
        self,
        description: str,
        job: Job,
        on_done: Optional[Done] = None,
        cancel_event: Optional[threading.Event] = None,
    ) -> None:
        super().__init__(description, quiet_task_flags(QgsTask.Flag.CanCancel))
        self._job = job
        self._on_done = on_done
        # Shared with the API client, so its retry waits stop on cancel too.
        self.cancel_event = cancel_event or threading.Event()
        self.result: Any = None
        self.error: Optional[BaseException] = None
        self.status_text = tr("Waiting to start")
        self.latest_progress: Any = None
        # Plain Python state, readable after QGIS deleted the C++ task object:
        self.ended = False
        self.ok = False
        self.final_status: Optional[int] = None
        self.title = description
        self.task_id: Optional[int] = None  # the task manager's id, once queued
        # A retry or resume notice from core (``log.TaskNoticeHandler``), shown
        # instead of the byte counts until new bytes arrive.
        self.notice: str = ""
        self.notices: List[str] = []  # every notice shown, for the tests
        self._notice_bytes = -1
        self._last_bytes = -1
        self._last_bytes_at = 0.0
        self._started_at = 0.0

    # --- worker thread ------------------------------------------------------

    def run(self) -> bool:
        self.status_text = tr("Starting")
        self._started_at = time.monotonic()
        _THREADS[threading.get_ident()] = self
        try:
            self.result = self._job(self._report, self.cancel_event)
        except Cancelled as exc:
            self.error = exc
            return False
        except OSDownloadsError as exc:
            self.error = exc
            log.warning("%s failed: %s", self.description(), exc)
            return False
        except BaseException as exc:  # noqa: BLE001 - no traceback dialog, ever
            self.error = exc
            log.exception("%s failed unexpectedly", self.description())
            return False
        finally:
            _THREADS.pop(threading.get_ident(), None)
        if self.isCanceled() or self.cancel_event.is_set():
            self.error = Cancelled()
            return False
        return True

    def _report(self, progress: Any) -> None:
        """Core's progress callback (worker threads, one at a time)."""
        if self.isCanceled():
            self.cancel_event.set()
        self.latest_progress = progress
        now = time.monotonic()
        done = getattr(progress, "bytes_done", 0)
        if done != self._last_bytes:
            self._last_bytes, self._last_bytes_at = done, now
        if self.notice and done != self._notice_bytes:
            self.notice = ""  # new bytes: the retry is over
        self.status_text = self.current_status(now)
        fraction = getattr(progress, "fraction", None)
        if fraction is not None:
            self.setProgress(round(100.0 * fraction, 1))
        else:
            self.setProgress(self.progress())  # still signals listeners: new status text

    def current_status(self, now: Optional[float] = None) -> str:
        """The status line now: a retry notice, a stall ("no data for 12 s"), or the
        byte counts and rate. The dock asks every second, as no progress comes from
        core while nothing arrives (the last rate would otherwise stay on show)."""
        progress = self.latest_progress
        if self.notice:
            return self.notice
        now = time.monotonic() if now is None else now
        since = self._last_bytes_at or self._started_at
        quiet = now - since if since and not self.ended else 0.0
        if progress is None:
            if quiet >= STALLED_AFTER_S:  # running, and not a byte or answer yet
                return tr("Stalled: no data for {seconds} s (still trying)").format(
                    seconds=int(quiet)
                )
            return self.status_text
        if getattr(progress, "phase", "download") == "download" and quiet >= STALLED_AFTER_S:
            return tr("Stalled: no data for {seconds} s (still trying)").format(seconds=int(quiet))
        return describe_progress(progress)

    def show_notice(self, text: str) -> None:
        """A retry/resume notice from core (worker threads): the status until bytes flow."""
        self.notice = text
        self._notice_bytes = self._last_bytes
        self.status_text = text
        self.notices.append(text)
        self.setProgress(self.progress())  # signals listeners: new status text

    # --- any thread ---------------------------------------------------------

    def cancel(self) -> None:
        """From the task manager's cancel button or the dock's: stop core promptly."""
        self.cancel_event.set()
        super().cancel()

    @property
    def was_cancelled(self) -> bool:
        return isinstance(self.error, Cancelled) or self.cancel_event.is_set()

    # --- main thread --------------------------------------------------------

    def finished(self, result: bool) -> None:
        self.ok = bool(result) and self.error is None
        self.final_status = self.status()
        if not result and self.error is None:
            # QGIS terminated the task before run() (e.g. cancelled while queued).
            self.error = Cancelled() if self.cancel_event.is_set() or self.isCanceled() else None
        self.ended = True
        try:
            if self._on_done is not None:
                self._on_done(self)
        except Exception:  # noqa: BLE001 - never a traceback dialog
            log.exception("Handling the end of %s failed", self.description())
        finally:
            _LIVE.discard(self)


def start(task: JobTask) -> JobTask:
    """Queue ``task`` in the QGIS task manager and keep it referenced until it ends."""
    install_task_notices(_notice_targets)
    _LIVE.add(task)
    task.task_id = QgsApplication.taskManager().addTask(task)
    return task


def task_of_current_thread() -> Optional[JobTask]:
    """The task whose ``run()`` is this thread (None in pool threads and elsewhere)."""
    return _THREADS.get(threading.get_ident())


def _notice_targets() -> List[JobTask]:
    """Where a retry notice logged on this thread goes: its own task, else the one running."""
    owner = task_of_current_thread()
    if owner is not None:
        return [owner]
    running = executing_tasks()
    return running[:1] if len(running) == 1 else []


def executing_tasks() -> List[JobTask]:
    """The tasks whose ``run()`` is under way now (not queued, not ended)."""
    return list(_THREADS.values())


def running_tasks() -> List[JobTask]:
    return [task for task in _LIVE if not task.ended]


def cancel_all() -> None:
    """Plugin unload: ask every job of ours to stop."""
    for task in running_tasks():
        task.cancel()
