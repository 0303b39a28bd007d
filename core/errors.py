"""Errors that reach a user: each message says what is wrong, where, and what to do."""

from __future__ import annotations


class JourneyOpsError(Exception):
    """An error with a message fit for a user; the CLI prints it on one line and exits non-zero."""

    exit_code = 2


class StoreMissingError(JourneyOpsError):
    """The store file does not exist."""


class StoreInvalidError(JourneyOpsError):
    """The store path is a folder, or a file DuckDB cannot open as a database."""


class StoreBusyError(JourneyOpsError):
    """Another process holds the store's write lock for longer than we are willing to wait."""

    exit_code = 75  # EX_TEMPFAIL: try again later


class ContractError(JourneyOpsError):
    """An input file breaks the data contract as a whole; nothing from it is loaded."""


class ConfigError(JourneyOpsError):
    """A setting or parameter is invalid."""


class StoreDamagedError(JourneyOpsError):
    """The store's files are damaged (e.g. a corrupted write-ahead log): it cannot be opened as it is."""

    exit_code = 74  # EX_IOERR: retrying will not help; the message says what to do


class StoreWriteError(JourneyOpsError):
    """The store could not write (disk full, file-size limit); the transaction was rolled back."""

    exit_code = 74
