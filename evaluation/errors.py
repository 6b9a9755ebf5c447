"""Errors that the command line turns into one clear line and an exit code."""

from __future__ import annotations


class ReoffendError(Exception):
    """Base class: a problem the user can fix, reported without a traceback."""

    exit_code = 1


class DataFileError(ReoffendError):
    """A whole input file cannot be used (missing table or column, not UTF-8, ...)."""

    exit_code = 2

    def __init__(self, message: str, *, file: str | None = None, column: str | None = None):
        self.file = file
        self.column = column
        where = file or ""
        if column:
            where = f"{where}, column '{column}'" if where else f"column '{column}'"
        super().__init__(f"{where}: {message}" if where else message)


class SettingsError(ReoffendError, ValueError):
    """A study setting or command-line option is invalid."""

    exit_code = 2


class OutputFolderError(SettingsError):
    """The output folder is one the tool must not replace (see evaluation.files.output_folder)."""


class OutputFolderBusy(ReoffendError):
    """Another evaluation is writing the same output folder (see evaluation.files.workspace)."""

    exit_code = 2


class LibraryError(ReoffendError):
    """An evidence-library input or file cannot be used (not a partner output, malformed,
    older than the version held)."""

    exit_code = 2
