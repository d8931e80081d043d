"""Holdings: one GeoPackage or PostGIS schema per data package, kept current by applying
change-only updates.

A *holding* is built from a package's newest full supply and kept current by
applying every change-only update (COU) after it, in order, each in one
transaction. Readers: OS MasterMap Topography Layer (GML 2.1.2 and 3.2,
gzipped chunks), AddressBase Premium (multi-record CSV) and OS NGD (CSV).
Where it lives is a store (``store.py``): ``gpkg_store`` or ``postgis_store``
(the one module that imports psycopg2, on demand).

This package is the only part of ``core/`` allowed to use GDAL's Python
bindings (``osgeo``); it writes GeoPackages with ``sqlite3`` itself and needs
none today. Nothing else in ``core/`` imports it at import time: the command
line imports ``holdings.cli`` (which is free of ``osgeo``) and that imports the
engine only inside its handlers. Talk to the rest of core only through the
client, ``core.jobs.fetch_package_version``, ``core.errors``, ``core.redact``
and ``core.manifest``, so the package moves as a whole.
"""
