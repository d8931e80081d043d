"""A local replica of the OS Downloads API, its OAuth2 endpoint, its storage
origin and TRUD, for the tests, the demo and the benchmarks. Never shipped in
the plugin zip.

Two rooms that never import each other:

- ``server/``  what answers HTTP: routes, storage, faults, auth, TRUD, ``ReplicaServer``
- ``data/``    what it serves: sample-data generation (GDAL), the catalogue records
  (``data/*.json``), the holdings' truths, the data-folder cache

The one seam between them is the data folder itself: ``data/`` writes
``<data_dir>/catalogue.json`` (``CATALOGUE_NAME``) and its files,
``server/inventory.py`` reads them. The few constants both sides need live
here, in a module that imports nothing.

Entry points (no re-exports at the old flat paths; import these):

- ``python -m os_downloads.replica serve|generate``
- ``os_downloads.replica.server.ReplicaServer`` (tests: the ``replica`` fixture)
- ``os_downloads.replica.server.trud`` (``TRUD_API_KEY``, ``api_url``,
  ``publish_next_release``, ``restore``, ``trud_state``)
- ``os_downloads.replica.data.datadir.ensure_sample_data``
- ``os_downloads.replica.data.holdings_truth`` and ``.data.sample_holdings``
"""

from __future__ import annotations

# The one project the replica knows: its key (header ``key``, ``?key=``) and
# its secret (OAuth2 client credentials).
DEMO_API_KEY = "replica-demo-key"
DEMO_API_SECRET = "replica-demo-secret"

# The file in the data folder that says what is served (written by data/, read by server/).
CATALOGUE_NAME = "catalogue.json"
