"""``make bench`` (``python -m os_downloads.bench``): the engine measured against references.

Everything runs against the local replica on 127.0.0.1, and every ratio is
against a reference measured in the same run on the same machine:

1. one large file over loopback (default 1 GB; ``--large-gb`` or env
   ``OS_DOWNLOADS_BENCH_GB``): our engine (MD5 checked, fsynced) against
   hashlib's MD5 of the same bytes on one core (the ceiling), against
   ``curl | tee FILE | md5sum`` followed by an fsync (the same work), against
   ``curl`` (with and without an fsync), and against itself with hashing off;
2. the same file while the replica paces every connection (12 MiB/s, like one
   TCP stream to far-away blob storage): the engine with its ranged settings
   against ``curl`` (one connection) and ``aria2c -x4 -s4`` (four, MD5 checked);
   the request log's ``Range`` headers say how the engine fetched it;
3. peak memory (RSS high-water mark) of a separate process downloading 100 MB
   and the large file: it must not grow with the file;
4. a package version of 200 small files: 4 workers against one at a time;
5. extraction (``core/extract.py``) against ``unzip``: the large stored zip,
   and a deflated zip of CSV text like OS's;
6. the QGIS main thread while the dock downloads the large file (in a QGIS
   process, offscreen): the longest gap between event-loop ticks, against the
   same loop idle for as long;
7. big layers (Code-Point Open full size, a 1 GB GeoPackage) to the first map.

Results: a table on stdout and ``.build/bench/results.json``.
"""
