"""Hash a file being filled out of order: follow its contiguous prefix, from disk, on a thread.

A ranged download (``ranged.py``) writes pieces at their offsets over several
connections, so no single stream of bytes passes by in file order. The
checksum stays one pass: ``PrefixHasher`` reads back (from the page cache)
the bytes from 0 up to the lowest offset still missing, as soon as they are
on disk, so when the last piece lands only what follows the old prefix is
left to hash. On a resume the prefix already there is simply hashed first.
What is hashed is what is on disk: the bytes that will be renamed into place.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Callable, Optional

from ..errors import Cancelled
from .checksums import new_hasher

READ_BYTES = 4 << 20  # one read of the prefix; a reused buffer, so memory stays flat
LAG_BYTES = 32 << 20  # writers wait while the hash is this far behind the bytes on disk
WAKE_S = 0.2  # how often an idle hasher looks whether it was stopped


class PrefixHasher:
    """``start()``, then ``digest()`` once every byte is in; ``stop()`` to give up.

    ``prefix`` (a ``RangePlan``): ``contiguous_end()``, and ``wait_beyond(offset,
    timeout)``, the end of the contiguous prefix once it passes ``offset`` (or
    after ``timeout`` s).
    """

    def __init__(
        self,
        path: Path,
        algorithm: str,
        size: int,
        prefix: Any,
    ) -> None:
        self.path = path
        self.size = size
        self.hashed = 0
        self._hasher: Any = new_hasher(algorithm)
        self._prefix = prefix
        self._progressed = threading.Condition()
        self._stopping = threading.Event()
        self._error: Optional[BaseException] = None
        self._thread = threading.Thread(target=self._run, name="download-prefix-hash", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def digest(self, cancel: threading.Event) -> str:
        """The hex digest of the whole file, once hashed (``Cancelled`` if ``cancel`` is set)."""
        while self._thread.is_alive():
            if cancel.is_set():
                self.stop()
                raise Cancelled()
            self._thread.join(WAKE_S)
        if self._error is not None:
            raise self._error
        if self.hashed != self.size:
            raise Cancelled()  # stopped before the end
        return self._hasher.hexdigest()

    def hold_back(self, stop: Callable[[], None], lag: int = LAG_BYTES) -> None:
        """Wait while the hash lags ``lag`` bytes behind the prefix on disk.

        Then the CPU is the limit, not the network: fetching further would only
        leave more to hash after the last byte. ``stop()`` raises to stop waiting.
        """
        with self._progressed:
            while self._thread.is_alive() and self._prefix.contiguous_end() - self.hashed > lag:
                stop()
                self._progressed.wait(WAKE_S)

    def stop(self) -> None:
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        buffer = bytearray(READ_BYTES)
        view = memoryview(buffer)
        try:
            with open(self.path, "rb", buffering=0) as handle:
                while self.hashed < self.size and not self._stopping.is_set():
                    ready = self._prefix.wait_beyond(self.hashed, WAKE_S)
                    while self.hashed < ready and not self._stopping.is_set():
                        count = handle.readinto(view[: min(READ_BYTES, ready - self.hashed)])
                        if not count:
                            raise OSError(f"{self.path.name} is shorter than its written bytes")
                        self._hasher.update(view[:count])
                        with self._progressed:
                            self.hashed += count
                            self._progressed.notify_all()
        except BaseException as exc:  # noqa: BLE001 - handed to the caller by digest()
            self._error = exc
        finally:
            view.release()
