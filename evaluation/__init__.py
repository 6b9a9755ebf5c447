"""Reoffending cohort impact evaluation: the library behind the ``reoffend`` command.

This package never imports Prefect; the flows in ``flows/`` wrap it. Importing it is cheap:
the loader (and with it polars and pyarrow) is imported only when ``load_data``,
``LoadReport`` or ``TableCounts`` is first used, so ``reoffend --help`` starts quickly.
"""

from evaluation.errors import DataFileError, ReoffendError, SettingsError

__version__ = "0.1.0"

__all__ = [
    "DataFileError",
    "LoadReport",
    "ReoffendError",
    "SettingsError",
    "TableCounts",
    "load_data",
]

_LAZY = {"LoadReport", "TableCounts", "load_data"}


def __getattr__(name: str):
    if name in _LAZY:
        from evaluation.load import loader

        return getattr(loader, name)
    raise AttributeError(f"module 'evaluation' has no attribute {name!r}")
