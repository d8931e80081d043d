"""The engine's one-pass read loop: bodies read into reused blocks, hashed on a thread.

Over real HTTP against the replica: a plain body is read straight from the
socket into the caller's buffer, a chunked one through ``read1``, both to the
exact bytes; a fully read connection goes back to the pool. ``StreamHasher``
hashes blocks and bytes, in any mix, to hashlib's digest and never hands out a
block the hash thread still reads.
"""

from __future__ import annotations

import hashlib
import random
import threading
import time

import pytest

from os_downloads.core.api.client import OSDownloadsClient
from os_downloads.core.engine.checksums import RING_BLOCKS, StreamHasher, new_hasher
from os_downloads.core.engine.storage_response import BodyReader

BIG = "terr50_gagg_gb.zip"  # about 160 KB


@pytest.fixture()
def big_file(replica):
    client = OSDownloadsClient(replica.api_url)
    file = next(
        d.remote_file() for d in client.product_downloads("Terrain50") if d.file_name == BIG
    )
    yield client, file
    client.close()


def read_all(body: BodyReader, view_bytes: int) -> bytes:
    buffer = bytearray(view_bytes)
    view = memoryview(buffer)
    parts = []
    stop = threading.Event()
    for _ in range(100_000):  # bounded: a 160 KB body in views of at least 1 KB
        count, error = body.fill(view, stop)
        assert error is None
        assert 0 <= count <= view_bytes
        if not count:
            break
        parts.append(bytes(view[:count]))
    return b"".join(parts)


@pytest.mark.timeout(60)
def test_a_plain_body_is_read_from_the_socket_into_the_buffer(big_file):
    client, file = big_file
    session = client.storage_session
    url = client.resolve_download(file.url)
    with session.get(url, stream=True, headers={"Accept-Encoding": "identity"}) as response:
        sock = response.raw._connection.sock
        body = BodyReader(response)
        assert body.direct  # Content-Length, not chunked: no bytes object per read
        data = read_all(body, 7 * 1024)
        assert body.received == len(data) == file.size
        assert hashlib.md5(data).hexdigest() == file.checksum.hexdigest
        body.release()
        assert response.raw._fp.isclosed()  # http.client saw the end of the body
    # The connection went back to the pool, open: the next GET goes over the same socket.
    with session.get(url, stream=True) as again:
        assert again.raw._connection.sock is sock
        assert len(read_all(BodyReader(again), 64 * 1024)) == file.size


@pytest.mark.timeout(60)
def test_a_chunked_body_is_read_through_read1(replica, big_file):
    client, file = big_file
    replica.set_faults(chunked_cut_count=1)  # chunked, and cut half-way
    url = client.resolve_download(file.url)
    with client.storage_session.get(url, stream=True) as response:
        body = BodyReader(response)
        assert not body.direct
        buffer = memoryview(bytearray(64 * 1024))
        got = b""
        error = None
        for _ in range(1000):
            count, error = body.fill(buffer, threading.Event())
            got += bytes(buffer[:count])
            if error is not None or not count:
                break
    # What arrived before the cut is the file's start, and the break is reported or seen.
    assert 0 < len(got) < file.size
    assert error is not None or len(got) < file.size
    with client.storage_session.get(client.resolve_download(file.url)) as whole:
        assert whole.content.startswith(got)


def test_blocks_and_bytes_hash_to_hashlibs_digest() -> None:
    rng = random.Random(17)
    data = rng.randbytes(3_000_000)
    hasher = StreamHasher("md5", threaded=True, new_hasher=new_hasher, block_bytes=256 * 1024)
    at = 0
    while at < len(data):
        if rng.random() < 0.3:  # plain bytes between blocks
            step = rng.randint(1, 50_000)
            hasher.update(data[at : at + step])
        else:
            block = hasher.block()
            step = min(len(block), rng.randint(1, len(block)), len(data) - at)
            block[:step] = data[at : at + step]
            hasher.update(block[:step])
        at += step
    assert hasher.hexdigest() == hashlib.md5(data).hexdigest()
    hasher.reset()
    hasher.update(b"again")
    assert hasher.hexdigest() == hashlib.md5(b"again").hexdigest()
    hasher.close()


class SlowMd5:
    """hashlib's MD5 that takes its time, to catch a block reused while being hashed."""

    def __init__(self) -> None:
        self._md5 = hashlib.md5()

    def update(self, data) -> None:
        first = bytes(data[:64])
        time.sleep(0.01)
        assert bytes(data[:64]) == first, "a block was refilled while being hashed"
        self._md5.update(data)

    def hexdigest(self) -> str:
        return self._md5.hexdigest()


@pytest.mark.timeout(60)
def test_a_block_is_not_handed_out_again_before_it_is_hashed() -> None:
    hasher = StreamHasher(
        "md5", threaded=True, new_hasher=lambda _algorithm: SlowMd5(), block_bytes=4096
    )
    expected = hashlib.md5()
    seen = set()
    for index in range(RING_BLOCKS * 5):
        block = hasher.block()
        seen.add(id(block.obj))
        block[:] = bytes([index]) * len(block)
        expected.update(block)
        hasher.update(block)
    assert len(seen) == RING_BLOCKS  # reused, never more than the ring
    assert hasher.hexdigest() == expected.hexdigest()
