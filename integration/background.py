"""Short blocking calls (listings, thumbnails) run off the main thread.

A QgsTask per listing would flood the task manager on 3.22 (no hidden tasks
before 3.26), so these go to a small thread pool of our own. The result comes
back to the main thread through a queued Qt signal; the callbacks run there
and may touch widgets. A callback that raises is logged, never shown as a
Python error dialog.
"""

from __future__ import annotations

from typing import Any, Callable, Optional, Set

from qgis.PyQt.QtCore import QObject, QRunnable, QThreadPool, pyqtSignal

from .log import plugin_logger

log = plugin_logger("background")

ResultCallback = Callable[[Any], None]
ErrorCallback = Callable[[BaseException], None]


class _Relay(QObject):
    """Lives on the main thread; its signal carries the outcome back there."""

    done = pyqtSignal(object, object)  # result, error


class _Call(QRunnable):
    def __init__(self, fn: Callable[[], Any], relay: _Relay) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self._fn = fn
        self._relay = relay

    def run(self) -> None:
        result: Any = None
        error: Optional[BaseException] = None
        try:
            result = self._fn()
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread
            error = exc
        try:
            self._relay.done.emit(result, error)
        except RuntimeError:  # the runner was shut down meanwhile
            pass


class BackgroundRunner(QObject):
    """Runs callables on a private thread pool; delivers results on the main thread."""

    def __init__(self, parent: Optional[QObject] = None, max_threads: int = 3) -> None:
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(max_threads)
        self._relays: Set[_Relay] = set()
        self._closed = False

    def submit(
        self,
        fn: Callable[[], Any],
        on_result: ResultCallback,
        on_error: Optional[ErrorCallback] = None,
    ) -> None:
        """Run ``fn()`` in the pool; then ``on_result(value)`` or ``on_error(exc)`` here."""
        if self._closed:
            return
        relay = _Relay()
        self._relays.add(relay)

        def deliver(result: Any, error: Optional[BaseException]) -> None:
            self._relays.discard(relay)
            relay.deleteLater()
            if self._closed:
                return
            try:
                if error is None:
                    on_result(result)
                elif on_error is not None:
                    on_error(error)
                else:
                    log.warning("Background call failed: %s", error)
            except Exception:  # noqa: BLE001 - never a traceback dialog
                log.exception("A background call's callback failed")

        relay.done.connect(deliver)
        self._pool.start(_Call(fn, relay))

    def active(self) -> int:
        return len(self._relays)

    def wait(self, msecs: int = -1) -> bool:
        """Block until the pool is idle (tests, shutdown)."""
        return self._pool.waitForDone(msecs)

    def shutdown(self, msecs: int = 3000) -> None:
        """Drop pending callbacks and wait briefly for running calls (plugin unload)."""
        self._closed = True
        for relay in list(self._relays):
            try:
                relay.done.disconnect()
            except (TypeError, RuntimeError):
                pass
        self._pool.clear()
        self._pool.waitForDone(msecs)
        self._relays.clear()
