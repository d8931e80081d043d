"""Processing provider ``os_downloads``: the engine as toolbox, modeler and qgis_process algorithms.

``provider.OSDownloadsProvider`` is registered by the plugin's ``initProcessing``.
"""
