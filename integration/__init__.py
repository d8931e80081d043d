"""QGIS-bound services: settings, auth manager, network, tasks, layers, log.

Each module has one job and imports qgis; nothing here draws widgets (that is
``ui/``) and nothing here talks HTTP itself (that is ``core/``).
"""
