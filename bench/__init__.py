"""``make bench`` (``python -m os_downloads.bench``): the engine measured against references.

Everything runs against the local replica on 127.0.0.1, and every ratio is
against a reference measured in the same run on the same machine:

1. one large file (default 1 GB; ``--large-gb`` or env ``OS_DOWNLOADS_BENCH_GB``):
   our engine (MD5 checked, fsynced) against ``curl`` fetching the same signed
   storage URL;
2. peak memory (RSS high-water mark) of a separate process downloading 100 MB
   and the large file: it must not grow with the file;
3. MD5 overhead: the same engine with hashing replaced by a no-op, and
   hashlib's own MD5 rate on this CPU;
4. a package version of 200 small files: 4 workers against one at a time;
5. extraction (``core/extract.py``) against ``unzip``: the large stored zip,
   and a deflated zip of CSV text like OS's;
6. the QGIS main thread while the dock downloads the large file (in a QGIS
   process, offscreen): the longest gap between event-loop ticks, against the
   same loop idle for as long.

The large-file throughput is also compared with ``curl | tee FILE | md5sum``
followed by an fsync: the same work as the engine (fetch, hash, write, durable).

Results: a table on stdout and ``.build/bench/results.json``.
"""
