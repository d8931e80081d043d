"""``python -m os_downloads``: the command line (``core/cli/``).

The entry point, outside core/, so it may hand the command line what core/ must
not import itself: the GDAL merge of ``download --merge``.
"""

from __future__ import annotations

import sys
from typing import Any

from .core.cli.main import main
from .core.errors import ConfigurationError


def merge_writer(datasets: Any, out_path: Any) -> Any:
    """``integration.merge.merge_vector_datasets``, loaded only when ``--merge`` asks."""
    try:
        from .integration.merge import merge_vector_datasets
    except ImportError as exc:  # no GDAL / QGIS Python on this interpreter
        raise ConfigurationError(
            f"--merge needs GDAL's and QGIS's Python bindings, which could not be loaded ({exc}).",
            hint="Run the command with the Python that QGIS uses, or leave --merge out.",
        ) from None
    return merge_vector_datasets(datasets, out_path)


if __name__ == "__main__":
    sys.exit(main(merge_writer=merge_writer))
