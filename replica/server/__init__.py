"""What answers HTTP: the API, OAuth2, storage and TRUD origins, faults, the request log.

``ReplicaServer`` (``replica_server.py``) starts them all on 127.0.0.1. Reads the
data folder through ``inventory`` only; never imports ``replica.data``.
"""

from __future__ import annotations

from .replica_server import ReplicaServer

__all__ = ["ReplicaServer"]
