"""What the replica serves: sample data generated with GDAL, deterministically.

``sampledata.generate`` writes the data folder (``catalogue.json`` and
``files/``) from the catalogue records (``catalogue.py`` loading
``catalogue_products.json`` and ``catalogue_packages.json``) and the ``sample_*``
generators; ``datadir.ensure_sample_data`` caches it. Never imports ``replica.server``.
"""
