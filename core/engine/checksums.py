"""Checksums of downloaded files: MD5 for OS, SHA-256 for TRUD.

The engine hashes while it writes, in one pass (``StreamHasher``); the other
helpers cover checking a file already on disk, re-reading the prefix of a
``.part`` left by an earlier run before resuming it, and saying what is wrong
with bytes that arrived.
"""

from __future__ import annotations

import hashlib
import queue
import threading
from pathlib import Path
from typing import Any, Callable, List, Optional

from ..errors import (
    Cancelled,
    ChecksumMismatchError,
    ConfigurationError,
    DownloadError,
    SizeMismatchError,
)
from .files import Checksum, RemoteFile

SUPPORTED_ALGORITHMS = ("md5", "sha256")
DEFAULT_ALGORITHM = "md5"  # what a file without a listed checksum is hashed with, for the record
READ_CHUNK = 1 << 20
THREADED_MIN_BYTES = 8 << 20  # smaller files hash inline: a thread costs more than it saves
BLOCK_BYTES = 4 << 20  # one read-write-hash step: few hand-offs per GB, little memory
RING_BLOCKS = 3  # one block being filled while the others wait for or are in the hash


def new_hasher(algorithm: str) -> Any:
    """A fresh hashlib object for ``algorithm`` ("md5" or "sha256")."""
    name = (algorithm or "").lower().replace("-", "")
    if name not in SUPPORTED_ALGORITHMS:
        raise ConfigurationError(f"Unsupported checksum algorithm {algorithm!r}.")
    if name == "md5":
        # Not for security: it is the integrity check the OS API publishes.
        try:
            return hashlib.md5(usedforsecurity=False)
        except TypeError:  # Python < 3.9 builds without the keyword
            return hashlib.md5()
    return hashlib.new(name)


def update_from_file(
    hasher: Any,
    path: Path,
    *,
    length: Optional[int] = None,
    cancel: Optional[threading.Event] = None,
) -> int:
    """Feed the first ``length`` bytes of ``path`` (all when None) to ``hasher``.

    Returns the number of bytes read; stops with ``Cancelled`` between chunks.
    """
    done = 0
    with open(path, "rb") as handle:
        while length is None or done < length:
            if cancel is not None and cancel.is_set():
                raise Cancelled()
            want = READ_CHUNK if length is None else min(READ_CHUNK, length - done)
            chunk = handle.read(want)
            if not chunk:
                break
            hasher.update(chunk)
            done += len(chunk)
    return done


def hash_file(
    path: Path, algorithm: str = DEFAULT_ALGORITHM, *, cancel: Optional[threading.Event] = None
) -> str:
    """The lower-case hex digest of a whole file."""
    hasher = new_hasher(algorithm)
    update_from_file(hasher, Path(path), cancel=cancel)
    return hasher.hexdigest()


def file_matches(
    path: Path, checksum: Checksum, *, cancel: Optional[threading.Event] = None
) -> bool:
    """Whether the file on disk hashes to ``checksum`` (False when it is missing)."""
    try:
        return hash_file(path, checksum.algorithm, cancel=cancel) == checksum.hexdigest.lower()
    except FileNotFoundError:
        return False


def bytes_problem(
    file: RemoteFile, expected_size: Optional[int], overflow: Optional[int], size: int, actual: str
) -> Optional[DownloadError]:
    """What is wrong with the bytes that arrived for ``file``, or None.

    ``overflow``: the bytes seen when the server sent more than expected;
    ``actual``: their digest in the listed algorithm.
    """
    if overflow is not None and expected_size is not None:
        return SizeMismatchError(file.file_name, expected_size, overflow)
    if expected_size is not None and size != expected_size:
        return SizeMismatchError(file.file_name, expected_size, size)
    expected = file.checksum.hexdigest.lower() if file.checksum is not None else None
    if expected is not None and actual != expected:
        return ChecksumMismatchError(file.file_name, file.checksum.algorithm, expected, actual)
    return None


class StreamHasher:
    """Hash a body as it arrives, in one pass; on a helper thread for big files.

    The reader fills ``block()`` (a reused buffer: no new object per read, no
    copy) and passes the filled part to ``update``. For a big file a helper
    thread hashes it while the next block is read and written: hashlib
    releases the GIL on large updates, so the hash has a core to itself. A
    block is handed out again only once hashed, so memory stays at
    ``RING_BLOCKS`` blocks whatever the file size. The hand-offs are C-level
    queues (``SimpleQueue``): the helper thread runs a few bytecodes per block,
    so it rarely waits for the GIL. ``update`` also takes plain bytes (hashed
    in order, once the blocks before them are).
    """

    _STOP: Any = object()

    def __init__(
        self,
        algorithm: str,
        *,
        threaded: bool,
        new_hasher: Callable[[str], Any],
        block_bytes: int = BLOCK_BYTES,
    ) -> None:
        self.algorithm = algorithm
        self._new_hasher = new_hasher
        self.raw = new_hasher(algorithm)
        self._threaded = threaded
        self._block_bytes = max(1, block_bytes)
        self._blocks: List[bytearray] = []
        self._free: queue.SimpleQueue = queue.SimpleQueue()  # indices of blocks not in the hash
        self._current: Optional[int] = None  # the block handed out by block(), not yet hashed
        self._work_queue: Optional[queue.SimpleQueue] = None
        self._thread: Optional[threading.Thread] = None

    @classmethod
    def for_size(
        cls, algorithm: str, size: Optional[int], new_hasher: Callable[[str], Any]
    ) -> StreamHasher:
        """Threaded for big files; a small file's one block no bigger than the file needs."""
        threaded = (size or 0) >= THREADED_MIN_BYTES
        block_bytes = BLOCK_BYTES
        if not threaded and size is not None:
            block_bytes = min(block_bytes, max(64 << 10, size + 1))
        return cls(algorithm, threaded=threaded, new_hasher=new_hasher, block_bytes=block_bytes)

    def block(self) -> memoryview:
        """The buffer to read the next bytes into: the same one until ``update`` gets it."""
        if not self._blocks:
            count = RING_BLOCKS if self._threaded else 1
            self._blocks = [bytearray(self._block_bytes) for _ in range(count)]
            for index in range(count):
                self._free.put(index)
        if self._current is None:
            self._current = self._free.get()  # bounded: the hash thread only ever hashes
        return memoryview(self._blocks[self._current])

    def update(self, data: Any) -> None:
        """Hash ``data``: bytes, or (a prefix of) the view ``block()`` gave."""
        if not self._threaded:
            self.raw.update(data)
            return
        current = self._current
        if (
            current is not None
            and isinstance(data, memoryview)
            and data.obj is self._blocks[current]
        ):
            self._work().put((data, current))
            self._current = None
            return
        self._wait_idle()  # bytes: hashed here, after the blocks before them
        self.raw.update(data)

    def hexdigest(self) -> str:
        self._drain()
        return self.raw.hexdigest()

    def reset(self) -> None:
        self._drain()
        self.raw = self._new_hasher(self.algorithm)

    def close(self) -> None:
        self._drain()

    def _work(self) -> queue.SimpleQueue:
        if self._work_queue is None:
            self._work_queue = queue.SimpleQueue()
            self._thread = threading.Thread(
                target=self._hash_blocks,
                args=(self._work_queue,),
                name="download-hash",
                daemon=True,
            )
            self._thread.start()
        return self._work_queue

    def _wait_idle(self) -> None:
        if self._work_queue is not None:
            done: queue.SimpleQueue = queue.SimpleQueue()
            self._work_queue.put((None, done))
            done.get()

    def _drain(self) -> None:
        if self._thread is not None and self._work_queue is not None:
            self._work_queue.put((None, self._STOP))
            self._thread.join()
        self._thread, self._work_queue = None, None

    def _hash_blocks(self, work: queue.SimpleQueue) -> None:
        free, update = self._free, self.raw.update
        while True:
            data, tag = work.get()
            if data is None:
                if tag is self._STOP:
                    return
                tag.put(True)  # everything before it is hashed
                continue
            try:
                update(data)
            finally:
                free.put(tag)
