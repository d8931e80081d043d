"""Pure-Python core of OS Downloads: API clients, download engine, extraction.

Nothing here imports qgis, Qt or GDAL, so the same code runs in the plugin, in
Processing, on the command line and in tests without QGIS.
"""

__version__ = "0.1.0"
