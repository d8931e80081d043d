"""A local replica of the OS Downloads API, its OAuth2 endpoint, its storage
origin and TRUD, for the tests and the demo. Never shipped in the plugin zip.

Start one with ``replica.testing.ReplicaServer`` (tests: the ``replica``
fixture in ``tests/conftest.py``) or ``python -m os_downloads.replica serve``.
Modules, one job each:

- ``routing``    Request/Response, ``Router``, ``OriginServer`` (one port per origin)
- ``os_api``     the ``/downloads/v1`` routes;  ``oauth``  keys, tokens, ``/oauth2/token/v1``
- ``storage``    signed blob URLs with Range;   ``signing``  SAS-like URL signatures
- ``inventory``  what is served (from catalogue.json);  ``checksums``  cached MD5s
- ``faults``     fault switches;  ``ratelimit``  429s;  ``requestlog``  what was asked
- ``control``    ``/__replica__/...`` endpoints;  ``datadir``  generated-data cache
- ``minidata``   a tiny hand-made catalogue;  ``testing``  ``ReplicaServer``
"""

from __future__ import annotations

# The one project the replica knows: its key (header ``key``, ``?key=``) and
# its secret (OAuth2 client credentials).
DEMO_API_KEY = "replica-demo-key"
DEMO_API_SECRET = "replica-demo-secret"
