"""Reoffending cohort impact evaluation: the library behind the ``reoffend`` command.

This package never imports Prefect; the flows in ``flows/`` wrap it.
"""

from evaluation.errors import DataFileError, ReoffendError, SettingsError
from evaluation.load.loader import LoadReport, TableCounts, load_data

__version__ = "0.1.0"

__all__ = [
    "DataFileError",
    "LoadReport",
    "ReoffendError",
    "SettingsError",
    "TableCounts",
    "load_data",
]
